namespace Nabla.Kernels.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public override void Pool2D(PoolKind kind, DeviceBuffer x, DeviceBuffer y, in Pool2DArgs args)
    {
        if (Storage(x).Storage is float[]) CpuPooling.Forward(kind, Storage(x).Segment<float>(), Storage(y).Segment<float>(), args);
        else CpuPooling.Forward(kind, Storage(x).Segment<double>(), Storage(y).Segment<double>(), args);
    }

    /// <inheritdoc/>
    public override void Pool2DGrad(PoolKind kind, DeviceBuffer? x, DeviceBuffer dy, DeviceBuffer dx, in Pool2DArgs args)
    {
        if (Storage(dy).Storage is float[])
            CpuPooling.Backward(kind, x is null ? default : Storage(x).Segment<float>(), Storage(dy).Segment<float>(), Storage(dx).Segment<float>(), args);
        else
            CpuPooling.Backward(kind, x is null ? default : Storage(x).Segment<double>(), Storage(dy).Segment<double>(), Storage(dx).Segment<double>(), args);
    }

    /// <inheritdoc/>
    public override void BatchNorm(DeviceBuffer x, DeviceBuffer scale, DeviceBuffer offset, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer y, DeviceBuffer batchMean, DeviceBuffer batchVariance)
    {
        if (Storage(x).Storage is float[])
            CpuBatchNorm.Forward(Seg<float>(x), Seg<float>(scale), Seg<float>(offset), Seg<float>(mean), Seg<float>(variance), epsilon, training, rows, channels,
                Seg<float>(y), Seg<float>(batchMean), Seg<float>(batchVariance));
        else
            CpuBatchNorm.Forward(Seg<double>(x), Seg<double>(scale), Seg<double>(offset), Seg<double>(mean), Seg<double>(variance), epsilon, training, rows, channels,
                Seg<double>(y), Seg<double>(batchMean), Seg<double>(batchVariance));
    }

    /// <inheritdoc/>
    public override void BatchNormGrad(DeviceBuffer dy, DeviceBuffer x, DeviceBuffer scale, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer dx, DeviceBuffer dScale, DeviceBuffer dOffset)
    {
        if (Storage(x).Storage is float[])
            CpuBatchNorm.Backward(Seg<float>(dy), Seg<float>(x), Seg<float>(scale), Seg<float>(mean), Seg<float>(variance), epsilon, training, rows, channels,
                Seg<float>(dx), Seg<float>(dScale), Seg<float>(dOffset));
        else
            CpuBatchNorm.Backward(Seg<double>(dy), Seg<double>(x), Seg<double>(scale), Seg<double>(mean), Seg<double>(variance), epsilon, training, rows, channels,
                Seg<double>(dx), Seg<double>(dScale), Seg<double>(dOffset));
    }

    private static ArraySegment<T> Seg<T>(DeviceBuffer b) => Storage(b).Segment<T>();
}
