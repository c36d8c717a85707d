namespace Nabla.Kernels.Cuda;

internal sealed partial class CudaBackend
{
    // The fused recurrent kernels are not on CUDA in this build: composing them from cuBLAS GEMMs and the element-wise
    // kernels (per time step, with the saved gates RnnBackward reads) is future work. Plans with RNN layers fail at
    // compile time (RnnWorkspace is asked then) with this message instead of running part of a step.

    private NotSupportedException RnnUnsupported() =>
        new($"the fused recurrent kernels (SimpleRNN, LSTM, GRU) are not on CUDA in this build ({Name}); run recurrent models on Device.Cpu");

    /// <inheritdoc/>
    public long RnnWorkspace(RnnPass pass, in RnnArgs args, DType dtype) => throw RnnUnsupported();

    /// <inheritdoc/>
    public void RnnForward(in RnnArgs args, DeviceBuffer x, DeviceBuffer h0, DeviceBuffer? c0, DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias,
        DeviceBuffer? mask, DeviceBuffer y, DeviceBuffer hT, DeviceBuffer? cT, DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates,
        DeviceBuffer? workspace) => throw RnnUnsupported();

    /// <inheritdoc/>
    public void RnnBackward(in RnnArgs args, DeviceBuffer x, DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias, DeviceBuffer? mask,
        DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates, DeviceBuffer dy, DeviceBuffer dhT, DeviceBuffer? dcT,
        DeviceBuffer dx, DeviceBuffer dh0, DeviceBuffer? dc0, DeviceBuffer dKernel, DeviceBuffer dRecurrent, DeviceBuffer dBias, DeviceBuffer? workspace) =>
        throw RnnUnsupported();
}
