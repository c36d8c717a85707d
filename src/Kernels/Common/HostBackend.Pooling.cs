namespace Nabla.Kernels;

public abstract partial class HostBackend
{
    /// <inheritdoc/>
    public abstract void Pool2D(PoolKind kind, DeviceBuffer x, DeviceBuffer y, in Pool2DArgs args);

    /// <inheritdoc/>
    public abstract void Pool2DGrad(PoolKind kind, DeviceBuffer? x, DeviceBuffer dy, DeviceBuffer dx, in Pool2DArgs args);

    /// <inheritdoc/>
    public abstract void BatchNorm(DeviceBuffer x, DeviceBuffer scale, DeviceBuffer offset, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer y, DeviceBuffer batchMean, DeviceBuffer batchVariance);

    /// <inheritdoc/>
    public abstract void BatchNormGrad(DeviceBuffer dy, DeviceBuffer x, DeviceBuffer scale, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer dx, DeviceBuffer dScale, DeviceBuffer dOffset);
}
