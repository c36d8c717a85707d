using System.Globalization;

namespace Nabla.Kernels.Cuda;

/// <summary>
/// A shape with the strides of the operands that walk it (1 to 3 strided operands; a contiguous output needs
/// none), collapsed on the host before a launch: dimensions of size 1 are dropped, and neighbouring
/// dimensions d, d+1 merge wherever every operand has stride[d] = stride[d+1]·shape[d+1] (contiguous runs,
/// and runs of broadcast zeros). A contiguous copy thus becomes rank 1, and a bias add [N, C] + [C] rank 2.
/// </summary>
/// <remarks>
/// The kernels take the collapsed form as one int32 array (<see cref="Packed"/>: shape, then each operand's
/// strides), so that they divide the linear index only by the dimensions that remain.
/// </remarks>
internal sealed class StridedLayout
{
    /// <summary>The largest rank a kernel takes after collapsing.</summary>
    public const int MaxRank = 8;

    private StridedLayout(int rank, long count, int[] packed)
    {
        Rank = rank;
        Count = count;
        Packed = packed;
    }

    /// <summary>Rank after collapsing (1 to <see cref="MaxRank"/>; a scalar or all-ones shape is [1]).</summary>
    public int Rank { get; }

    /// <summary>Number of elements (0 for an empty shape, when nothing is launched).</summary>
    public long Count { get; }

    /// <summary>int32 [shape[Rank], strides of operand 0 [Rank], strides of operand 1 [Rank], ...].</summary>
    public int[] Packed { get; }

    /// <summary>The collapsed layout of <paramref name="shape"/> walked by operands with the given strides (in elements).</summary>
    /// <exception cref="ArgumentException">A strides span's length differs from the shape's, a dimension is negative,
    /// the shape has more than int.MaxValue elements, or more than <see cref="MaxRank"/> dimensions remain after collapsing.</exception>
    public static StridedLayout Collapse(ReadOnlySpan<int> shape, ReadOnlySpan<int> s0, ReadOnlySpan<int> s1 = default, ReadOnlySpan<int> s2 = default, int operands = 1)
    {
        if (operands is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(operands), operands, "1 to 3 strided operands");
        Span<int> lengths = [s0.Length, s1.Length, s2.Length];
        for (var o = 0; o < operands; o++)
            if (lengths[o] != shape.Length)
                throw new ArgumentException($"operand {o} has {lengths[o]} strides for a rank-{shape.Length} shape [{Join(shape)}]", nameof(shape));

        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape [{Join(shape)}]", nameof(shape));
            count *= d;
            if (count > int.MaxValue) throw new ArgumentException($"shape [{Join(shape)}] has more than int.MaxValue elements; the element-wise kernels index in 32 bits", nameof(shape));
        }
        if (count == 0) return new StridedLayout(1, 0, new int[1 + operands]);

        // Kept dimensions, outermost first: size and strides (long, so merged products cannot overflow unnoticed).
        var sizes = new List<long>(shape.Length);
        var strides = new List<long[]>(shape.Length);
        for (var d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            var s = new long[operands];
            for (var o = 0; o < operands; o++) s[o] = (o == 0 ? s0 : o == 1 ? s1 : s2)[d];
            var last = sizes.Count - 1;
            if (last >= 0 && Mergeable(strides[last], s, shape[d]))
            {
                sizes[last] *= shape[d];
                strides[last] = s;
                continue;
            }
            sizes.Add(shape[d]);
            strides.Add(s);
        }
        if (sizes.Count == 0)
        {
            sizes.Add(1);
            strides.Add(new long[operands]);
        }
        var rank = sizes.Count;
        if (rank > MaxRank)
            throw new ArgumentException(
                $"shape [{Join(shape)}] has rank {rank} after collapsing contiguous and size-1 dimensions; the CUDA element-wise kernels take at most {MaxRank}",
                nameof(shape));

        var packed = new int[rank * (1 + operands)];
        for (var d = 0; d < rank; d++)
        {
            packed[d] = (int)sizes[d];
            for (var o = 0; o < operands; o++) packed[rank * (1 + o) + d] = checked((int)strides[d][o]);
        }
        return new StridedLayout(rank, count, packed);
    }

    /// <summary>True when every operand steps over the inner dimension exactly once per step of the outer one.</summary>
    private static bool Mergeable(long[] outer, long[] inner, int innerSize)
    {
        for (var o = 0; o < outer.Length; o++)
            if (outer[o] != inner[o] * innerSize) return false;
        return true;
    }

    private static string Join(ReadOnlySpan<int> values)
    {
        var parts = new string[values.Length];
        for (var i = 0; i < values.Length; i++) parts[i] = values[i].ToString(CultureInfo.InvariantCulture);
        return string.Join(", ", parts);
    }
}
