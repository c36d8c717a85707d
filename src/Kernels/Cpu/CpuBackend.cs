using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// The float32 CPU backend: TensorPrimitives for vector math, a cache-blocked SIMD GEMM, and
/// Parallel.For over independent rows and tiles. float64 graphs also run here, in double precision.
/// </summary>
/// <remarks>
/// Results never depend on thread scheduling (work is split into fixed chunks, reductions combine in a
/// fixed order) nor on where the GC placed an array (every buffer starts 64-byte aligned). One source of
/// run-to-run variation remains unless <c>deterministic</c> is set: the vectorised exp, log, sin, cos,
/// tanh and sigmoid of .NET's TensorPrimitives are precompiled (ReadyToRun) for a baseline ISA and later
/// re-jitted with FMA, so the same input can round differently in the last bit before and after the
/// runtime tiers a method up (measured: sin(5.800971f) = −0.4637421 for ~200 calls, then −0.46374208).
/// Deterministic mode computes those functions element by element in float64 with the C library
/// (Math.Exp etc.), which the JIT never changes, and rounds once to float32.
/// </remarks>
public sealed partial class CpuBackend(bool deterministic = false) : HostBackend
{
    /// <summary>Transcendental functions avoid the JIT-tier-dependent vector code (see remarks).</summary>
    public bool Deterministic => deterministic;

    /// <inheritdoc/>
    public override string Name => "cpu";

    /// <inheritdoc/>
    protected override DType StorageOf(DType dtype) => dtype;

    /// <inheritdoc/>
    public override void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y)
    {
        if (Storage(x).Storage is float[] && !(deterministic && CpuUnary.IsTierDependent(op)) && CpuUnary.TryFloat(op, Storage(x).Segment<float>(), Storage(y).Segment<float>())) return;
        base.Unary(op, x, y);
    }

    /// <inheritdoc/>
    public override void Binary(BinaryOp op, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        if (Storage(a.Buffer).Storage is float[])
        {
            if (Storage(y).Storage is float[] && CpuBinary.TryFloat(op, Span<float>(a.Buffer), a, Span<float>(b.Buffer), b, Span<float>(y), shape)) return;
            if (Storage(y).Storage is bool[] && CpuBinary.TryCompareScalar(op, Span<float>(a.Buffer), a, Span<float>(b.Buffer), b, Span<bool>(y), shape)) return;
        }
        base.Binary(op, a, b, y, shape);
    }

    /// <inheritdoc/>
    public override void Reduce(ReduceOp op, DeviceBuffer x, int outer, int reduce, int inner, DeviceBuffer y)
    {
        if (Storage(x).Storage is float[] && CpuReduce.TryFloat(op, Span<float>(x), outer, reduce, inner, Storage(y))) return;
        base.Reduce(op, x, outer, reduce, inner, y);
    }

    /// <inheritdoc/>
    public override void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, in MatMulArgs p)
    {
        if (Storage(a).Storage is float[])
        {
            Span<float> af = Span<float>(a), bf = Span<float>(b), cf = Span<float>(c);
            if (p.Batch == 1 && TakeEpilogue((long)p.M * p.N) is { } epilogue)
            {
                // The armed element-wise program runs on each thread's rows of C as they are finished.
                Gemm.Multiply(p.TransA, p.TransB, p.M, p.N, p.K, af, bf, cf[..(p.M * p.N)], epilogue);
                epilogue.Finish();
                return;
            }
            for (var i = 0; i < p.Batch; i++)
                Gemm.Multiply(p.TransA, p.TransB, p.M, p.N, p.K,
                    af[(int)(i * p.BatchStrideA)..], bf[(int)(i * p.BatchStrideB)..], cf.Slice(i * p.M * p.N, p.M * p.N));
        }
        else
        {
            Span<double> ad = Span<double>(a), bd = Span<double>(b), cd = Span<double>(c);
            for (var i = 0; i < p.Batch; i++)
                Gemm.MultiplyNaive<double>(p.TransA, p.TransB, p.M, p.N, p.K,
                    ad[(int)(i * p.BatchStrideA)..], bd[(int)(i * p.BatchStrideB)..], cd.Slice(i * p.M * p.N, p.M * p.N));
        }
    }

    /// <inheritdoc/>
    public override void Softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool log)
    {
        if (Storage(x).Storage is float[]) CpuSoftmax.Rows(Storage(x).Segment<float>(), Storage(y).Segment<float>(), rows, cols, log, deterministic);
        else CpuSoftmax.Rows(Storage(x).Segment<double>(), Storage(y).Segment<double>(), rows, cols, log, deterministic);
    }

    /// <inheritdoc/>
    public override void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, bool sparse, int rows, int cols, DeviceBuffer loss, DeviceBuffer? backprop)
    {
        Func<int, int>? label = sparse ? r => LabelAt(labels, r) : null;
        if (Storage(logits).Storage is float[])
            CpuSoftmax.CrossEntropy(Storage(logits).Segment<float>(), sparse ? (ArraySegment<float>?)null : Storage(labels).Segment<float>(), label, rows, cols,
                Storage(loss).Segment<float>(), backprop is null ? (ArraySegment<float>?)null : Storage(backprop).Segment<float>(), deterministic);
        else
            CpuSoftmax.CrossEntropy(Storage(logits).Segment<double>(), sparse ? (ArraySegment<double>?)null : Storage(labels).Segment<double>(), label, rows, cols,
                Storage(loss).Segment<double>(), backprop is null ? (ArraySegment<double>?)null : Storage(backprop).Segment<double>(), deterministic);
    }

    /// <inheritdoc/>
    public override void ApplyOptimizer(OptimizerKind kind, bool nesterov, ReadOnlySpan<DeviceBuffer> scalars, DeviceBuffer variable, DeviceBuffer grad,
        DeviceBuffer? slot1, DeviceBuffer? slot2, DeviceBuffer? slot3, DeviceBuffer? abortFlags)
    {
        if (Storage(variable).Storage is not float[])
        {
            base.ApplyOptimizer(kind, nesterov, scalars, variable, grad, slot1, slot2, slot3, abortFlags);
            return;
        }
        if (Aborted(abortFlags)) return;
        CpuOptimizer.Apply(kind, FoldScalars(kind, nesterov, scalars), Storage(variable).Segment<float>(), Storage(grad).Segment<float>(),
            SlotSegment(slot1), SlotSegment(slot2), SlotSegment(slot3));
    }

    private static ArraySegment<float> SlotSegment(DeviceBuffer? b) => b is null ? default : Storage(b).Segment<float>();

    /// <inheritdoc/>
    public override void Random(RandomDistribution dist, ulong seed, ulong counter, double a, double b, DeviceBuffer dst)
    {
        if (Storage(dst).Storage is not float[])
        {
            base.Random(dist, seed, counter, a, b, dst);
            return;
        }
        var f = Storage(dst).Segment<float>();
        if (dist == RandomDistribution.Uniform && f.Count <= 65536)
        {
            // Vectorised, and small enough that splitting it across threads costs more than it saves.
            PhiloxSimd.Uniform(seed, counter, a, b, 0, f);
            return;
        }
        KernelThreads.For(0, (f.Count + 16383) / 16384, chunk =>
        {
            var start = chunk * 16384;
            var end = Math.Min(f.Count, start + 16384);
            if (dist == RandomDistribution.Uniform) PhiloxSimd.Uniform(seed, counter, a, b, start, f.AsSpan(start, end - start));
            else for (var i = start; i < end; i++) f[i] = (float)Philox.Sample(dist, seed, counter, i, a, b);
        });
    }
}
