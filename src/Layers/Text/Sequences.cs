namespace Nabla.Data;

/// <summary>Where <see cref="Sequences.PadSequences(int[][], int?, DType, PadSide, PadSide, double)"/> pads or truncates a sequence.</summary>
public enum PadSide
{
    /// <summary>At the beginning (Keras's <c>'pre'</c>, the default): padding goes in front, truncation keeps the last values.</summary>
    Pre,

    /// <summary>At the end (<c>'post'</c>): padding goes after, truncation keeps the first values.</summary>
    Post,
}

/// <summary>Sequence preparation helpers in the spirit of <c>keras.preprocessing.sequence</c>.</summary>
public static class Sequences
{
    /// <summary>
    /// Pads (or truncates) integer sequences to one length, as Keras's <c>pad_sequences</c>: a
    /// [sequences.Count, maxlen] tensor filled with <paramref name="value"/>, each sequence written at the
    /// end (<see cref="PadSide.Pre"/>) or at the start (<see cref="PadSide.Post"/>) of its row, after
    /// dropping values beyond <paramref name="maxlen"/> from its front (<paramref name="truncating"/> =
    /// <see cref="PadSide.Pre"/>) or its back.
    /// </summary>
    /// <param name="sequences">The sequences, e.g. from <see cref="Tokenizer.TextsToSequences"/>; empty ones give a row of padding.</param>
    /// <param name="maxlen">Row length, at least 1; null for the length of the longest sequence (0 when all are empty or there are none).</param>
    /// <param name="dtype">int32 (default), int64, float32 or float64.</param>
    /// <param name="padding">Where padding goes.</param>
    /// <param name="truncating">Which end loses values when a sequence is longer than <paramref name="maxlen"/>.</param>
    /// <param name="value">The padding value, converted to <paramref name="dtype"/> as NumPy converts it (towards zero for integers: 2.7 → 2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxlen"/> is below 1 (Keras fails on 0 as soon as a sequence is not empty).</exception>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> is bool, or a sequence is null.</exception>
    public static Tensor PadSequences(IReadOnlyList<IReadOnlyList<int>> sequences, int? maxlen = null, DType dtype = DType.Int32,
        PadSide padding = PadSide.Pre, PadSide truncating = PadSide.Pre, double value = 0)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (maxlen < 1) throw new ArgumentOutOfRangeException(nameof(maxlen), maxlen, "PadSequences maxlen must be at least 1, or null for the longest sequence");
        if (dtype == DType.Bool) throw new ArgumentException("PadSequences needs a numeric dtype, got bool", nameof(dtype));
        if (!Enum.IsDefined(padding)) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be Pre or Post");
        if (!Enum.IsDefined(truncating)) throw new ArgumentOutOfRangeException(nameof(truncating), truncating, "truncating must be Pre or Post");
        for (var i = 0; i < sequences.Count; i++)
            if (sequences[i] is null) throw new ArgumentException($"PadSequences: sequence {i} is null", nameof(sequences));

        var n = sequences.Count;
        var len = maxlen ?? (n == 0 ? 0 : sequences.Max(s => s.Count));
        var rows = new double[checked(n * len)];
        Array.Fill(rows, dtype.IsInteger() ? Math.Truncate(value) : value);
        for (var r = 0; r < n; r++)
        {
            var s = sequences[r];
            var keep = Math.Min(s.Count, len);
            var from = truncating == PadSide.Pre ? s.Count - keep : 0;
            var to = r * len + (padding == PadSide.Pre ? len - keep : 0);
            for (var k = 0; k < keep; k++) rows[to + k] = s[from + k];
        }
        return dtype switch
        {
            DType.Int32 => new Tensor(rows.Select(v => (int)v).ToArray(), new Shape([n, len]), DType.Int32),
            DType.Int64 => new Tensor(rows.Select(v => (long)v).ToArray(), new Shape([n, len]), DType.Int64),
            DType.Float32 => new Tensor(rows.Select(v => (float)v).ToArray(), new Shape([n, len]), DType.Float32),
            _ => new Tensor(rows, new Shape([n, len]), DType.Float64),
        };
    }

    /// <summary>Pads jagged arrays, e.g. the result of <see cref="Tokenizer.TextsToSequences"/>; see <see cref="PadSequences(IReadOnlyList{IReadOnlyList{int}}, int?, DType, PadSide, PadSide, double)"/>.</summary>
    public static Tensor PadSequences(int[][] sequences, int? maxlen = null, DType dtype = DType.Int32,
        PadSide padding = PadSide.Pre, PadSide truncating = PadSide.Pre, double value = 0)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        return PadSequences((IReadOnlyList<IReadOnlyList<int>>)sequences, maxlen, dtype, padding, truncating, value);
    }
}
