namespace Nabla.Kernels;

public sealed partial class DeferredBackend
{
    /// <inheritdoc/>
    public void Pool2D(PoolKind kind, DeviceBuffer x, DeviceBuffer y, in Pool2DArgs args)
    {
        var a = args;
        Enqueue(() => _inner.Pool2D(kind, x, y, a));
    }

    /// <inheritdoc/>
    public void Pool2DGrad(PoolKind kind, DeviceBuffer? x, DeviceBuffer dy, DeviceBuffer dx, in Pool2DArgs args)
    {
        var a = args;
        Enqueue(() => _inner.Pool2DGrad(kind, x, dy, dx, a));
    }

    /// <inheritdoc/>
    public void BatchNorm(DeviceBuffer x, DeviceBuffer scale, DeviceBuffer offset, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer y, DeviceBuffer batchMean, DeviceBuffer batchVariance) =>
        Enqueue(() => _inner.BatchNorm(x, scale, offset, mean, variance, epsilon, training, rows, channels, y, batchMean, batchVariance));

    /// <inheritdoc/>
    public void BatchNormGrad(DeviceBuffer dy, DeviceBuffer x, DeviceBuffer scale, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer dx, DeviceBuffer dScale, DeviceBuffer dOffset) =>
        Enqueue(() => _inner.BatchNormGrad(dy, x, scale, mean, variance, epsilon, training, rows, channels, dx, dScale, dOffset));
}
