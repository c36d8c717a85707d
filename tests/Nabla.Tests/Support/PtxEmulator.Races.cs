namespace Nabla.Tests.Support;

// Shared-memory race detection of PtxExecution.
internal sealed partial class PtxExecution
{
    // Per shared byte: the epoch and thread of its last plain write and of its readers in that epoch.
    // An epoch is the span between two barrier releases of one block; epochs only grow during a launch,
    // so the tables never need clearing. Reader -2 means "more than one thread".
    private int[] _writeEpoch = [], _writer = [], _readEpoch = [], _reader = [];
    private int _epoch;

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
}
