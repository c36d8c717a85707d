namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware (see CudaBackend.cs); runs on the PTX emulator through the kernels it composes.

internal sealed partial class CudaBackend
{
    // Batch norm is composed from the reduction and element-wise kernels rather than cuDNN's batch-norm calls, so it runs
    // on every ICudaDevice (the emulator tests it) and follows IBackend's definitions exactly: the Bessel-corrected
    // batch variance, inference-mode gradients (which cuDNN has no call for), and NaN statistics for an empty batch.
    // It costs about ten passes over x where cuDNN's fused kernel needs two; fusing it is future work.

    /// <inheritdoc/>
    public void BatchNorm(DeviceBuffer x, DeviceBuffer scale, DeviceBuffer offset, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer y, DeviceBuffer batchMean, DeviceBuffer batchVariance)
    {
        var dtype = B(x, nameof(x)).DType;
        using var t = new Scratch(this, dtype);
        if (training)
        {
            if (rows == 0)
            {
                Fill(batchMean, double.NaN);
                Fill(batchVariance, double.NaN);
                return;
            }
            Reduce(ReduceOp.Mean, x, 1, rows, channels, batchMean);
            var centred = t.Buffer(rows * channels);
            Binary(BinaryOp.Sub, Full(x, channels), Row(batchMean), centred, [rows, channels]);
            Unary(UnaryOp.Square, centred, y); // y is scratch until the last two passes
            var biased = t.Buffer(channels);
            Reduce(ReduceOp.Mean, y, 1, rows, channels, biased);
            var gain = Gain(t, scale, biased, epsilon, channels);
            Binary(BinaryOp.Mul, Full(centred, channels), Row(gain), y, [rows, channels]);
            Binary(BinaryOp.Add, Full(y, channels), Row(offset), y, [rows, channels]);
            Binary(BinaryOp.Mul, Vec(biased), Scalar(t.Constant(rows > 1 ? (double)rows / (rows - 1) : 1)), batchVariance, [channels]);
        }
        else
        {
            var gain = Gain(t, scale, variance, epsilon, channels);
            if (rows > 0)
            {
                Binary(BinaryOp.Sub, Full(x, channels), Row(mean), y, [rows, channels]);
                Binary(BinaryOp.Mul, Full(y, channels), Row(gain), y, [rows, channels]);
                Binary(BinaryOp.Add, Full(y, channels), Row(offset), y, [rows, channels]);
            }
            _memory.Copy(mean, batchMean);
            _memory.Copy(variance, batchVariance);
        }
    }

    /// <inheritdoc/>
    public void BatchNormGrad(DeviceBuffer dy, DeviceBuffer x, DeviceBuffer scale, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer dx, DeviceBuffer dScale, DeviceBuffer dOffset)
    {
        var dtype = B(x, nameof(x)).DType;
        if (rows == 0)
        {
            Fill(dScale, 0);
            Fill(dOffset, 0);
            return;
        }
        using var t = new Scratch(this, dtype);
        var mu = mean;
        var sigma2 = variance;
        var normalised = t.Buffer(rows * channels);
        if (training)
        {
            mu = t.Buffer(channels);
            Reduce(ReduceOp.Mean, x, 1, rows, channels, mu);
            Binary(BinaryOp.Sub, Full(x, channels), Row(mu), normalised, [rows, channels]);
            Unary(UnaryOp.Square, normalised, dx); // dx is scratch until the end
            sigma2 = t.Buffer(channels);
            Reduce(ReduceOp.Mean, dx, 1, rows, channels, sigma2);
        }
        else
        {
            Binary(BinaryOp.Sub, Full(x, channels), Row(mu), normalised, [rows, channels]);
        }
        var r = Rsqrt(t, sigma2, epsilon, channels);
        Binary(BinaryOp.Mul, Full(normalised, channels), Row(r), normalised, [rows, channels]); // x̂
        Reduce(ReduceOp.Sum, dy, 1, rows, channels, dOffset);
        Binary(BinaryOp.Mul, Full(dy, channels), Full(normalised, channels), dx, [rows, channels]);
        Reduce(ReduceOp.Sum, dx, 1, rows, channels, dScale);
        var gain = t.Buffer(channels);
        Binary(BinaryOp.Mul, Vec(scale), Vec(r), gain, [channels]);
        if (training)
        {
            // dx = γ·r·(dy − (dβ + x̂·dγ)/rows)
            Binary(BinaryOp.Mul, Full(normalised, channels), Row(dScale), dx, [rows, channels]);
            Binary(BinaryOp.Add, Full(dx, channels), Row(dOffset), dx, [rows, channels]);
            Binary(BinaryOp.Mul, Full(dx, channels), Scalar2(t.Constant(1.0 / rows)), dx, [rows, channels]);
            Binary(BinaryOp.Sub, Full(dy, channels), Full(dx, channels), dx, [rows, channels]);
            Binary(BinaryOp.Mul, Full(dx, channels), Row(gain), dx, [rows, channels]);
        }
        else
        {
            Binary(BinaryOp.Mul, Full(dy, channels), Row(gain), dx, [rows, channels]);
        }
    }

    /// <summary>γ / √(σ² + ε) per channel.</summary>
    private DeviceBuffer Gain(Scratch t, DeviceBuffer scale, DeviceBuffer sigma2, double epsilon, int channels)
    {
        var r = Rsqrt(t, sigma2, epsilon, channels);
        Binary(BinaryOp.Mul, Vec(scale), Vec(r), r, [channels]);
        return r;
    }

    /// <summary>1 / √(σ² + ε) per channel, in a scratch buffer.</summary>
    private DeviceBuffer Rsqrt(Scratch t, DeviceBuffer sigma2, double epsilon, int channels)
    {
        var r = t.Buffer(channels);
        Binary(BinaryOp.Add, Vec(sigma2), Scalar(t.Constant(epsilon)), r, [channels]);
        Unary(UnaryOp.Rsqrt, r, r);
        return r;
    }

    private static StridedView Full(DeviceBuffer b, int channels) => new(b, 0, [channels, 1]);

    private static StridedView Row(DeviceBuffer b) => new(b, 0, [0, 1]);

    private static StridedView Vec(DeviceBuffer b) => new(b, 0, [1]);

    private static StridedView Scalar(DeviceBuffer b) => new(b, 0, [0]);

    private static StridedView Scalar2(DeviceBuffer b) => new(b, 0, [0, 0]);

    /// <summary>
    /// Scratch buffers of one composed call, freed when it returns. Freeing while the queued kernels still use them is
    /// safe: the caching allocator hands a block out again only to work queued later on the same stream.
    /// </summary>
    private sealed class Scratch(CudaBackend backend, DType dtype) : IDisposable
    {
        private readonly List<DeviceBuffer> _buffers = [];

        public DeviceBuffer Buffer(int length)
        {
            var b = backend._memory.Allocate(dtype, length);
            _buffers.Add(b);
            return b;
        }

        public DeviceBuffer Constant(double value)
        {
            var b = Buffer(1);
            backend.Fill(b, value);
            return b;
        }

        public void Dispose()
        {
            foreach (var b in _buffers) backend._memory.Free(b);
            _buffers.Clear();
        }
    }
}
