namespace Nabla.Kernels.Reference;

/// <summary>
/// The float64 oracle. Every floating dtype is stored and computed in double precision, one element
/// at a time, with straight index arithmetic over the N-d index space; matrix products go through
/// MathNet.Numerics. Never optimised: other backends and every gradient are checked against it.
/// </summary>
/// <remarks>
/// <para><b>Independence.</b> No kernel code is shared with the CPU backend: the element-wise
/// functions (<see cref="ReferenceMath"/>), the loops, casts, gathers, checks, reductions, the
/// optimizer updates and the random distributions are all written here, from the definitions in
/// <see cref="UnaryOp"/>, <see cref="BinaryOp"/>, <see cref="ReduceOp"/> and <see cref="OptimizerKind"/>.
/// Three things are shared on purpose: <see cref="HostAllocator"/> (memory and host transfers, not
/// compute), <see cref="Philox.Block"/> (the raw bits of the counter-based stream, which every backend
/// must reproduce bit for bit; the uniform and normal transforms are this file's own) and
/// <see cref="OptimizerArgs.Fold"/> (the per-step hyper-parameter formula is part of the
/// <see cref="IBackend.ApplyOptimizer"/> contract, checked against Keras by the optimizer tests).</para>
/// <para><b>Stream.</b> The calling thread: each call finishes before it returns, and
/// <see cref="Synchronize"/> has nothing to wait for.</para>
/// </remarks>
public sealed partial class ReferenceBackend : IBackend
{
    private HostAllocator? _memory;

    /// <inheritdoc/>
    public string Name => "reference";

    /// <inheritdoc/>
    public IAllocator Memory => _memory ??= new HostAllocator(static d => d.IsFloating() ? DType.Float64 : d);

    /// <inheritdoc/>
    public void Synchronize() { }

    /// <inheritdoc/>
    public void Dispose() => GC.SuppressFinalize(this);

    private static HostBuffer Host(DeviceBuffer b) => (HostBuffer)b;

    /// <summary>Element i of a floating buffer (stored as double).</summary>
    private static double F(DeviceBuffer b, int i) => ((double[])Host(b).Storage)[Host(b).Offset + i];

    private static void SetF(DeviceBuffer b, int i, double v) => ((double[])Host(b).Storage)[Host(b).Offset + i] = v;

    /// <summary>Element i of an int32 or int64 buffer, widened to long.</summary>
    private static long I(DeviceBuffer b, int i) => Host(b).Storage switch
    {
        int[] a => a[Host(b).Offset + i],
        long[] a => a[Host(b).Offset + i],
        _ => throw new NotSupportedException($"{b.DType.Name()} is not an integer dtype"),
    };

    /// <summary>Stores v into an int32 or int64 buffer; int32 keeps the low 32 bits (two's-complement wrap).</summary>
    private static void SetI(DeviceBuffer b, int i, long v)
    {
        switch (Host(b).Storage)
        {
            case int[] a: a[Host(b).Offset + i] = unchecked((int)v); break;
            case long[] a: a[Host(b).Offset + i] = v; break;
            default: throw new NotSupportedException($"{b.DType.Name()} is not an integer dtype");
        }
    }

    private static bool B(DeviceBuffer b, int i) => ((bool[])Host(b).Storage)[Host(b).Offset + i];

    private static void SetB(DeviceBuffer b, int i, bool v) => ((bool[])Host(b).Storage)[Host(b).Offset + i] = v;

    private enum Kind { Float, Integer, Bool }

    private static Kind KindOf(DeviceBuffer b) => Host(b).Storage switch
    {
        double[] => Kind.Float,
        int[] or long[] => Kind.Integer,
        bool[] => Kind.Bool,
        _ => throw new NotSupportedException($"the reference backend does not store {Host(b).Storage.GetType().Name}"),
    };

    /// <summary>The number of elements of a shape.</summary>
    private static int Count(ReadOnlySpan<int> shape)
    {
        var n = 1;
        foreach (var d in shape) n = checked(n * d);
        return n;
    }

    /// <summary>
    /// The element offset in <paramref name="v"/> of the row-major flat index <paramref name="flat"/> of
    /// <paramref name="shape"/>: the multi-index is recovered digit by digit, last axis fastest.
    /// </summary>
    private static int At(StridedView v, ReadOnlySpan<int> shape, int flat)
    {
        var offset = v.Offset;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            offset += flat % shape[d] * v.Strides[d];
            flat /= shape[d];
        }
        return offset;
    }

    /// <summary>A float converted to an integer: truncated toward zero, saturated to [min, max], NaN → 0.</summary>
    private static long ToInteger(double v, long min, long max)
    {
        if (double.IsNaN(v)) return 0;
        if (v <= min) return min;
        // (double)long.MaxValue rounds up to 2⁶³, which no long holds.
        if (v >= max) return max;
        return (long)Math.Truncate(v);
    }

    /// <summary>Stores a double into element i of any buffer, with the cast rules of <see cref="IBackend.Cast"/>.</summary>
    private static void Store(DeviceBuffer b, int i, double v)
    {
        switch (Host(b).Storage)
        {
            case double[]: SetF(b, i, v); break;
            case int[]: SetI(b, i, ToInteger(v, int.MinValue, int.MaxValue)); break;
            case long[]: SetI(b, i, ToInteger(v, long.MinValue, long.MaxValue)); break;
            // NaN is nonzero, so true.
            case bool[]: SetB(b, i, v != 0); break;
        }
    }

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, double value)
    {
        for (var i = 0; i < dst.Length; i++) Store(dst, i, value);
    }

    /// <inheritdoc/>
    public void Copy(StridedView src, StridedView dst, ReadOnlySpan<int> shape)
    {
        var n = Count(shape);
        for (var k = 0; k < n; k++)
        {
            int s = At(src, shape, k), d = At(dst, shape, k);
            switch (KindOf(src.Buffer))
            {
                case Kind.Float: SetF(dst.Buffer, d, F(src.Buffer, s)); break;
                case Kind.Integer: SetI(dst.Buffer, d, I(src.Buffer, s)); break;
                default: SetB(dst.Buffer, d, B(src.Buffer, s)); break;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>float → int truncates toward zero and saturates, NaN → 0; int64 → int32 saturates; any
    /// nonzero value (NaN included) → true; bool → 0 or 1. float64 → float32 is a copy: the reference
    /// keeps every float in double precision.</remarks>
    public void Cast(DeviceBuffer src, DeviceBuffer dst)
    {
        for (var i = 0; i < src.Length; i++)
        {
            switch (KindOf(src))
            {
                case Kind.Float: Store(dst, i, F(src, i)); break;
                case Kind.Bool: Store(dst, i, B(src, i) ? 1 : 0); break;
                default:
                    var v = I(src, i);
                    switch (Host(dst).Storage)
                    {
                        case double[]: SetF(dst, i, v); break;
                        case int[]: SetI(dst, i, Math.Clamp(v, int.MinValue, int.MaxValue)); break;
                        case long[]: SetI(dst, i, v); break;
                        case bool[]: SetB(dst, i, v != 0); break;
                    }
                    break;
            }
        }
    }

    /// <inheritdoc/>
    public void Check(CheckKind kind, DeviceBuffer x, long bound, DeviceBuffer flags, int site)
    {
        // Only the first failure per site is kept.
        if (I(flags, 2 * site) != 0) return;
        var isInteger = KindOf(x) == Kind.Integer;
        if (kind == CheckKind.Finite ? KindOf(x) != Kind.Float : !isInteger)
            throw new NotSupportedException($"Check {kind} is not defined for {x.DType.Name()}");
        for (var i = 0; i < x.Length; i++)
        {
            bool bad;
            long value;
            if (isInteger)
            {
                value = I(x, i);
                bad = kind == CheckKind.IndexInRange ? value < 0 || value >= bound : value == 0;
            }
            else
            {
                var v = F(x, i);
                bad = double.IsNaN(v) || double.IsInfinity(v);
                value = BitConverter.DoubleToInt64Bits(v);
            }
            if (!bad) continue;
            SetI(flags, 2 * site, i + 1L);
            SetI(flags, 2 * site + 1, value);
            return;
        }
    }

    /// <summary>True when an abort-flags buffer is given and any check site in it recorded a failure.</summary>
    private static bool Aborted(DeviceBuffer? abortFlags)
    {
        if (abortFlags is null) return false;
        for (var i = 0; i < abortFlags.Length; i += 2)
            if (I(abortFlags, i) != 0) return true;
        return false;
    }

    /// <inheritdoc/>
    public void AllReduce(IAllReduceGroup group, IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, DeviceBuffer staging) =>
        HostAllReduce.Run(group, inputs, outputs, staging, alignElements: 1);

    /// <inheritdoc/>
    public void Assign(BinaryOp? op, DeviceBuffer variable, DeviceBuffer value, DeviceBuffer? abortFlags)
    {
        if (Aborted(abortFlags)) return;
        if (op is null)
        {
            int[] unit = [1];
            Copy(new StridedView(value, 0, unit), new StridedView(variable, 0, unit), [variable.Length]);
            return;
        }
        if (op is not (BinaryOp.Add or BinaryOp.Sub)) throw new NotSupportedException($"Assign supports Add and Sub, not {op}");
        int[] strides = [1];
        Binary(op.Value, new StridedView(variable, 0, strides), new StridedView(value, 0, strides), variable, [variable.Length]);
    }
}
