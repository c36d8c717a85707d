namespace Nabla.Kernels.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public override long ConvolutionWorkspace(ConvolutionPass pass, in Conv2DArgs args, DType dtype) =>
        CpuConvolution.Layout(pass, args, dtype.SizeOf(), Environment.ProcessorCount).WorkspaceElements;

    /// <inheritdoc/>
    public override unsafe void Conv2D(DeviceBuffer x, DeviceBuffer filter, DeviceBuffer y, DeviceBuffer? workspace, in Conv2DArgs args)
    {
        var layout = Layout(ConvolutionPass.Forward, args, x, workspace);
        if (Storage(x).Storage is float[])
            fixed (float* px = Span<float>(x), pw = Span<float>(filter), py = Span<float>(y), pws = WorkspaceSpan<float>(workspace))
            {
                // The direct kernel reports its output rows as they are done, so an armed epilogue (bias + activation) runs on them in cache.
                var epilogue = layout.Direct ? TakeEpilogue((long)args.Batch * args.OutH * args.OutW * args.OutC) : null;
                CpuConvolution.Forward(px, pw, py, pws, args, layout, epilogue);
                epilogue?.Finish();
            }
        else
            fixed (double* px = Span<double>(x), pw = Span<double>(filter), py = Span<double>(y), pws = WorkspaceSpan<double>(workspace))
                CpuConvolution.Forward(px, pw, py, pws, args, layout);
    }

    /// <inheritdoc/>
    public override unsafe void Conv2DBackpropInput(DeviceBuffer dy, DeviceBuffer filter, DeviceBuffer dx, DeviceBuffer? workspace, in Conv2DArgs args)
    {
        var layout = Layout(ConvolutionPass.BackpropInput, args, dy, workspace);
        if (Storage(dy).Storage is float[])
            fixed (float* pdy = Span<float>(dy), pw = Span<float>(filter), pdx = Span<float>(dx), pws = WorkspaceSpan<float>(workspace))
                CpuConvolution.BackpropInput(pdy, pw, pdx, pws, args, layout);
        else
            fixed (double* pdy = Span<double>(dy), pw = Span<double>(filter), pdx = Span<double>(dx), pws = WorkspaceSpan<double>(workspace))
                CpuConvolution.BackpropInput(pdy, pw, pdx, pws, args, layout);
    }

    /// <inheritdoc/>
    public override unsafe void Conv2DBackpropFilter(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? workspace, in Conv2DArgs args)
    {
        var layout = Layout(ConvolutionPass.BackpropFilter, args, x, workspace);
        if (Storage(x).Storage is float[])
            fixed (float* px = Span<float>(x), pdy = Span<float>(dy), pdw = Span<float>(dw), pws = WorkspaceSpan<float>(workspace))
                CpuConvolution.BackpropFilter(px, pdy, pdw, pws, args, layout);
        else
            fixed (double* px = Span<double>(x), pdy = Span<double>(dy), pdw = Span<double>(dw), pws = WorkspaceSpan<double>(workspace))
                CpuConvolution.BackpropFilter(px, pdy, pdw, pws, args, layout);
    }

    /// <summary>The call's split, after checking the workspace the plan gave is as large as it asked for.</summary>
    private static CpuConvolution.ConvLayout Layout(ConvolutionPass pass, in Conv2DArgs args, DeviceBuffer data, DeviceBuffer? workspace)
    {
        var layout = CpuConvolution.Layout(pass, args, data.DType.SizeOf(), Environment.ProcessorCount);
        var have = workspace?.Length ?? 0;
        if (have < layout.WorkspaceElements)
            throw new ArgumentException($"{pass} convolution needs a workspace of {layout.WorkspaceElements} elements, got {have}", nameof(workspace));
        return layout;
    }

    private static Span<T> WorkspaceSpan<T>(DeviceBuffer? workspace) => workspace is null ? default : Span<T>(workspace);
}
