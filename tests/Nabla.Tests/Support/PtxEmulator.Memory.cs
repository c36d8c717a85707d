using System.Globalization;

namespace Nabla.Tests.Support;

/// <summary>
/// The emulator's global memory: separate byte arrays at device addresses from 0x7000_0000_0000 up,
/// 256-byte aligned, with an unmapped guard gap of at least 4 KiB after each, and freed addresses never
/// reused, so an access past the end of a buffer, into freed memory or through a null or host pointer
/// faults instead of landing in a neighbour.
/// </summary>
internal sealed class PtxMemory
{
    /// <summary>The first address handed out.</summary>
    public const ulong Base = 0x7000_0000_0000;

    private const ulong Guard = 4096;

    private readonly List<(ulong Start, byte[] Data)> _allocations = [];
    private ulong _next = Base;
    private int _last;
    private int _epoch;
    private readonly Dictionary<byte[], (int[] Epoch, int[] Writer)> _shadows = new(ReferenceEqualityComparer.Instance);

    /// <summary>A fresh synchronisation epoch (launch-wide unique, increasing), for the emulator's race checks.</summary>
    public int NextEpoch() => ++_epoch;

    /// <summary>Per-byte record of the last plain kernel write to an allocation: its epoch and writing thread.</summary>
    public (int[] Epoch, int[] Writer) Shadow(byte[] data)
    {
        if (!_shadows.TryGetValue(data, out var shadow))
        {
            shadow = (new int[data.Length], new int[data.Length]);
            _shadows.Add(data, shadow);
        }
        return shadow;
    }

    /// <summary>Bytes held by live allocations.</summary>
    public long BytesInUse { get; private set; }

    /// <summary>Number of live allocations.</summary>
    public int Count => _allocations.Count;

    /// <summary>Allocates <paramref name="bytes"/> (≥ 1) bytes filled with <paramref name="fill"/>.</summary>
    public ulong Allocate(ulong bytes, byte fill = 0xFF)
    {
        if (bytes == 0) throw new ArgumentOutOfRangeException(nameof(bytes), "cannot allocate 0 bytes (cuMemAlloc rejects it too)");
        if (bytes > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(bytes), $"the emulator allocates at most {int.MaxValue} bytes at a time");
        var data = new byte[bytes];
        if (fill != 0) Array.Fill(data, fill);
        var start = _next;
        _allocations.Add((start, data));
        _next = (start + bytes + Guard + 255) & ~255UL;
        BytesInUse += (long)bytes;
        return start;
    }

    /// <summary>Frees an allocation; any other address throws.</summary>
    public void Free(ulong address)
    {
        var i = IndexOfStart(address);
        if (i < 0) throw new PtxEmulatorException($"free of 0x{address:X}, which is not the start of a live allocation");
        BytesInUse -= _allocations[i].Data.Length;
        _shadows.Remove(_allocations[i].Data);
        _allocations.RemoveAt(i);
        _last = 0;
    }

    private int IndexOfStart(ulong address)
    {
        int lo = 0, hi = _allocations.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >> 1;
            var s = _allocations[mid].Start;
            if (s == address) return mid;
            if (s < address) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
    }

    /// <summary>The allocation holding [address, address + size), or false.</summary>
    public bool TryResolve(ulong address, long size, out byte[] data, out int offset)
    {
        if (_last < _allocations.Count)
        {
            var (s, d) = _allocations[_last];
            if (address >= s && address - s <= (ulong)d.Length && (ulong)d.Length - (address - s) >= (ulong)size)
            {
                data = d;
                offset = (int)(address - s);
                return true;
            }
        }
        int lo = 0, hi = _allocations.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >> 1;
            if (_allocations[mid].Start <= address) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found >= 0)
        {
            var (s, d) = _allocations[found];
            if (address - s <= (ulong)d.Length && (ulong)d.Length - (address - s) >= (ulong)size)
            {
                _last = found;
                data = d;
                offset = (int)(address - s);
                return true;
            }
        }
        data = [];
        offset = 0;
        return false;
    }

    /// <summary>The bytes [address, address + size) of one allocation, or a <see cref="PtxEmulatorException"/> naming <paramref name="what"/>.</summary>
    public Span<byte> Span(ulong address, long size, string what)
    {
        if (size == 0) return [];
        if (!TryResolve(address, size, out var data, out var offset)) throw new PtxEmulatorException($"{what}: [0x{address:X}, +{size}) {Describe(address)}");
        return data.AsSpan(offset, (int)size);
    }

    /// <summary>Where an address lies relative to the allocations, for fault messages.</summary>
    public string Describe(ulong address)
    {
        (ulong Start, byte[] Data)? below = null;
        foreach (var a in _allocations) if (a.Start <= address) below = a;
        if (below is { } b)
        {
            var end = b.Start + (ulong)b.Data.Length;
            return address < end
                ? $"runs past the end of allocation 0x{b.Start:X} (+{b.Data.Length} bytes)"
                : $"is {(address - end).ToString(CultureInfo.InvariantCulture)} bytes past the end of allocation 0x{b.Start:X} (+{b.Data.Length} bytes)";
        }
        return address < Base ? "is below every device allocation (a null, host or shared/local-space address?)" : "is in no live allocation";
    }
}
