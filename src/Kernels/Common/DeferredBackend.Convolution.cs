namespace Nabla.Kernels;

public sealed partial class DeferredBackend
{
    /// <inheritdoc/>
    public long ConvolutionWorkspace(ConvolutionPass pass, in Conv2DArgs args, DType dtype) => _inner.ConvolutionWorkspace(pass, args, dtype);

    /// <inheritdoc/>
    public void Conv2D(DeviceBuffer x, DeviceBuffer filter, DeviceBuffer y, DeviceBuffer? workspace, in Conv2DArgs args)
    {
        var p = args;
        Enqueue(() => _inner.Conv2D(x, filter, y, workspace, p));
    }

    /// <inheritdoc/>
    public void Conv2DBackpropInput(DeviceBuffer dy, DeviceBuffer filter, DeviceBuffer dx, DeviceBuffer? workspace, in Conv2DArgs args)
    {
        var p = args;
        Enqueue(() => _inner.Conv2DBackpropInput(dy, filter, dx, workspace, p));
    }

    /// <inheritdoc/>
    public void Conv2DBackpropFilter(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? workspace, in Conv2DArgs args)
    {
        var p = args;
        Enqueue(() => _inner.Conv2DBackpropFilter(x, dy, dw, workspace, p));
    }
}
