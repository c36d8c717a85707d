namespace Nabla.Kernels;

public sealed partial class DeferredBackend
{
    /// <inheritdoc/>
    public long RnnWorkspace(RnnPass pass, in RnnArgs args, DType dtype) => _inner.RnnWorkspace(pass, args, dtype);

    /// <inheritdoc/>
    public void RnnForward(in RnnArgs args, DeviceBuffer x, DeviceBuffer h0, DeviceBuffer? c0, DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias,
        DeviceBuffer? mask, DeviceBuffer y, DeviceBuffer hT, DeviceBuffer? cT, DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates,
        DeviceBuffer? workspace)
    {
        var a = args;
        Enqueue(() => _inner.RnnForward(a, x, h0, c0, kernel, recurrent, bias, mask, y, hT, cT, states, cells, gates, workspace));
    }

    /// <inheritdoc/>
    public void RnnBackward(in RnnArgs args, DeviceBuffer x, DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias, DeviceBuffer? mask,
        DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates, DeviceBuffer dy, DeviceBuffer dhT, DeviceBuffer? dcT,
        DeviceBuffer dx, DeviceBuffer dh0, DeviceBuffer? dc0, DeviceBuffer dKernel, DeviceBuffer dRecurrent, DeviceBuffer dBias, DeviceBuffer? workspace)
    {
        var a = args;
        Enqueue(() => _inner.RnnBackward(a, x, kernel, recurrent, bias, mask, states, cells, gates, dy, dhT, dcT, dx, dh0, dc0, dKernel, dRecurrent, dBias, workspace));
    }
}
