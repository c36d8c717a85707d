namespace Nabla.Kernels;

public abstract partial class HostBackend
{
    /// <inheritdoc/>
    public abstract long ConvolutionWorkspace(ConvolutionPass pass, in Conv2DArgs args, DType dtype);

    /// <inheritdoc/>
    public abstract void Conv2D(DeviceBuffer x, DeviceBuffer filter, DeviceBuffer y, DeviceBuffer? workspace, in Conv2DArgs args);

    /// <inheritdoc/>
    public abstract void Conv2DBackpropInput(DeviceBuffer dy, DeviceBuffer filter, DeviceBuffer dx, DeviceBuffer? workspace, in Conv2DArgs args);

    /// <inheritdoc/>
    public abstract void Conv2DBackpropFilter(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? workspace, in Conv2DArgs args);
}
