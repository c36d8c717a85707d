using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Nabla.Tests.Support;

/// <summary>
/// One launch: the grid's blocks in order (x fastest, then y, then z); in each block the threads are
/// cooperative coroutines. Every ready thread runs until it reaches bar.sync, shfl.sync or vote.sync,
/// or exits; then warp collectives whose members (the non-exited lanes of membermask) have all arrived
/// at the same instruction execute together, and a barrier releases when every non-exited thread of
/// the block waits at it. A state from which nothing can proceed is a deadlock and throws.
/// </summary>
/// <remarks>
/// Registers, shared and local memory start poisoned (0xFF bytes, register pattern 0xCDCD...) so reads
/// of uninitialised state show; reading a register that still holds the poison throws. Shared memory lives at state-space addresses [0, size) and at the generic
/// window <see cref="SharedWindow"/>; each thread's local memory at [0, LocalBytes) and <see cref="LocalWindow"/>.
/// </remarks>
internal sealed partial class PtxExecution
{
    public const ulong SharedWindow = 0x5000_0000_0000;
    public const ulong LocalWindow = 0x6000_0000_0000;
    private const ulong WindowSize = 0x0100_0000_0000;
    private const ulong RegisterPoison = 0xCDCD_CDCD_CDCD_CDCD;

    private const byte Ready = 0, AtBarrier = 1, AtWarp = 2, Exited = 3;

    private readonly string _module;
    private readonly PtxKernel _k;
    private readonly PtxMemory _memory;
    private readonly (uint X, uint Y, uint Z) _grid;
    private readonly int _n;
    private readonly byte[] _param;
    private readonly ulong[] _r;
    private readonly int[] _pc;
    private readonly byte[] _state;
    private readonly byte[] _shared;
    private readonly byte[] _local;
    private readonly int _file;
    private long _budget;
    private uint _cx, _cy, _cz;
    private int _atWarp, _atBarrier, _exited, _block;

    public PtxExecution(string module, PtxKernel kernel, PtxMemory memory, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, byte[] param, long budget)
    {
        _module = module;
        _k = kernel;
        _memory = memory;
        _grid = grid;
        _n = (int)block;
        _param = param;
        _file = kernel.FileSize;
        _r = new ulong[(long)_n * _file];
        _pc = new int[_n];
        _state = new byte[_n];
        _shared = new byte[kernel.DynamicSharedOffset + (int)sharedBytes];
        _local = new byte[(long)_n * kernel.LocalBytes];
        _budget = budget;
    }

    /// <summary>Whether plain shared-memory accesses are checked for data races (<see cref="CheckRace"/>).</summary>
    public bool RaceCheck { get; init; } = true;

    /// <summary>Whether plain global stores are checked for write-write races (<see cref="CheckGlobalWrite"/>).</summary>
    public bool GlobalRaceCheck { get; init; } = true;

    /// <summary>Instructions executed so far.</summary>
    public long Executed { get; private set; }

    public void Run()
    {
        InitRegisters();
        _firstEpoch = _memory.NextEpoch();
        for (uint z = 0; z < _grid.Z; z++)
            for (uint y = 0; y < _grid.Y; y++)
                for (uint x = 0; x < _grid.X; x++)
                {
                    (_cx, _cy, _cz) = (x, y, z);
                    RunBlock();
                }
    }

    /// <summary>Register files of every thread: poison, then the special registers and immediates, which no instruction can write.</summary>
    private void InitRegisters()
    {
        Array.Fill(_r, RegisterPoison);
        var sb = _k.SpecialBase;
        for (var t = 0; t < _n; t++)
        {
            var b = t * _file;
            _r[b + sb + 0] = (uint)t;
            _r[b + sb + 1] = 0;
            _r[b + sb + 2] = 0;
            _r[b + sb + 3] = (uint)_n;
            _r[b + sb + 4] = 1;
            _r[b + sb + 5] = 1;
            _r[b + sb + 9] = _grid.X;
            _r[b + sb + 10] = _grid.Y;
            _r[b + sb + 11] = _grid.Z;
            _r[b + sb + 12] = (uint)(t & 31);
            _r[b + sb + 13] = (uint)(t >> 5);
            var lane = t & 31;
            _r[b + sb + 14] = 1u << lane;
            _r[b + sb + 15] = (1u << lane) - 1;
            _r[b + sb + 16] = (uint)((2UL << lane) - 1);
            _r[b + sb + 17] = ~(uint)((2UL << lane) - 1);
            _r[b + sb + 18] = ~((1u << lane) - 1);
            _k.Constants.AsSpan().CopyTo(_r.AsSpan(b + sb + PtxKernel.SpecialCount, _k.Constants.Length));
        }
    }

    private void RunBlock()
    {
        // Declared registers, shared and local memory are poisoned afresh, so that a read of a register
        // no instruction wrote is caught (it holds RegisterPoison) and unwritten memory reads as NaN / -1.
        if (_block++ > 0)
            for (var t = 0; t < _n; t++) _r.AsSpan(t * _file, _k.RegisterCount).Fill(RegisterPoison);
        if (_shared.Length > 0) _shared.AsSpan().Fill(0xFF);
        if (_local.Length > 0) _local.AsSpan().Fill(0xFF);
        Array.Clear(_pc);
        Array.Clear(_state);
        _atWarp = _atBarrier = _exited = 0;
        _epoch = _memory.NextEpoch();
        var sb = _k.SpecialBase;
        for (var t = 0; t < _n; t++)
        {
            var b = t * _file;
            _r[b + sb + 6] = _cx;
            _r[b + sb + 7] = _cy;
            _r[b + sb + 8] = _cz;
        }
        while (true)
        {
            for (var t = 0; t < _n; t++)
                if (_state[t] == Ready) RunThread(t);
            if (_exited == _n) return;
            if (_atWarp > 0 && ResolveWarps()) continue;
            if (_atBarrier + _exited == _n && ReleaseBarrier()) continue;
            throw Deadlock();
        }
    }

    private bool ReleaseBarrier()
    {
        var first = -1;
        for (var t = 0; t < _n; t++)
        {
            if (_state[t] != AtBarrier) continue;
            if (first < 0) { first = t; continue; }
            PtxInstr a = _k.Code[_pc[first]], b = _k.Code[_pc[t]];
            if ((uint)_r[first * _file + a.A] != (uint)_r[t * _file + b.A]) return false;
            if (a != b && (a.Aligned || b.Aligned))
                throw Fault(b, t, $"an aligned barrier (bar.sync, barrier.sync.aligned) must be reached by every thread at the same instruction, " +
                    $"but thread {first} waits at line {a.Line} and thread {t} at line {b.Line}; use barrier.sync or make the branch uniform");
        }
        for (var t = 0; t < _n; t++)
        {
            if (_state[t] != AtBarrier) continue;
            _state[t] = Ready;
            _pc[t]++;
        }
        _atBarrier = 0;
        _epoch = _memory.NextEpoch();
        return true;
    }

    private PtxEmulatorException Deadlock()
    {
        var groups = Enumerable.Range(0, _n).Where(t => _state[t] != Exited)
            .GroupBy(t => (_state[t], _pc[t]))
            .Select(g => $"{g.Count()} thread(s) (first tid {g.First()}) wait at line {_k.Code[g.Key.Item2].Line} '{_k.Code[g.Key.Item2].Text}'");
        var exited = _state.Count(s => s == Exited);
        return new PtxEmulatorException($"{Where()}: deadlock: {string.Join("; ", groups)}; {exited} thread(s) exited");
    }

    private string Where() => $"kernel {_module}:{_k.Name} block ({_cx},{_cy},{_cz})";

    private PtxEmulatorException Fault(PtxInstr i, int t, string what) =>
        new($"{Where()} thread {t}, line {i.Line} '{i.Text}': {what}");

    /// <summary>Executes warp collectives whose members all arrived; true if any did.</summary>
    private bool ResolveWarps()
    {
        var progress = false;
        for (var w = 0; w * 32 < _n; w++)
        {
            var lo = w * 32;
            var hi = Math.Min(_n, lo + 32);
            for (var t = lo; t < hi; t++)
            {
                if (_state[t] != AtWarp) continue;
                var i = _k.Code[_pc[t]];
                var mask = (uint)_r[t * _file + i.E];
                if ((mask & (1u << (t - lo))) == 0) throw Fault(i, t, $"the executing lane {t - lo} is not in membermask 0x{mask:X8}");
                var members = 0u;
                var complete = true;
                for (var lane = 0; lane < 32; lane++)
                {
                    if ((mask & (1u << lane)) == 0) continue;
                    var u = lo + lane;
                    if (u >= hi || _state[u] == Exited) continue;
                    if (_state[u] != AtWarp || _pc[u] != _pc[t]) { complete = false; break; }
                    if ((uint)_r[u * _file + i.E] != mask) throw Fault(i, u, $"lanes of one {i.Op.ToString().ToLowerInvariant()}.sync disagree on membermask (0x{mask:X8} and 0x{(uint)_r[u * _file + i.E]:X8})");
                    members |= 1u << lane;
                }
                if (!complete) continue;
                if (i.Op == PtxOp.Shfl) Shuffle(i, lo, members);
                else Vote(i, lo, members);
                for (var lane = 0; lane < 32; lane++)
                {
                    if ((members & (1u << lane)) == 0) continue;
                    _state[lo + lane] = Ready;
                    _pc[lo + lane]++;
                    _atWarp--;
                }
                progress = true;
            }
        }
        return progress;
    }

    private void Shuffle(PtxInstr i, int lo, uint members)
    {
        Span<ulong> values = stackalloc ulong[32];
        for (var lane = 0; lane < 32; lane++)
            if ((members & (1u << lane)) != 0) values[lane] = (uint)_r[(lo + lane) * _file + i.A];
        for (var lane = 0; lane < 32; lane++)
        {
            if ((members & (1u << lane)) == 0) continue;
            var b = (lo + lane) * _file;
            var bval = (int)((uint)_r[b + i.B] & 0x1F);
            var c = (uint)_r[b + i.C];
            int cval = (int)(c & 0x1F), segmask = (int)((c >> 8) & 0x1F);
            var maxLane = (lane & segmask) | (cval & ~segmask);
            var minLane = lane & segmask;
            int j;
            bool pval;
            switch (i.Mode)
            {
                case 0: j = lane - bval; pval = j >= maxLane; break;
                case 1: j = lane + bval; pval = j <= maxLane; break;
                case 2: j = lane ^ bval; pval = j <= maxLane; break;
                default: j = minLane | (bval & ~segmask); pval = j <= maxLane; break;
            }
            if (!pval) j = lane;
            if ((members & (1u << j)) == 0)
                throw Fault(i, lo + lane, $"lane {lane} reads lane {j}, which is not an active member (membermask 0x{(uint)_r[b + i.E]:X8}, exited or outside the block): the value is undefined");
            _r[b + i.D] = values[j];
            if (i.D2 >= 0) _r[b + i.D2] = pval ? 1UL : 0UL;
        }
    }

    private void Vote(PtxInstr i, int lo, uint members)
    {
        uint ballot = 0;
        for (var lane = 0; lane < 32; lane++)
        {
            if ((members & (1u << lane)) == 0) continue;
            var p = _r[(lo + lane) * _file + i.A] != 0;
            if (p != i.NegC) ballot |= 1u << lane;
        }
        ulong result = i.Mode switch
        {
            0 => ballot == members ? 1UL : 0UL,
            1 => ballot != 0 ? 1UL : 0UL,
            2 => ballot == members || ballot == 0 ? 1UL : 0UL,
            _ => ballot,
        };
        for (var lane = 0; lane < 32; lane++)
            if ((members & (1u << lane)) != 0) _r[(lo + lane) * _file + i.D] = result;
    }

    /// <summary>Resolves an address to (array, offset) in its state space, checking bounds and alignment.</summary>
    /// <summary>How an access uses memory (for the shared-memory race check).</summary>
    private enum AccessKind { Read, Write, Atomic }

    private Span<byte> Access(PtxInstr i, int t, PtxSpace space, ulong address, int size, int align, AccessKind kind, ReadOnlySpan<byte> newValue)
    {
        if (address % (ulong)align != 0) throw Fault(i, t, $"misaligned {size}-byte access at 0x{address:X} ({space.ToString().ToLowerInvariant()}; needs {align}-byte alignment)");
        switch (space)
        {
            case PtxSpace.Global:
                if (!_memory.TryResolve(address, size, out var data, out var offset))
                    throw Fault(i, t, $"global access of {size} bytes at 0x{address:X} {_memory.Describe(address)}");
                if (kind == AccessKind.Write && GlobalRaceCheck) CheckGlobalWrite(i, t, data, offset, address, newValue);
                return data.AsSpan(offset, size);
            case PtxSpace.Shared:
                if (address >= (ulong)_shared.Length || (ulong)_shared.Length - address < (ulong)size || (long)address < i.SymLo || (long)address + size > i.SymHi)
                    throw Fault(i, t, $"shared access of {size} bytes at 0x{address:X} outside the block's {_shared.Length} bytes of shared memory (static {_k.StaticSharedBytes}, dynamic {_shared.Length - _k.DynamicSharedOffset}){SymbolNote(i)}");
                if (kind != AccessKind.Atomic && RaceCheck) CheckRace(i, t, (int)address, size, kind == AccessKind.Write, newValue);
                return _shared.AsSpan((int)address, size);
            case PtxSpace.Local:
                if (address >= (ulong)_k.LocalBytes || (ulong)_k.LocalBytes - address < (ulong)size || (long)address < i.SymLo || (long)address + size > i.SymHi)
                    throw Fault(i, t, $"local access of {size} bytes at 0x{address:X} outside the thread's {_k.LocalBytes} bytes of local memory{SymbolNote(i)}");
                return _local.AsSpan(t * _k.LocalBytes + (int)address, size);
            case PtxSpace.Param:
                if (address >= (ulong)_param.Length || (ulong)_param.Length - address < (ulong)size || (long)address < i.SymLo || (long)address + size > i.SymHi)
                    throw Fault(i, t, $"param access of {size} bytes at offset {address} outside {(i.SymHi == long.MaxValue ? $"the {_param.Length} parameter bytes" : $"parameter bytes [{i.SymLo}, {i.SymHi})")}");
                return _param.AsSpan((int)address, size);
            default:
                if (address - SharedWindow < WindowSize) return Access(i, t, PtxSpace.Shared, address - SharedWindow, size, align, kind, newValue);
                if (address - LocalWindow < WindowSize) return Access(i, t, PtxSpace.Local, address - LocalWindow, size, align, kind, newValue);
                return Access(i, t, PtxSpace.Global, address, size, align, kind, newValue);
        }
    }

    private static string SymbolNote(PtxInstr i) => i.SymHi == long.MaxValue ? "" : $" (the variable spans [{i.SymLo}, {i.SymHi}))";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read(Span<byte> s) => s.Length switch
    {
        1 => s[0],
        2 => MemoryMarshal.Read<ushort>(s),
        4 => MemoryMarshal.Read<uint>(s),
        _ => MemoryMarshal.Read<ulong>(s),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write(Span<byte> s, ulong v)
    {
        switch (s.Length)
        {
            case 1: s[0] = (byte)v; break;
            case 2: MemoryMarshal.Write(s, (ushort)v); break;
            case 4: MemoryMarshal.Write(s, (uint)v); break;
            default: MemoryMarshal.Write(s, v); break;
        }
    }
}
