using System.Numerics;

namespace Nabla.Kernels;

/// <summary>
/// Shared body of the two host backends: storage mapping, copies, casts, broadcasting element-wise
/// loops, gathers and random numbers. Subclasses choose the floating storage type and override the
/// kernels they accelerate.
/// </summary>
public abstract class HostBackend : IBackend
{
    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <summary>The storage dtype of a logical dtype (the reference backend stores every float as float64).</summary>
    protected abstract DType StorageOf(DType dtype);

    /// <inheritdoc/>
    public DeviceBuffer Allocate(DType dtype, int length) => new HostBuffer(dtype, StorageOf(dtype).NewArray(length));

    /// <summary>The host storage of a buffer created by this backend.</summary>
    protected static HostBuffer H(DeviceBuffer b) => (HostBuffer)b;

    /// <inheritdoc/>
    public void Upload(Array host, DeviceBuffer dst)
    {
        var data = H(dst).Data;
        if (data.GetType() == host.GetType()) Array.Copy(host, data, host.Length);
        else ConvertArray(host, data);
    }

    /// <inheritdoc/>
    public void Download(DeviceBuffer src, Array host)
    {
        var data = H(src).Data;
        if (data.GetType() == host.GetType()) Array.Copy(data, host, data.Length);
        else ConvertArray(data, host);
    }

    /// <inheritdoc/>
    public double[] ReadFloat64(DeviceBuffer src)
    {
        var r = new double[src.Length];
        ConvertArray(H(src).Data, r);
        return r;
    }

    /// <inheritdoc/>
    public void WriteFloat64(ReadOnlySpan<double> src, DeviceBuffer dst) => ConvertArray(src.ToArray(), H(dst).Data);

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, double value)
    {
        switch (H(dst).Data)
        {
            case float[] f: Array.Fill(f, (float)value); break;
            case double[] d: Array.Fill(d, value); break;
            // Saturating: (long)9.2e18 would wrap to long.MinValue on x64.
            case int[] i: Array.Fill(i, int.CreateSaturating(value)); break;
            case long[] l: Array.Fill(l, long.CreateSaturating(value)); break;
            case bool[] b: Array.Fill(b, value != 0); break;
        }
    }

    /// <inheritdoc/>
    public void Copy(StridedView src, StridedView dst, ReadOnlySpan<int> shape)
    {
        switch (H(src.Buffer).Data)
        {
            case float[] f: StridedLoops.Copy(f, src.Offset, src.Strides, H(dst.Buffer).Array<float>(), dst.Offset, dst.Strides, shape); break;
            case double[] d: StridedLoops.Copy(d, src.Offset, src.Strides, H(dst.Buffer).Array<double>(), dst.Offset, dst.Strides, shape); break;
            case int[] i: StridedLoops.Copy(i, src.Offset, src.Strides, H(dst.Buffer).Array<int>(), dst.Offset, dst.Strides, shape); break;
            case long[] l: StridedLoops.Copy(l, src.Offset, src.Strides, H(dst.Buffer).Array<long>(), dst.Offset, dst.Strides, shape); break;
            case bool[] b: StridedLoops.Copy(b, src.Offset, src.Strides, H(dst.Buffer).Array<bool>(), dst.Offset, dst.Strides, shape); break;
        }
    }

    /// <inheritdoc/>
    public void Cast(DeviceBuffer src, DeviceBuffer dst) => ConvertArray(H(src).Data, H(dst).Data);

    /// <summary>Element-wise conversion between storage arrays: floats to ints truncate toward zero (saturating, NaN → 0); nonzero → true.</summary>
    protected static void ConvertArray(Array from, Array to)
    {
        switch (from)
        {
            case float[] f: ConvertFrom(f, to); break;
            case double[] d: ConvertFrom(d, to); break;
            case int[] i: ConvertFrom(i, to); break;
            case long[] l: ConvertFrom(l, to); break;
            case bool[] b when to is float[] f:
                // The hot path of dropout masks and relu gradients: .NET stores bool as one byte holding 0 or 1.
                System.Numerics.Tensors.TensorPrimitives.ConvertChecked<byte, float>(System.Runtime.InteropServices.MemoryMarshal.Cast<bool, byte>(b), f);
                break;
            case bool[] b:
                var asInt = new int[b.Length];
                for (var k = 0; k < b.Length; k++) asInt[k] = b[k] ? 1 : 0;
                ConvertFrom(asInt, to);
                break;
        }
    }

    private static void ConvertFrom<T>(T[] from, Array to) where T : INumber<T>
    {
        switch (to)
        {
            case float[] f: for (var k = 0; k < from.Length; k++) f[k] = float.CreateSaturating(from[k]); break;
            case double[] d: for (var k = 0; k < from.Length; k++) d[k] = double.CreateSaturating(from[k]); break;
            case int[] i: for (var k = 0; k < from.Length; k++) i[k] = T.IsNaN(from[k]) ? 0 : int.CreateSaturating(from[k]); break;
            case long[] l: for (var k = 0; k < from.Length; k++) l[k] = T.IsNaN(from[k]) ? 0 : long.CreateSaturating(from[k]); break;
            case bool[] b: for (var k = 0; k < from.Length; k++) b[k] = from[k] != T.Zero; break;
        }
    }

    /// <inheritdoc/>
    public virtual void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y)
    {
        switch (H(x).Data)
        {
            case double[] d: { var o = H(y).Array<double>(); for (var i = 0; i < d.Length; i++) o[i] = ScalarMath.Apply(op, d[i]); break; }
            case float[] f: { var o = H(y).Array<float>(); for (var i = 0; i < f.Length; i++) o[i] = (float)ScalarMath.Apply(op, f[i]); break; }
            case int[] n: UnaryInteger(op, n, H(y).Array<int>()); break;
            case long[] n: UnaryInteger(op, n, H(y).Array<long>()); break;
            case bool[] b when op == UnaryOp.LogicalNot: { var o = H(y).Array<bool>(); for (var i = 0; i < b.Length; i++) o[i] = !b[i]; break; }
            default: throw new NotSupportedException($"Unary {op} is not defined for {x.DType.Name()}");
        }
    }

    private static void UnaryInteger<T>(UnaryOp op, T[] x, T[] y) where T : IBinaryInteger<T>, ISignedNumber<T>
    {
        for (var i = 0; i < x.Length; i++)
            y[i] = op switch
            {
                UnaryOp.Neg => -x[i],
                // T.Abs throws for MIN; two's-complement wrap (|MIN| = MIN) is what NumPy and TensorFlow return.
                UnaryOp.Abs => T.IsNegative(x[i]) ? -x[i] : x[i],
                UnaryOp.Sign => T.CreateTruncating(T.Sign(x[i])),
                UnaryOp.Square => x[i] * x[i],
                _ => throw new NotSupportedException($"Unary {op} is not defined for integers"),
            };
    }

    /// <inheritdoc/>
    public virtual void Binary(BinaryOp op, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        switch (H(a.Buffer).Data)
        {
            case double[] d: BinaryTyped(op, d, H(b.Buffer).Array<double>(), a, b, H(y).Data, shape); break;
            case float[] f: BinaryTyped(op, f, H(b.Buffer).Array<float>(), a, b, H(y).Data, shape); break;
            case int[] n: BinaryInteger(op, n, H(b.Buffer).Array<int>(), a, b, H(y).Data, shape); break;
            case long[] n: BinaryInteger(op, n, H(b.Buffer).Array<long>(), a, b, H(y).Data, shape); break;
            case bool[] bb: BinaryBool(op, bb, H(b.Buffer).Array<bool>(), a, b, H(y).Array<bool>(), shape); break;
        }
    }

    private static void BinaryTyped<T>(BinaryOp op, T[] x, T[] z, StridedView a, StridedView b, Array y, ReadOnlySpan<int> s) where T : IFloatingPointIeee754<T>
    {
        if (op == BinaryOp.Pow) { StridedLoops.Binary<T, T, PowOperator<T>>(x, a.Offset, a.Strides, z, b.Offset, b.Strides, (T[])y, s); return; }
        BinaryNumber(op, x, z, a, b, y, s);
    }

    private static void BinaryInteger<T>(BinaryOp op, T[] x, T[] z, StridedView a, StridedView b, Array y, ReadOnlySpan<int> s) where T : IBinaryInteger<T>, ISignedNumber<T>
    {
        if (op == BinaryOp.Div)
        {
            // Integer division by zero is undefined in TensorFlow; here it raises rather than returning garbage.
            StridedLoops.Binary<T, T, IntegerDivOperator<T>>(x, a.Offset, a.Strides, z, b.Offset, b.Strides, (T[])y, s);
            return;
        }
        if (op == BinaryOp.Pow) throw new NotSupportedException("Pow is not defined for integers");
        BinaryNumber(op, x, z, a, b, y, s);
    }

    private static void BinaryNumber<T>(BinaryOp op, T[] x, T[] z, StridedView a, StridedView b, Array y, ReadOnlySpan<int> s) where T : INumber<T>
    {
        int ao = a.Offset, bo = b.Offset;
        int[] as_ = a.Strides, bs = b.Strides;
        switch (op)
        {
            case BinaryOp.Add: StridedLoops.Binary<T, T, AddOperator<T>>(x, ao, as_, z, bo, bs, (T[])y, s); break;
            case BinaryOp.Sub: StridedLoops.Binary<T, T, SubOperator<T>>(x, ao, as_, z, bo, bs, (T[])y, s); break;
            case BinaryOp.Mul: StridedLoops.Binary<T, T, MulOperator<T>>(x, ao, as_, z, bo, bs, (T[])y, s); break;
            case BinaryOp.Div: StridedLoops.Binary<T, T, DivOperator<T>>(x, ao, as_, z, bo, bs, (T[])y, s); break;
            case BinaryOp.Maximum: StridedLoops.Binary<T, T, MaxOperator<T>>(x, ao, as_, z, bo, bs, (T[])y, s); break;
            case BinaryOp.Minimum: StridedLoops.Binary<T, T, MinOperator<T>>(x, ao, as_, z, bo, bs, (T[])y, s); break;
            case BinaryOp.Equal: StridedLoops.Binary<T, bool, EqualOperator<T>>(x, ao, as_, z, bo, bs, (bool[])y, s); break;
            case BinaryOp.NotEqual: StridedLoops.Binary<T, bool, NotEqualOperator<T>>(x, ao, as_, z, bo, bs, (bool[])y, s); break;
            case BinaryOp.Less: StridedLoops.Binary<T, bool, LessOperator<T>>(x, ao, as_, z, bo, bs, (bool[])y, s); break;
            case BinaryOp.LessEqual: StridedLoops.Binary<T, bool, LessEqualOperator<T>>(x, ao, as_, z, bo, bs, (bool[])y, s); break;
            case BinaryOp.Greater: StridedLoops.Binary<T, bool, GreaterOperator<T>>(x, ao, as_, z, bo, bs, (bool[])y, s); break;
            case BinaryOp.GreaterEqual: StridedLoops.Binary<T, bool, GreaterEqualOperator<T>>(x, ao, as_, z, bo, bs, (bool[])y, s); break;
            default: throw new NotSupportedException($"Binary {op} is not defined for {typeof(T).Name}");
        }
    }

    private static void BinaryBool(BinaryOp op, bool[] x, bool[] z, StridedView a, StridedView b, bool[] y, ReadOnlySpan<int> s)
    {
        switch (op)
        {
            case BinaryOp.LogicalAnd: StridedLoops.Binary<bool, bool, AndOperator>(x, a.Offset, a.Strides, z, b.Offset, b.Strides, y, s); break;
            case BinaryOp.LogicalOr: StridedLoops.Binary<bool, bool, OrOperator>(x, a.Offset, a.Strides, z, b.Offset, b.Strides, y, s); break;
            case BinaryOp.LogicalXor or BinaryOp.NotEqual: StridedLoops.Binary<bool, bool, XorOperator>(x, a.Offset, a.Strides, z, b.Offset, b.Strides, y, s); break;
            case BinaryOp.Equal: StridedLoops.Binary<bool, bool, EqualOperator<bool>>(x, a.Offset, a.Strides, z, b.Offset, b.Strides, y, s); break;
            default: throw new NotSupportedException($"Binary {op} is not defined for bool");
        }
    }

    /// <inheritdoc/>
    public void Select(StridedView cond, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        var c = H(cond.Buffer).Array<bool>();
        switch (H(a.Buffer).Data)
        {
            case float[] f: StridedLoops.Select(c, cond.Offset, cond.Strides, f, a.Offset, a.Strides, H(b.Buffer).Array<float>(), b.Offset, b.Strides, H(y).Array<float>(), shape); break;
            case double[] d: StridedLoops.Select(c, cond.Offset, cond.Strides, d, a.Offset, a.Strides, H(b.Buffer).Array<double>(), b.Offset, b.Strides, H(y).Array<double>(), shape); break;
            case int[] i: StridedLoops.Select(c, cond.Offset, cond.Strides, i, a.Offset, a.Strides, H(b.Buffer).Array<int>(), b.Offset, b.Strides, H(y).Array<int>(), shape); break;
            case long[] l: StridedLoops.Select(c, cond.Offset, cond.Strides, l, a.Offset, a.Strides, H(b.Buffer).Array<long>(), b.Offset, b.Strides, H(y).Array<long>(), shape); break;
            case bool[] bb: StridedLoops.Select(c, cond.Offset, cond.Strides, bb, a.Offset, a.Strides, H(b.Buffer).Array<bool>(), b.Offset, b.Strides, H(y).Array<bool>(), shape); break;
        }
    }

    /// <inheritdoc/>
    public virtual void Reduce(ReduceOp op, DeviceBuffer x, int outer, int reduce, int inner, DeviceBuffer y)
    {
        var isArg = op is ReduceOp.ArgMax or ReduceOp.ArgMin;
        switch (H(x).Data)
        {
            case double[] d when isArg: StridedLoops.ArgReduce(op == ReduceOp.ArgMax, d, outer, reduce, inner, H(y).Array<long>()); break;
            case float[] f when isArg: StridedLoops.ArgReduce(op == ReduceOp.ArgMax, f, outer, reduce, inner, H(y).Array<long>()); break;
            case int[] i when isArg: StridedLoops.ArgReduce(op == ReduceOp.ArgMax, i, outer, reduce, inner, H(y).Array<long>()); break;
            case long[] l when isArg: StridedLoops.ArgReduce(op == ReduceOp.ArgMax, l, outer, reduce, inner, H(y).Array<long>()); break;
            case double[] d: StridedLoops.Reduce(op, d, outer, reduce, inner, H(y).Array<double>()); break;
            case float[] f: StridedLoops.Reduce(op, f, outer, reduce, inner, H(y).Array<float>()); break;
            case int[] n: StridedLoops.ReduceInteger(op, n, outer, reduce, inner, H(y).Array<int>()); break;
            case long[] l: StridedLoops.ReduceInteger(op, l, outer, reduce, inner, H(y).Array<long>()); break;
            default: throw new NotSupportedException($"Reduce {op} is not defined for {x.DType.Name()}");
        }
    }

    /// <inheritdoc/>
    public abstract void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, in MatMulArgs args);

    /// <inheritdoc/>
    public abstract void Softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool log);

    /// <inheritdoc/>
    public abstract void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, bool sparse, int rows, int cols, DeviceBuffer loss, DeviceBuffer? backprop);

    /// <summary>Reads a class id from an int32 or int64 label buffer.</summary>
    protected static int LabelAt(DeviceBuffer labels, int r) => H(labels).Data is int[] i ? i[r] : (int)H(labels).Array<long>()[r];

    /// <inheritdoc/>
    public void Gather(DeviceBuffer src, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst)
    {
        switch (H(indices).Data)
        {
            case int[] i: GatherTyped(H(src).Data, i, outer, axisDim, inner, H(dst).Data); break;
            case long[] l: GatherTyped(H(src).Data, l, outer, axisDim, inner, H(dst).Data); break;
        }
    }

    private static void GatherTyped<TI>(Array src, TI[] idx, int outer, int axisDim, int inner, Array dst) where TI : IBinaryInteger<TI>
    {
        switch (src)
        {
            case float[] f: StridedLoops.Gather(f, idx, outer, axisDim, inner, (float[])dst); break;
            case double[] d: StridedLoops.Gather(d, idx, outer, axisDim, inner, (double[])dst); break;
            case int[] i: StridedLoops.Gather(i, idx, outer, axisDim, inner, (int[])dst); break;
            case long[] l: StridedLoops.Gather(l, idx, outer, axisDim, inner, (long[])dst); break;
            case bool[] b: StridedLoops.Gather(b, idx, outer, axisDim, inner, (bool[])dst); break;
        }
    }

    /// <inheritdoc/>
    public void ScatterAdd(DeviceBuffer updates, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst)
    {
        switch (H(indices).Data)
        {
            case int[] i: ScatterTyped(H(updates).Data, i, outer, axisDim, inner, H(dst).Data); break;
            case long[] l: ScatterTyped(H(updates).Data, l, outer, axisDim, inner, H(dst).Data); break;
        }
    }

    private static void ScatterTyped<TI>(Array src, TI[] idx, int outer, int axisDim, int inner, Array dst) where TI : IBinaryInteger<TI>
    {
        switch (src)
        {
            case float[] f: StridedLoops.ScatterAdd(f, idx, outer, axisDim, inner, (float[])dst); break;
            case double[] d: StridedLoops.ScatterAdd(d, idx, outer, axisDim, inner, (double[])dst); break;
            case int[] i: StridedLoops.ScatterAdd(i, idx, outer, axisDim, inner, (int[])dst); break;
            case long[] l: StridedLoops.ScatterAdd(l, idx, outer, axisDim, inner, (long[])dst); break;
        }
    }

    /// <inheritdoc/>
    public virtual void ApplyOptimizer(OptimizerKind kind, in OptimizerArgs args, DeviceBuffer variable, DeviceBuffer grad, DeviceBuffer? slot1, DeviceBuffer? slot2, DeviceBuffer? slot3)
    {
        switch (H(variable).Data)
        {
            case double[] d:
                OptimizerLoops.Apply(kind, args, d, H(grad).Array<double>(), Slot<double>(slot1), Slot<double>(slot2), Slot<double>(slot3), 0, d.Length);
                break;
            case float[] f:
                OptimizerLoops.Apply(kind, args, f, H(grad).Array<float>(), Slot<float>(slot1), Slot<float>(slot2), Slot<float>(slot3), 0, f.Length);
                break;
            default: throw new NotSupportedException($"optimizer updates are defined for float32 and float64 variables, not {variable.DType.Name()}");
        }
    }

    /// <summary>The storage of an optional optimizer slot.</summary>
    protected static T[]? Slot<T>(DeviceBuffer? b) => b is null ? null : H(b).Array<T>();

    /// <inheritdoc/>
    public virtual void Random(RandomDistribution dist, ulong seed, ulong counter, double a, double b, DeviceBuffer dst)
    {
        var values = new double[dst.Length];
        for (var i = 0; i < values.Length; i++) values[i] = Philox.Sample(dist, seed, counter, i, a, b);
        WriteFloat64(values, dst);
    }

    /// <inheritdoc/>
    public void Dispose() => GC.SuppressFinalize(this);
}
