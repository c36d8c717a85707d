using System.Numerics;

namespace Nabla.Kernels;

/// <summary>
/// The host part of the CPU backend: storage mapping, copies, casts, broadcasting element-wise
/// loops, gathers, checks and random numbers, with generic loops for every dtype, which
/// <see cref="Cpu.CpuBackend"/> overrides with vector kernels where it has them. The reference backend
/// does not derive from it: it is the independent oracle these loops are tested against. The stream
/// is the calling thread: each call finishes before it returns, which the stream contract allows but
/// never promises.
/// </summary>
public abstract partial class HostBackend : IBackend
{
    private HostAllocator? _memory;

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <summary>The storage dtype of a logical dtype (the reference backend stores every float as float64).</summary>
    protected abstract DType StorageOf(DType dtype);

    /// <inheritdoc/>
    public IAllocator Memory => _memory ??= new HostAllocator(StorageOf);

    /// <inheritdoc/>
    public void Synchronize() { }

    /// <summary>The host storage of a buffer created by this backend's allocator.</summary>
    protected static HostBuffer Storage(DeviceBuffer b) => (HostBuffer)b;

    /// <summary>The elements of a host buffer.</summary>
    protected static Span<T> Span<T>(DeviceBuffer b) => ((HostBuffer)b).Span<T>();

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, double value)
    {
        switch (Storage(dst).Storage)
        {
            case float[]: Span<float>(dst).Fill((float)value); break;
            case double[]: Span<double>(dst).Fill(value); break;
            // Saturating: (long)9.2e18 would wrap to long.MinValue on x64.
            case int[]: Span<int>(dst).Fill(int.CreateSaturating(value)); break;
            case long[]: Span<long>(dst).Fill(long.CreateSaturating(value)); break;
            case bool[]: Span<bool>(dst).Fill(value != 0); break;
        }
    }

    /// <inheritdoc/>
    public void Copy(StridedView src, StridedView dst, ReadOnlySpan<int> shape)
    {
        switch (Storage(src.Buffer).Storage)
        {
            case float[]: StridedLoops.Copy<float>(Span<float>(src.Buffer), src.Offset, src.Strides, Span<float>(dst.Buffer), dst.Offset, dst.Strides, shape); break;
            case double[]: StridedLoops.Copy<double>(Span<double>(src.Buffer), src.Offset, src.Strides, Span<double>(dst.Buffer), dst.Offset, dst.Strides, shape); break;
            case int[]: StridedLoops.Copy<int>(Span<int>(src.Buffer), src.Offset, src.Strides, Span<int>(dst.Buffer), dst.Offset, dst.Strides, shape); break;
            case long[]: StridedLoops.Copy<long>(Span<long>(src.Buffer), src.Offset, src.Strides, Span<long>(dst.Buffer), dst.Offset, dst.Strides, shape); break;
            case bool[]: StridedLoops.Copy<bool>(Span<bool>(src.Buffer), src.Offset, src.Strides, Span<bool>(dst.Buffer), dst.Offset, dst.Strides, shape); break;
        }
    }

    /// <inheritdoc/>
    public void Cast(DeviceBuffer src, DeviceBuffer dst)
    {
        HostBuffer s = Storage(src), d = Storage(dst);
        if (s.Storage.GetType() == d.Storage.GetType()) Array.Copy(s.Storage, s.Offset, d.Storage, d.Offset, s.Length);
        else HostConvert.Array(s.Storage, s.Offset, d.Storage, d.Offset, s.Length);
    }

    /// <inheritdoc/>
    public virtual void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y)
    {
        switch (Storage(x).Storage)
        {
            case double[]: UnaryFunctions.Float64(op, Span<double>(x), Span<double>(y)); break;
            case float[]: UnaryFunctions.Float32Scalar(op, Span<float>(x), Span<float>(y)); break;
            case int[]: UnaryInteger<int>(op, Span<int>(x), Span<int>(y)); break;
            case long[]: UnaryInteger<long>(op, Span<long>(x), Span<long>(y)); break;
            case bool[] when op == UnaryOp.LogicalNot: { Span<bool> b = Span<bool>(x), o = Span<bool>(y); for (var i = 0; i < b.Length; i++) o[i] = !b[i]; break; }
            default: throw new NotSupportedException($"Unary {op} is not defined for {x.DType.Name()}");
        }
    }

    private static void UnaryInteger<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y) where T : IBinaryInteger<T>, ISignedNumber<T>
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
        switch (Storage(a.Buffer).Storage)
        {
            case double[]: BinaryTyped<double>(op, Span<double>(a.Buffer), Span<double>(b.Buffer), a, b, y, shape); break;
            case float[]: BinaryTyped<float>(op, Span<float>(a.Buffer), Span<float>(b.Buffer), a, b, y, shape); break;
            case int[]: BinaryInteger<int>(op, Span<int>(a.Buffer), Span<int>(b.Buffer), a, b, y, shape); break;
            case long[]: BinaryInteger<long>(op, Span<long>(a.Buffer), Span<long>(b.Buffer), a, b, y, shape); break;
            case bool[]: BinaryBool(op, Span<bool>(a.Buffer), Span<bool>(b.Buffer), a, b, Span<bool>(y), shape); break;
        }
    }

    private static void BinaryTyped<T>(BinaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> z, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> s) where T : IFloatingPointIeee754<T>
    {
        if (op == BinaryOp.Pow) { StridedLoops.Binary<T, T, PowOperator<T>>(x, a.Offset, a.Strides, z, b.Offset, b.Strides, Span<T>(y), s); return; }
        BinaryNumber(op, x, z, a, b, y, s);
    }

    private static void BinaryInteger<T>(BinaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> z, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> s) where T : IBinaryInteger<T>, ISignedNumber<T>
    {
        if (op == BinaryOp.Div)
        {
            // Division by zero gives 0 here; the engine checks divisors (on the host or through the error flags) and fails the run.
            StridedLoops.Binary<T, T, IntegerDivOperator<T>>(x, a.Offset, a.Strides, z, b.Offset, b.Strides, Span<T>(y), s);
            return;
        }
        if (op == BinaryOp.Pow) throw new NotSupportedException("Pow is not defined for integers");
        BinaryNumber(op, x, z, a, b, y, s);
    }

    private static void BinaryNumber<T>(BinaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> z, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> s) where T : INumber<T>
    {
        if (Arithmetic.Has(op))
        {
            var loop = new StridedArithmetic<T>(x, a, z, b, Span<T>(y), s);
            Arithmetic.Dispatch<T, StridedArithmetic<T>>(op, ref loop);
            return;
        }
        int ao = a.Offset, bo = b.Offset;
        int[] as_ = a.Strides, bs = b.Strides;
        switch (op)
        {
            case BinaryOp.Equal: StridedLoops.Binary<T, bool, EqualOperator<T>>(x, ao, as_, z, bo, bs, Span<bool>(y), s); break;
            case BinaryOp.NotEqual: StridedLoops.Binary<T, bool, NotEqualOperator<T>>(x, ao, as_, z, bo, bs, Span<bool>(y), s); break;
            case BinaryOp.Less: StridedLoops.Binary<T, bool, LessOperator<T>>(x, ao, as_, z, bo, bs, Span<bool>(y), s); break;
            case BinaryOp.LessEqual: StridedLoops.Binary<T, bool, LessEqualOperator<T>>(x, ao, as_, z, bo, bs, Span<bool>(y), s); break;
            case BinaryOp.Greater: StridedLoops.Binary<T, bool, GreaterOperator<T>>(x, ao, as_, z, bo, bs, Span<bool>(y), s); break;
            case BinaryOp.GreaterEqual: StridedLoops.Binary<T, bool, GreaterEqualOperator<T>>(x, ao, as_, z, bo, bs, Span<bool>(y), s); break;
            default: throw new NotSupportedException($"Binary {op} is not defined for {typeof(T).Name}");
        }
    }

    /// <summary>The generic strided loop, specialised for the arithmetic operator <see cref="Arithmetic.Dispatch"/> picks.</summary>
    private readonly ref struct StridedArithmetic<T> : IArithmeticVisitor<T> where T : INumber<T>
    {
        private readonly ReadOnlySpan<T> _x, _z;
        private readonly Span<T> _y;
        private readonly ReadOnlySpan<int> _shape;
        private readonly StridedView _a, _b;

        public StridedArithmetic(ReadOnlySpan<T> x, StridedView a, ReadOnlySpan<T> z, StridedView b, Span<T> y, ReadOnlySpan<int> shape)
        {
            _x = x;
            _z = z;
            _y = y;
            _shape = shape;
            _a = a;
            _b = b;
        }

        public void Visit<TOp>() where TOp : IArithmeticOperator<T> =>
            StridedLoops.Binary<T, T, TOp>(_x, _a.Offset, _a.Strides, _z, _b.Offset, _b.Strides, _y, _shape);
    }

    private static void BinaryBool(BinaryOp op, ReadOnlySpan<bool> x, ReadOnlySpan<bool> z, StridedView a, StridedView b, Span<bool> y, ReadOnlySpan<int> s)
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
        var c = Span<bool>(cond.Buffer);
        switch (Storage(a.Buffer).Storage)
        {
            case float[]: StridedLoops.Select<float>(c, cond.Offset, cond.Strides, Span<float>(a.Buffer), a.Offset, a.Strides, Span<float>(b.Buffer), b.Offset, b.Strides, Span<float>(y), shape); break;
            case double[]: StridedLoops.Select<double>(c, cond.Offset, cond.Strides, Span<double>(a.Buffer), a.Offset, a.Strides, Span<double>(b.Buffer), b.Offset, b.Strides, Span<double>(y), shape); break;
            case int[]: StridedLoops.Select<int>(c, cond.Offset, cond.Strides, Span<int>(a.Buffer), a.Offset, a.Strides, Span<int>(b.Buffer), b.Offset, b.Strides, Span<int>(y), shape); break;
            case long[]: StridedLoops.Select<long>(c, cond.Offset, cond.Strides, Span<long>(a.Buffer), a.Offset, a.Strides, Span<long>(b.Buffer), b.Offset, b.Strides, Span<long>(y), shape); break;
            case bool[]: StridedLoops.Select<bool>(c, cond.Offset, cond.Strides, Span<bool>(a.Buffer), a.Offset, a.Strides, Span<bool>(b.Buffer), b.Offset, b.Strides, Span<bool>(y), shape); break;
        }
    }

    /// <inheritdoc/>
    public virtual void Reduce(ReduceOp op, DeviceBuffer x, int outer, int reduce, int inner, DeviceBuffer y)
    {
        var isArg = op is ReduceOp.ArgMax or ReduceOp.ArgMin;
        var max = op == ReduceOp.ArgMax;
        switch (Storage(x).Storage)
        {
            case double[] when isArg: StridedLoops.ArgReduce<double>(max, Span<double>(x), outer, reduce, inner, Span<long>(y)); break;
            case float[] when isArg: StridedLoops.ArgReduce<float>(max, Span<float>(x), outer, reduce, inner, Span<long>(y)); break;
            case int[] when isArg: StridedLoops.ArgReduce<int>(max, Span<int>(x), outer, reduce, inner, Span<long>(y)); break;
            case long[] when isArg: StridedLoops.ArgReduce<long>(max, Span<long>(x), outer, reduce, inner, Span<long>(y)); break;
            case double[]: StridedLoops.Reduce<double>(op, Span<double>(x), outer, reduce, inner, Span<double>(y)); break;
            case float[]: StridedLoops.Reduce<float>(op, Span<float>(x), outer, reduce, inner, Span<float>(y)); break;
            case int[]: StridedLoops.ReduceInteger<int>(op, Span<int>(x), outer, reduce, inner, Span<int>(y)); break;
            case long[]: StridedLoops.ReduceInteger<long>(op, Span<long>(x), outer, reduce, inner, Span<long>(y)); break;
            default: throw new NotSupportedException($"Reduce {op} is not defined for {x.DType.Name()}");
        }
    }

    /// <inheritdoc/>
    public abstract void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, in MatMulArgs args);

    /// <inheritdoc/>
    public abstract void Softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool log);

    /// <inheritdoc/>
    public abstract void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, bool sparse, int rows, int cols, DeviceBuffer loss, DeviceBuffer? backprop);

    /// <summary>Reads a class id from an int32 or int64 label buffer; −1 when it does not fit an int (then out of range for any class count).</summary>
    protected static int LabelAt(DeviceBuffer labels, int r)
    {
        if (Storage(labels).Storage is int[]) return Span<int>(labels)[r];
        var v = Span<long>(labels)[r];
        return v is < int.MinValue or > int.MaxValue ? -1 : (int)v;
    }

    /// <inheritdoc/>
    public void Gather(DeviceBuffer src, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst)
    {
        if (Storage(indices).Storage is int[]) GatherTyped<int>(src, Span<int>(indices), outer, axisDim, inner, dst);
        else GatherTyped<long>(src, Span<long>(indices), outer, axisDim, inner, dst);
    }

    private static void GatherTyped<TI>(DeviceBuffer src, ReadOnlySpan<TI> idx, int outer, int axisDim, int inner, DeviceBuffer dst) where TI : IBinaryInteger<TI>
    {
        switch (Storage(src).Storage)
        {
            case float[]: StridedLoops.Gather<float, TI>(Span<float>(src), idx, outer, axisDim, inner, Span<float>(dst)); break;
            case double[]: StridedLoops.Gather<double, TI>(Span<double>(src), idx, outer, axisDim, inner, Span<double>(dst)); break;
            case int[]: StridedLoops.Gather<int, TI>(Span<int>(src), idx, outer, axisDim, inner, Span<int>(dst)); break;
            case long[]: StridedLoops.Gather<long, TI>(Span<long>(src), idx, outer, axisDim, inner, Span<long>(dst)); break;
            case bool[]: StridedLoops.Gather<bool, TI>(Span<bool>(src), idx, outer, axisDim, inner, Span<bool>(dst)); break;
        }
    }

    /// <inheritdoc/>
    public void ScatterAdd(DeviceBuffer updates, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst)
    {
        if (Storage(indices).Storage is int[]) ScatterTyped<int>(updates, Span<int>(indices), outer, axisDim, inner, dst);
        else ScatterTyped<long>(updates, Span<long>(indices), outer, axisDim, inner, dst);
    }

    private static void ScatterTyped<TI>(DeviceBuffer src, ReadOnlySpan<TI> idx, int outer, int axisDim, int inner, DeviceBuffer dst) where TI : IBinaryInteger<TI>
    {
        switch (Storage(src).Storage)
        {
            case float[]: StridedLoops.ScatterAdd<float, TI>(Span<float>(src), idx, outer, axisDim, inner, Span<float>(dst)); break;
            case double[]: StridedLoops.ScatterAdd<double, TI>(Span<double>(src), idx, outer, axisDim, inner, Span<double>(dst)); break;
            case int[]: StridedLoops.ScatterAdd<int, TI>(Span<int>(src), idx, outer, axisDim, inner, Span<int>(dst)); break;
            case long[]: StridedLoops.ScatterAdd<long, TI>(Span<long>(src), idx, outer, axisDim, inner, Span<long>(dst)); break;
        }
    }

    /// <inheritdoc/>
    public void Check(CheckKind kind, DeviceBuffer x, long bound, DeviceBuffer flags, int site)
    {
        var f = Span<long>(flags);
        if (f[2 * site] != 0) return;
        switch (Storage(x).Storage)
        {
            case int[]: CheckInteger<int>(kind, Span<int>(x), bound, f, site); break;
            case long[]: CheckInteger<long>(kind, Span<long>(x), bound, f, site); break;
            case float[]: CheckFinite<float>(kind, Span<float>(x), f, site); break;
            case double[]: CheckFinite<double>(kind, Span<double>(x), f, site); break;
            default: throw new NotSupportedException($"Check {kind} is not defined for {x.DType.Name()}");
        }
    }

    private static void CheckInteger<T>(CheckKind kind, ReadOnlySpan<T> x, long bound, Span<long> flags, int site) where T : IBinaryInteger<T>
    {
        for (var i = 0; i < x.Length; i++)
        {
            var v = long.CreateTruncating(x[i]);
            var bad = kind switch
            {
                CheckKind.IndexInRange => v < 0 || v >= bound,
                CheckKind.NonZero => v == 0,
                _ => throw new NotSupportedException($"Check {kind} is not defined for integers"),
            };
            if (!bad) continue;
            flags[2 * site] = i + 1L;
            flags[2 * site + 1] = v;
            return;
        }
    }

    private static void CheckFinite<T>(CheckKind kind, ReadOnlySpan<T> x, Span<long> flags, int site) where T : IFloatingPointIeee754<T>
    {
        if (kind != CheckKind.Finite) throw new NotSupportedException($"Check {kind} is not defined for floats");
        // TensorPrimitives has no "index of first non-finite"; x − x is 0 for finite x and NaN otherwise, but one scan is as fast and clearer.
        for (var i = 0; i < x.Length; i++)
        {
            if (T.IsFinite(x[i])) continue;
            flags[2 * site] = i + 1L;
            flags[2 * site + 1] = BitConverter.DoubleToInt64Bits(double.CreateTruncating(x[i]));
            return;
        }
    }

    /// <summary>True when an abort-flags buffer is given and any check recorded a failure in it.</summary>
    protected static bool Aborted(DeviceBuffer? abortFlags)
    {
        if (abortFlags is null) return false;
        var f = Span<long>(abortFlags);
        for (var i = 0; i < f.Length; i += 2) if (f[i] != 0) return true;
        return false;
    }

    /// <inheritdoc/>
    public void AllReduce(IAllReduceGroup group, IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, DeviceBuffer staging) =>
        HostAllReduce.Run(group, inputs, outputs, staging, Memory.Alignment / Memory.StorageBytes(staging.DType));

    /// <inheritdoc/>
    public bool AllReducesInPlace => true;

    /// <inheritdoc/>
    public void AllReduceInPlace(IAllReduceGroup group, DeviceBuffer values) => HostAllReduce.Sum(group, (HostBuffer)values);

    /// <inheritdoc/>
    public void Assign(BinaryOp? op, DeviceBuffer variable, DeviceBuffer value, DeviceBuffer? abortFlags)
    {
        if (Aborted(abortFlags)) return;
        if (op is null) { Memory.Copy(value, variable); return; }
        int[] strides = [1];
        Binary(op.Value, new StridedView(variable, 0, strides), new StridedView(value, 0, strides), variable, [variable.Length]);
    }

    /// <summary>Reads the hyper-parameter buffers (rank 0) as float64: on the host this is the kernel's own memory read.</summary>
    protected static OptimizerArgs FoldScalars(OptimizerKind kind, bool nesterov, ReadOnlySpan<DeviceBuffer> scalars)
    {
        Span<double> s = stackalloc double[scalars.Length];
        for (var i = 0; i < s.Length; i++)
            s[i] = Storage(scalars[i]).Storage switch
            {
                float[] => Span<float>(scalars[i])[0],
                double[] => Span<double>(scalars[i])[0],
                _ => throw new NotSupportedException($"optimizer scalar {i} must be float32 or float64, got {scalars[i].DType.Name()}"),
            };
        return OptimizerArgs.Fold(kind, nesterov, s);
    }

    /// <inheritdoc/>
    public virtual void ApplyOptimizer(OptimizerKind kind, bool nesterov, ReadOnlySpan<DeviceBuffer> scalars, DeviceBuffer variable, DeviceBuffer grad,
        DeviceBuffer? slot1, DeviceBuffer? slot2, DeviceBuffer? slot3, DeviceBuffer? abortFlags)
    {
        if (Aborted(abortFlags)) return;
        var args = FoldScalars(kind, nesterov, scalars);
        switch (Storage(variable).Storage)
        {
            case double[]:
                OptimizerLoops.Apply(kind, args, Span<double>(variable), Span<double>(grad), Slot<double>(slot1), Slot<double>(slot2), Slot<double>(slot3), 0, variable.Length);
                break;
            case float[]:
                OptimizerLoops.Apply(kind, args, Span<float>(variable), Span<float>(grad), Slot<float>(slot1), Slot<float>(slot2), Slot<float>(slot3), 0, variable.Length);
                break;
            default: throw new NotSupportedException($"optimizer updates are defined for float32 and float64 variables, not {variable.DType.Name()}");
        }
    }

    /// <summary>The elements of an optional optimizer slot (empty when absent).</summary>
    protected static Span<T> Slot<T>(DeviceBuffer? b) => b is null ? default : Span<T>(b);

    /// <inheritdoc/>
    public virtual void Random(RandomDistribution dist, ulong seed, ulong counter, double a, double b, DeviceBuffer dst)
    {
        var values = new double[dst.Length];
        if (dist == RandomDistribution.Uniform) Philox.Uniform<double>(seed, counter, a, b, 0, values);
        else for (var i = 0; i < values.Length; i++) values[i] = Philox.Sample(dist, seed, counter, i, a, b);
        HostConvert.Array(values, 0, Storage(dst).Storage, Storage(dst).Offset, dst.Length);
    }

    /// <inheritdoc/>
    public void Dispose() => GC.SuppressFinalize(this);
}
