namespace Nabla.Tests.Fuzz;

/// <summary>
/// Seeded generators of shapes, values and attributes. Dimensions stay small (0..5, at most
/// <see cref="MaxElements"/> elements): the harness looks for wrong results and undocumented exceptions,
/// not for the integer-overflow family of issue 9 §7, which has its own reproducers.
/// </summary>
public sealed class FuzzGen(int seed)
{
    /// <summary>Largest tensor generated.</summary>
    public const int MaxElements = 200;

    private readonly Random _rng = new(seed);

    /// <summary>Uniform in [0, n).</summary>
    public int Next(int n) => _rng.Next(n);

    /// <summary>Uniform in [lo, hi] (inclusive).</summary>
    public int Range(int lo, int hi) => _rng.Next(lo, hi + 1);

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => _rng.NextDouble() < p;

    /// <summary>One of the items.</summary>
    public T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];

    /// <summary>A dim: mostly 1..4, sometimes 0 or 5.</summary>
    public int Dim() => Pick(0, 1, 1, 2, 2, 3, 3, 4, 5);

    /// <summary>A shape of rank 0..5 with at most <see cref="MaxElements"/> elements.</summary>
    public Shape Shape(int minRank = 0, int maxRank = 5)
    {
        while (true)
        {
            var dims = Enumerable.Range(0, Range(minRank, maxRank)).Select(_ => Dim()).ToArray();
            if (dims.Aggregate(1L, (a, d) => a * d) <= MaxElements) return new Shape(dims);
        }
    }

    /// <summary>
    /// A shape that broadcasts against <paramref name="s"/> (same, fewer leading dims, some dims 1, extra
    /// leading dims), or, with probability <paramref name="pBad"/>, one that probably does not.
    /// </summary>
    public Shape BroadcastPartner(Shape s, double pBad = 0.1)
    {
        if (Chance(pBad)) return Shape();
        var dims = s.ToArray().ToList();
        switch (Next(4))
        {
            case 0: break;
            case 1: dims = dims.Skip(Range(0, dims.Count)).ToList(); break;
            case 2: for (var i = 0; i < dims.Count; i++) if (Chance(0.4)) dims[i] = 1; break;
            default: if (dims.Count < 5) dims.Insert(0, Range(1, 2)); break;
        }
        var result = new Shape(dims.ToArray());
        return result.IsFullyDefined && (long)result.Size * Math.Max(1, s.Size) <= MaxElements * 4L ? result : s;
    }

    /// <summary><paramref name="s"/> with each dim unknown (−1) with probability <paramref name="p"/>: what a placeholder declares.</summary>
    public Shape Unknowns(Shape s, double p = 0.2) => new(s.Select(d => Chance(p) ? -1 : d).ToArray());

    /// <summary>A float32-representable value: mostly in [−3, 3], sometimes 0, ±1, a tie-prone eighth, or (when <paramref name="specials"/>) NaN, ±Inf, −0.</summary>
    public double FloatValue(bool specials)
    {
        var r = _rng.NextDouble();
        if (specials && r < 0.04) return Pick(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0);
        if (r < 0.10) return Pick(0.0, 1.0, -1.0);
        if (r < 0.25) return Range(-24, 24) / 8.0;
        return (float)(_rng.NextDouble() * 6 - 3);
    }

    /// <summary>A fed tensor of <paramref name="kind"/> and <paramref name="shape"/>; ints in [<paramref name="lo"/>, <paramref name="hi"/>].</summary>
    public Tensor Value(FuzzKind kind, Shape shape, int lo = -3, int hi = 5, bool specials = false)
    {
        var n = shape.Size;
        return kind switch
        {
            FuzzKind.Float => Tensor.FromArray(Enumerable.Range(0, n).Select(_ => FloatValue(specials)).ToArray(), shape.ToArray()),
            FuzzKind.Int32 => Tensor.FromArray(Enumerable.Range(0, n).Select(_ => Range(lo, hi)).ToArray(), shape.ToArray()),
            FuzzKind.Int64 => Tensor.FromArray(Enumerable.Range(0, n).Select(_ => (long)Range(lo, hi)).ToArray(), shape.ToArray()),
            _ => Tensor.FromArray(Enumerable.Range(0, n).Select(_ => Chance(0.5)).ToArray(), shape.ToArray()),
        };
    }

    /// <summary>A placeholder input: value of the given shape, declared with some dims unknown.</summary>
    public FuzzInput Input(FuzzKind kind, Shape shape, int lo = -3, int hi = 5, bool specials = false) =>
        new(kind, Unknowns(shape), Value(kind, shape, lo, hi, specials));

    /// <summary>Mostly <paramref name="usual"/>, sometimes another kind: each op is also fed dtypes it may refuse.</summary>
    public FuzzKind Kind(FuzzKind usual = FuzzKind.Float, double pOther = 0.12) =>
        Chance(pOther) ? Pick(FuzzKind.Float, FuzzKind.Int32, FuzzKind.Int64, FuzzKind.Bool) : usual;

    /// <summary>An axis for rank <paramref name="rank"/>: mostly valid (negative too), sometimes just out of range.</summary>
    public int Axis(int rank, int extra = 0) => Chance(0.1) ? Pick(rank + extra, -rank - 1 - extra, 7) : Range(-(rank + extra), Math.Max(rank + extra - 1, -(rank + extra)));

    /// <summary>Null (all axes), or a random axis list (sometimes with duplicates or out-of-range entries).</summary>
    public int[]? Axes(int rank)
    {
        if (Chance(0.25)) return null;
        if (Chance(0.1)) return [];
        return Enumerable.Range(0, Range(1, Math.Max(1, rank))).Select(_ => Axis(rank)).Distinct().Where(_ => !Chance(0.05)).ToArray() is { Length: > 0 } a && Chance(0.95) ? a : [Axis(rank), Axis(rank)];
    }

    /// <summary>A permutation of 0..rank−1, sometimes broken (repeated or out-of-range entry, wrong length).</summary>
    public int[] Permutation(int rank)
    {
        var p = Enumerable.Range(0, rank).OrderBy(_ => _rng.Next()).ToArray();
        if (rank > 0 && Chance(0.08)) p[Next(rank)] = Pick(rank, -1, p[0]);
        if (Chance(0.04)) p = p.Append(rank).ToArray();
        return p;
    }
}
