namespace Nabla.Kernels.Reference;

public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    /// <remarks>Floats: <see cref="ReferenceMath.Unary"/>. Integers: Neg, Abs, Sign and Square, in
    /// two's complement (−MIN = |MIN| = MIN, squares wrap). Bool: LogicalNot only.</remarks>
    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y)
    {
        var kind = KindOf(x);
        if (kind == Kind.Bool && op != UnaryOp.LogicalNot || kind != Kind.Bool && op == UnaryOp.LogicalNot)
            throw new NotSupportedException($"Unary {op} is not defined for {x.DType.Name()}");
        if (kind == Kind.Integer && op is not (UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Sign or UnaryOp.Square))
            throw new NotSupportedException($"Unary {op} is not defined for integers");
        for (var i = 0; i < x.Length; i++)
        {
            switch (kind)
            {
                case Kind.Float: SetF(y, i, ReferenceMath.Unary(op, F(x, i))); break;
                case Kind.Bool: SetB(y, i, !B(x, i)); break;
                default:
                    var v = I(x, i);
                    // Computed in long; SetI keeps the low 32 bits for int32, which is the wrapped int32 result.
                    // For int64, −MIN overflows back to MIN, the two's-complement answer.
                    SetI(y, i, op switch
                    {
                        UnaryOp.Neg => unchecked(-v),
                        UnaryOp.Abs => v < 0 ? unchecked(-v) : v,
                        UnaryOp.Sign => v > 0 ? 1 : v < 0 ? -1 : 0,
                        _ => unchecked(v * v),
                    });
                    break;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Floats: <see cref="ReferenceMath.Binary"/> and <see cref="ReferenceMath.Compare{T}"/>.
    /// Integers: <see cref="ReferenceMath.IntegerBinary"/> (x / 0 = 0) and the comparisons; no Pow.
    /// Bool: LogicalAnd, LogicalOr, LogicalXor, Equal and NotEqual.</remarks>
    public void Binary(BinaryOp op, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        var kind = KindOf(a.Buffer);
        var comparison = op is BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessEqual or BinaryOp.Greater or BinaryOp.GreaterEqual;
        var logical = op is BinaryOp.LogicalAnd or BinaryOp.LogicalOr or BinaryOp.LogicalXor;
        if (kind == Kind.Bool ? !(logical || op is BinaryOp.Equal or BinaryOp.NotEqual) : logical || kind == Kind.Integer && op == BinaryOp.Pow)
            throw new NotSupportedException($"Binary {op} is not defined for {a.Buffer.DType.Name()}");
        var n = Count(shape);
        for (var k = 0; k < n; k++)
        {
            int ia = At(a, shape, k), ib = At(b, shape, k);
            if (kind == Kind.Bool)
            {
                bool p = B(a.Buffer, ia), q = B(b.Buffer, ib);
                SetB(y, k, op switch
                {
                    BinaryOp.LogicalAnd => p && q,
                    BinaryOp.LogicalOr => p || q,
                    BinaryOp.Equal => p == q,
                    _ => p != q,
                });
            }
            else if (kind == Kind.Float)
            {
                double p = F(a.Buffer, ia), q = F(b.Buffer, ib);
                if (comparison) SetB(y, k, ReferenceMath.Compare(op, p, q));
                else SetF(y, k, ReferenceMath.Binary(op, p, q));
            }
            else
            {
                long p = I(a.Buffer, ia), q = I(b.Buffer, ib);
                if (comparison) SetB(y, k, ReferenceMath.Compare(op, p, q));
                else SetI(y, k, ReferenceMath.IntegerBinary(op, p, q));
            }
        }
    }

    /// <inheritdoc/>
    public void Select(StridedView cond, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        var n = Count(shape);
        for (var k = 0; k < n; k++)
        {
            var chosen = B(cond.Buffer, At(cond, shape, k)) ? a : b;
            var i = At(chosen, shape, k);
            switch (KindOf(y))
            {
                case Kind.Float: SetF(y, k, F(chosen.Buffer, i)); break;
                case Kind.Integer: SetI(y, k, I(chosen.Buffer, i)); break;
                default: SetB(y, k, B(chosen.Buffer, i)); break;
            }
        }
    }
}
