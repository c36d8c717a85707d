using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// The float32 CPU backend: TensorPrimitives for vector math, a cache-blocked SIMD GEMM, and
/// Parallel.For over independent rows and tiles. float64 graphs also run here, in double precision.
/// </summary>
public sealed class CpuBackend : HostBackend
{
    /// <inheritdoc/>
    public override string Name => "cpu";

    /// <inheritdoc/>
    protected override DType StorageOf(DType dtype) => dtype;

    /// <inheritdoc/>
    public override void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y)
    {
        if (H(x).Data is float[] xf)
        {
            var yf = H(y).Array<float>();
            if (CpuUnary.TryFloat(op, xf, yf)) return;
        }
        base.Unary(op, x, y);
    }

    /// <inheritdoc/>
    public override void Binary(BinaryOp op, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        if (H(a.Buffer).Data is float[] af && H(y).Data is float[] yf
            && CpuBinary.TryFloat(op, af, a, H(b.Buffer).Array<float>(), b, yf, shape)) return;
        if (H(a.Buffer).Data is float[] ac && H(b.Buffer).Data is float[] bc && H(y).Data is bool[] yb
            && CpuBinary.TryCompareScalar(op, ac, a, bc, b, yb, shape)) return;
        base.Binary(op, a, b, y, shape);
    }

    /// <inheritdoc/>
    public override void Reduce(ReduceOp op, DeviceBuffer x, int outer, int reduce, int inner, DeviceBuffer y)
    {
        if (H(x).Data is float[] xf && CpuReduce.TryFloat(op, xf, outer, reduce, inner, H(y).Data)) return;
        base.Reduce(op, x, outer, reduce, inner, y);
    }

    /// <inheritdoc/>
    public override void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, in MatMulArgs p)
    {
        if (H(a).Data is float[] af)
        {
            var bf = H(b).Array<float>();
            var cf = H(c).Array<float>();
            for (var i = 0; i < p.Batch; i++)
                Gemm.Multiply(p.TransA, p.TransB, p.M, p.N, p.K,
                    af.AsSpan((int)(i * p.BatchStrideA)), bf.AsSpan((int)(i * p.BatchStrideB)), cf.AsSpan(i * p.M * p.N, p.M * p.N));
        }
        else
        {
            var ad = H(a).Array<double>();
            var bd = H(b).Array<double>();
            var cd = H(c).Array<double>();
            for (var i = 0; i < p.Batch; i++)
                Gemm.MultiplyNaive(p.TransA, p.TransB, p.M, p.N, p.K,
                    ad.AsSpan((int)(i * p.BatchStrideA)), bd.AsSpan((int)(i * p.BatchStrideB)), cd.AsSpan(i * p.M * p.N, p.M * p.N));
        }
    }

    /// <inheritdoc/>
    public override void Softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool log)
    {
        if (H(x).Data is float[] xf) CpuSoftmax.Rows(xf, H(y).Array<float>(), rows, cols, log);
        else CpuSoftmax.Rows(H(x).Array<double>(), H(y).Array<double>(), rows, cols, log);
    }

    /// <inheritdoc/>
    public override void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, bool sparse, int rows, int cols, DeviceBuffer loss, DeviceBuffer? backprop)
    {
        if (H(logits).Data is float[] xf)
            CpuSoftmax.CrossEntropy(xf, sparse ? null : H(labels).Array<float>(), sparse ? r => LabelAt(labels, r) : null, rows, cols, H(loss).Array<float>(), backprop is null ? null : H(backprop).Array<float>());
        else
            CpuSoftmax.CrossEntropy(H(logits).Array<double>(), sparse ? null : H(labels).Array<double>(), sparse ? r => LabelAt(labels, r) : null, rows, cols, H(loss).Array<double>(), backprop is null ? null : H(backprop).Array<double>());
    }

    /// <inheritdoc/>
    public override void ApplyOptimizer(OptimizerKind kind, in OptimizerArgs args, DeviceBuffer variable, DeviceBuffer grad, DeviceBuffer? slot1, DeviceBuffer? slot2, DeviceBuffer? slot3)
    {
        if (H(variable).Data is float[] w)
            CpuOptimizer.Apply(kind, args, w, H(grad).Array<float>(), Slot<float>(slot1), Slot<float>(slot2), Slot<float>(slot3));
        else
            base.ApplyOptimizer(kind, args, variable, grad, slot1, slot2, slot3);
    }

    /// <inheritdoc/>
    public override void Random(RandomDistribution dist, ulong seed, ulong counter, double a, double b, DeviceBuffer dst)
    {
        switch (H(dst).Data)
        {
            case float[] f:
                if (dist == RandomDistribution.Uniform && f.Length <= 65536)
                {
                    // Vectorised, and small enough that splitting it across threads costs more than it saves.
                    PhiloxSimd.Uniform(seed, counter, a, b, 0, f);
                    break;
                }
                Parallel.For(0, (f.Length + 16383) / 16384, chunk =>
                {
                    var start = chunk * 16384;
                    var end = Math.Min(f.Length, start + 16384);
                    if (dist == RandomDistribution.Uniform) PhiloxSimd.Uniform(seed, counter, a, b, start, f.AsSpan(start, end - start));
                    else for (var i = start; i < end; i++) f[i] = (float)Philox.Sample(dist, seed, counter, i, a, b);
                });
                break;
            default: base.Random(dist, seed, counter, a, b, dst); break;
        }
    }
}
