namespace Nabla.Tests.Support;

// Shared-memory race detection of PtxExecution.
internal sealed partial class PtxExecution
{
    // Per shared byte: the epoch and thread of its last plain write and of its readers in that epoch.
    // An epoch is the span between two barrier releases of one block; epochs only grow during a launch,
    // so the tables never need clearing. Reader -2 means "more than one thread".
    private int[] _writeEpoch = [], _writer = [], _readEpoch = [], _reader = [];
    private int _epoch, _firstEpoch;
    private byte[]? _shadowData;
    private (int[] Epoch, int[] Writer) _shadow;

    /// <summary>
    /// Checks a plain (non-atomic) shared access of <paramref name="t"/> against the other threads' accesses
    /// since the last barrier: a read of a byte another thread wrote (RAW), a write of a byte another thread
    /// read (WAR) or wrote (WAW), unless the write leaves the byte unchanged, is a data race, which the hardware may resolve
    /// either way, so it throws. Threads run one at a time here, so without this check a missing bar.sync
    /// would go unnoticed whenever the scheduling order happened to suit it.
    /// </summary>
    /// <remarks>Warp shuffles and votes do not order memory, so they do not end an epoch. Atomics are not checked.</remarks>
    private void CheckRace(PtxInstr i, int t, int offset, int size, bool write, ReadOnlySpan<byte> newValue)
    {
        if (_writeEpoch.Length < _shared.Length)
        {
            _writeEpoch = new int[_shared.Length];
            _writer = new int[_shared.Length];
            _readEpoch = new int[_shared.Length];
            _reader = new int[_shared.Length];
        }
        for (var k = offset; k < offset + size; k++)
        {
            var written = _writeEpoch[k] == _epoch && _writer[k] != t;
            if (!write)
            {
                if (written) throw Race(i, t, k, $"reads shared byte {k}, which thread {_writer[k]} wrote");
                if (_readEpoch[k] != _epoch) { _readEpoch[k] = _epoch; _reader[k] = t; }
                else if (_reader[k] != t) _reader[k] = -2;
                continue;
            }
            // Writing the value a byte already holds is benign: every outcome of the race is the same.
            var changes = _shared[k] != newValue[k - offset];
            if (written && changes) throw Race(i, t, k, $"overwrites shared byte {k}, which thread {_writer[k]} wrote, with another value");
            if (changes && _readEpoch[k] == _epoch && _reader[k] != t) throw Race(i, t, k, $"changes shared byte {k}, which {(_reader[k] == -2 ? "other threads" : $"thread {_reader[k]}")} read");
            _writeEpoch[k] = _epoch;
            _writer[k] = t;
        }
    }

    private PtxEmulatorException Race(PtxInstr i, int t, int k, string what) =>
        Fault(i, t, $"shared-memory data race: it {what} since the last barrier (a missing bar.sync?)");

    /// <summary>
    /// Checks a plain global store for a write-write race: a byte that another thread wrote earlier in this
    /// launch, unordered with this write (a different block, or the same block with no barrier between),
    /// and now changed to another value. Such writes land in an order the hardware does not define, which is
    /// the bug of an accumulation that needed atom/red. Reads are not tracked.
    /// </summary>
    private void CheckGlobalWrite(PtxInstr i, int t, byte[] data, int offset, ulong address, ReadOnlySpan<byte> newValue)
    {
        if (!ReferenceEquals(data, _shadowData))
        {
            _shadow = _memory.Shadow(data);
            _shadowData = data;
        }
        var (epoch, writer) = _shadow;
        var block = (int)(((long)_cz * _grid.Y + _cy) * _grid.X + _cx);
        var me = block * _n + t;
        for (var k = 0; k < newValue.Length; k++)
        {
            var o = offset + k;
            if (epoch[o] >= _firstEpoch && writer[o] != me && data[o] != newValue[k])
            {
                var other = writer[o];
                var ordered = other / _n == block && epoch[o] < _epoch;
                if (!ordered)
                    throw Fault(i, t, $"global-memory data race: it changes byte 0x{address + (ulong)k:X}, which thread {other % _n} of block {other / _n} " +
                        "(linear index) wrote earlier in this launch with no barrier between; several threads writing one element need atom/red");
            }
            epoch[o] = _epoch;
            writer[o] = me;
        }
    }
}
