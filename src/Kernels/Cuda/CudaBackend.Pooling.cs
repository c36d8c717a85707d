namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware (see CudaBackend.cs): cuDNN pooling as bound in CuDnn.cs.

internal sealed unsafe partial class CudaBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// cuDNN pooling over NHWC descriptors: max with NaN propagation, average excluding padding (as IBackend defines it).
    /// cuDNN pads both sides alike, so a geometry whose output size needs more padding after the image than before (SAME
    /// with an odd total, stride 1) is not expressible and fails with NotSupportedException in this build.
    /// </remarks>
    public void Pool2D(PoolKind kind, DeviceBuffer x, DeviceBuffer y, in Pool2DArgs args)
    {
        CudaBuffer xb = B(x, nameof(x)), yb = B(y, nameof(y));
        if (yb.Length == 0) return;
        var a = args;
        Guard(() =>
        {
            var handle = CudnnFor("Pool2D");
            using var d = new PoolingDescriptors(kind, xb.DType, a);
            CudnnScale.OneZero(xb.DType, (one, zero) =>
                CuDnn.Check(CuDnn.cudnnPoolingForward(handle, d.Pooling, one, d.X, xb.Address, zero, d.Y, yb.Address), nameof(CuDnn.cudnnPoolingForward)));
        });
    }

    /// <inheritdoc/>
    /// <remarks>
    /// cudnnPoolingBackward reads the forward output y, which IBackend does not pass: for max pooling it is recomputed into
    /// a scratch buffer; average pooling reads neither x nor y, so dy and dx stand in for them (same shapes).
    /// </remarks>
    public void Pool2DGrad(PoolKind kind, DeviceBuffer? x, DeviceBuffer dy, DeviceBuffer dx, in Pool2DArgs args)
    {
        CudaBuffer dyb = B(dy, nameof(dy)), dxb = B(dx, nameof(dx));
        if (dxb.Length == 0) return;
        if (dyb.Length == 0) { Fill(dxb, 0); return; }
        var xb = kind == PoolKind.Max ? B(x ?? throw new ArgumentNullException(nameof(x), "max pooling's gradient reads x"), nameof(x)) : dxb;
        RequireCudnn("Pool2DGrad"); // before the scratch buffer is taken
        var a = args;
        var y = kind == PoolKind.Max ? (CudaBuffer)_memory.Allocate(dyb.DType, dyb.Length) : dyb;
        try
        {
            Guard(() =>
            {
                var handle = CudnnFor("Pool2DGrad");
                using var d = new PoolingDescriptors(kind, dyb.DType, a);
                CudnnScale.OneZero(dyb.DType, (one, zero) =>
                {
                    if (kind == PoolKind.Max)
                        CuDnn.Check(CuDnn.cudnnPoolingForward(handle, d.Pooling, one, d.X, xb.Address, zero, d.Y, y.Address), nameof(CuDnn.cudnnPoolingForward));
                    CuDnn.Check(CuDnn.cudnnPoolingBackward(handle, d.Pooling, one, d.Y, y.Address, d.Y, dyb.Address, d.X, xb.Address, zero, d.X, dxb.Address),
                        nameof(CuDnn.cudnnPoolingBackward));
                });
            });
        }
        finally
        {
            // Stream order keeps the scratch alive for the queued backward pass (see CudaBackend.Scratch).
            if (!ReferenceEquals(y, dyb)) _memory.Free(y);
        }
    }

    /// <summary>The pooling, input and output descriptors of one call.</summary>
    private sealed class PoolingDescriptors : IDisposable
    {
        public nint Pooling, X, Y;

        public PoolingDescriptors(PoolKind kind, DType dtype, in Pool2DArgs a)
        {
            var outH = 1 + (a.H + 2 * a.PadTop - a.KernelH) / a.StrideH;
            var outW = 1 + (a.W + 2 * a.PadLeft - a.KernelW) / a.StrideW;
            if (outH != a.OutH || outW != a.OutW)
                throw new NotSupportedException($"Pool2D on CUDA: cuDNN's symmetric padding ({a.PadTop}, {a.PadLeft}) gives a {outH}×{outW} output, " +
                    $"the op needs {a.OutH}×{a.OutW} (asymmetric padding is not on CUDA in this build)");
            if (dtype is not (DType.Float32 or DType.Float64)) throw new NotSupportedException($"Pool2D on CUDA is defined for float32 and float64, not {dtype.Name()}");
            var type = dtype == DType.Float32 ? CudnnDataType.Float : CudnnDataType.Double;
            try
            {
                CuDnn.Check(CuDnn.cudnnCreatePoolingDescriptor(out Pooling), nameof(CuDnn.cudnnCreatePoolingDescriptor));
                var mode = kind == PoolKind.Max ? CudnnPoolingMode.Max : CudnnPoolingMode.AverageCountExcludePadding;
                CuDnn.Check(CuDnn.cudnnSetPooling2dDescriptor(Pooling, mode, CudnnNanPropagation.Propagate, a.KernelH, a.KernelW, a.PadTop, a.PadLeft,
                    a.StrideH, a.StrideW), nameof(CuDnn.cudnnSetPooling2dDescriptor));
                CuDnn.Check(CuDnn.cudnnCreateTensorDescriptor(out X), nameof(CuDnn.cudnnCreateTensorDescriptor));
                CuDnn.Check(CuDnn.cudnnSetTensor4dDescriptor(X, CudnnTensorFormat.Nhwc, type, a.N, a.C, a.H, a.W), nameof(CuDnn.cudnnSetTensor4dDescriptor));
                CuDnn.Check(CuDnn.cudnnCreateTensorDescriptor(out Y), nameof(CuDnn.cudnnCreateTensorDescriptor));
                CuDnn.Check(CuDnn.cudnnSetTensor4dDescriptor(Y, CudnnTensorFormat.Nhwc, type, a.N, a.C, a.OutH, a.OutW), nameof(CuDnn.cudnnSetTensor4dDescriptor));
            }
            catch (CudaException)
            {
                Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            int sx = X == 0 ? 0 : CuDnn.cudnnDestroyTensorDescriptor(X), sy = Y == 0 ? 0 : CuDnn.cudnnDestroyTensorDescriptor(Y);
            var sp = Pooling == 0 ? 0 : CuDnn.cudnnDestroyPoolingDescriptor(Pooling);
            X = Y = Pooling = 0;
            CuDnn.Check(sx, nameof(CuDnn.cudnnDestroyTensorDescriptor));
            CuDnn.Check(sy, nameof(CuDnn.cudnnDestroyTensorDescriptor));
            CuDnn.Check(sp, nameof(CuDnn.cudnnDestroyPoolingDescriptor));
        }
    }
}
