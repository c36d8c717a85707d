namespace Nabla.Kernels.Reference;

public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    /// <remarks>Floats: left-to-right Σ, Σ / n, Π, and max / min that are NaN when any element is NaN;
    /// an empty axis gives 0, NaN, 1, −∞ and +∞. Integers: Σ and Π wrap, max / min of an empty axis are
    /// the type's MIN / MAX, no mean. ArgMax / ArgMin: the first extreme element, a NaN counting as the
    /// extreme (the first NaN wins); 0 for an empty axis.</remarks>
    public void Reduce(ReduceOp op, DeviceBuffer x, int outer, int reduce, int inner, DeviceBuffer y)
    {
        var kind = KindOf(x);
        if (kind == Kind.Bool || kind == Kind.Integer && op == ReduceOp.Mean)
            throw new NotSupportedException($"Reduce {op} is not defined for {x.DType.Name()}");
        for (var o = 0; o < outer; o++)
            for (var i = 0; i < inner; i++)
            {
                // Element r of this output's reduced axis.
                int Element(int r) => (o * reduce + r) * inner + i;
                var outIndex = o * inner + i;
                if (op is ReduceOp.ArgMax or ReduceOp.ArgMin)
                    SetI(y, outIndex, ArgExtreme(op == ReduceOp.ArgMax, x, kind, reduce, Element));
                else if (kind == Kind.Float)
                    SetF(y, outIndex, FloatReduce(op, x, reduce, Element));
                else
                    SetI(y, outIndex, IntegerReduce(op, x, reduce, Element, x.DType == DType.Int32));
            }
    }

    private static double FloatReduce(ReduceOp op, DeviceBuffer x, int reduce, Func<int, int> at)
    {
        double acc = op switch { ReduceOp.Max => double.NegativeInfinity, ReduceOp.Min => double.PositiveInfinity, ReduceOp.Prod => 1, _ => 0 };
        for (var r = 0; r < reduce; r++)
        {
            var v = F(x, at(r));
            acc = op switch
            {
                ReduceOp.Max => ReferenceMath.Maximum(acc, v),
                ReduceOp.Min => ReferenceMath.Minimum(acc, v),
                ReduceOp.Prod => acc * v,
                _ => acc + v,
            };
        }
        return op == ReduceOp.Mean ? acc / reduce : acc;
    }

    private static long IntegerReduce(ReduceOp op, DeviceBuffer x, int reduce, Func<int, int> at, bool int32)
    {
        long acc = op switch
        {
            ReduceOp.Max => int32 ? int.MinValue : long.MinValue,
            ReduceOp.Min => int32 ? int.MaxValue : long.MaxValue,
            ReduceOp.Prod => 1,
            _ => 0,
        };
        // Σ and Π in long keep the low 32 bits of the int32 answer exact, so SetI's truncation is the wrapped int32 result.
        for (var r = 0; r < reduce; r++)
            acc = ReferenceMath.IntegerBinary(op switch
            {
                ReduceOp.Max => BinaryOp.Maximum,
                ReduceOp.Min => BinaryOp.Minimum,
                ReduceOp.Prod => BinaryOp.Mul,
                _ => BinaryOp.Add,
            }, acc, I(x, at(r)));
        return acc;
    }

    private static long ArgExtreme(bool max, DeviceBuffer x, Kind kind, int reduce, Func<int, int> at)
    {
        var best = 0;
        for (var r = 1; r < reduce; r++)
        {
            bool better;
            if (kind == Kind.Float)
            {
                double b = F(x, at(best)), v = F(x, at(r));
                if (double.IsNaN(b)) break;
                better = double.IsNaN(v) || (max ? v > b : v < b);
            }
            else
            {
                long b = I(x, at(best)), v = I(x, at(r));
                better = max ? v > b : v < b;
            }
            if (better) best = r;
        }
        return best;
    }

    /// <summary>A class id from an int32 or int64 label buffer; −1 (out of range) when it does not fit an int.</summary>
    private static int Label(DeviceBuffer labels, int r)
    {
        var v = I(labels, r);
        return v is < int.MinValue or > int.MaxValue ? -1 : (int)v;
    }

    /// <inheritdoc/>
    public void Gather(DeviceBuffer src, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst)
    {
        var n = indices.Length;
        for (var o = 0; o < outer; o++)
            for (var j = 0; j < n; j++)
            {
                var k = I(indices, j);
                var inRange = k >= 0 && k < axisDim;
                for (var i = 0; i < inner; i++)
                {
                    var d = (o * n + j) * inner + i;
                    // An out-of-range index reads zeros; the engine's checks fail the run.
                    var s = inRange ? (int)((o * axisDim + k) * inner + i) : -1;
                    switch (KindOf(src))
                    {
                        case Kind.Float: SetF(dst, d, inRange ? F(src, s) : 0); break;
                        case Kind.Integer: SetI(dst, d, inRange ? I(src, s) : 0); break;
                        default: SetB(dst, d, inRange && B(src, s)); break;
                    }
                }
            }
    }

    /// <inheritdoc/>
    public void ScatterAdd(DeviceBuffer updates, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst)
    {
        if (KindOf(dst) == Kind.Bool) throw new NotSupportedException("ScatterAdd is not defined for bool");
        var n = indices.Length;
        for (var o = 0; o < outer; o++)
            for (var j = 0; j < n; j++)
            {
                var k = I(indices, j);
                // An out-of-range index is skipped; the engine's checks fail the run.
                if (k < 0 || k >= axisDim) continue;
                for (var i = 0; i < inner; i++)
                {
                    int s = (o * n + j) * inner + i, d = (int)((o * axisDim + k) * inner + i);
                    if (KindOf(dst) == Kind.Float) SetF(dst, d, F(dst, d) + F(updates, s));
                    else SetI(dst, d, unchecked(I(dst, d) + I(updates, s)));
                }
            }
    }
}
