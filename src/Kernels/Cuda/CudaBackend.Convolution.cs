namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware (see CudaBackend.cs): the cuDNN calls below have only been read against cudnn_cnn.h.

internal sealed partial class CudaBackend
{
    private readonly Dictionary<(ConvolutionPass, Conv2DArgs, DType), CudnnConvolution> _convolutions = [];

    /// <summary>The cuDNN handle, or NotSupportedException naming the family and this device when it has none (the emulator).</summary>
    private nint CudnnFor(string family)
    {
        RequireCudnn(family);
        // A recording in progress is interrupted first: cuDNN's calls go to the library directly (CudaBackend.Graphs.cs).
        return CudnnHandle() ?? throw new InvalidOperationException($"{Name} lost its cuDNN device");
    }

    /// <summary>NotSupportedException naming the family and this device when it has no cuDNN (the emulator); loads nothing.</summary>
    private void RequireCudnn(string family)
    {
        if (_recorder.Inner is not ICudnnDevice) throw new NotSupportedException($"{family} runs on cuDNN, which {Name} does not have; use Device.Cpu or a GPU");
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The workspace holds, in order: the filter transposed from HWIO to cuDNN's KRSC (NHWC filter layout), the input padded
    /// explicitly when the padding is asymmetric (cuDNN's descriptor pads both sides alike), and cuDNN's own workspace for
    /// the algorithm its heuristics chose. Each part starts on a 256-byte boundary.
    /// </remarks>
    public long ConvolutionWorkspace(ConvolutionPass pass, in Conv2DArgs args, DType dtype)
    {
        var c = Convolution(pass, args, dtype);
        return (long)((c.WorkspaceBytes + (ulong)dtype.SizeOf() - 1) / (ulong)dtype.SizeOf());
    }

    private CudnnConvolution Convolution(ConvolutionPass pass, in Conv2DArgs args, DType dtype)
    {
        var key = (pass, args, dtype);
        if (_convolutions.TryGetValue(key, out var c)) return c;
        try { c = CudnnConvolution.Create(CudnnFor($"Conv2D ({pass})"), pass, args, dtype, AllowTf32); }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
        _convolutions.Add(key, c);
        return c;
    }

    /// <inheritdoc/>
    public void Conv2D(DeviceBuffer x, DeviceBuffer filter, DeviceBuffer y, DeviceBuffer? workspace, in Conv2DArgs args)
    {
        CudaBuffer xb = B(x, nameof(x)), wb = B(filter, nameof(filter)), yb = B(y, nameof(y));
        if (yb.Length == 0) return;
        if (xb.Length == 0 || wb.Length == 0) { Fill(yb, 0); return; }
        var c = Convolution(ConvolutionPass.Forward, args, xb.DType);
        var ws = Workspace(workspace, c);
        var a = args;
        Guard(() =>
        {
            var w = TransposeFilterIn(c, wb, ws, a);
            var input = c.Padded ? PadInput(c, xb, ws, a) : xb.Address;
            c.Forward(CudnnFor("Conv2D"), input, w, yb.Address, ws + c.CudnnOffset);
        });
    }

    /// <inheritdoc/>
    public void Conv2DBackpropInput(DeviceBuffer dy, DeviceBuffer filter, DeviceBuffer dx, DeviceBuffer? workspace, in Conv2DArgs args)
    {
        CudaBuffer dyb = B(dy, nameof(dy)), wb = B(filter, nameof(filter)), dxb = B(dx, nameof(dx));
        if (dxb.Length == 0) return;
        if (dyb.Length == 0 || wb.Length == 0) { Fill(dxb, 0); return; }
        var c = Convolution(ConvolutionPass.BackpropInput, args, dxb.DType);
        var ws = Workspace(workspace, c);
        var a = args;
        Guard(() =>
        {
            var w = TransposeFilterIn(c, wb, ws, a);
            var target = c.Padded ? ws + c.PaddedOffset : dxb.Address;
            c.BackwardData(CudnnFor("Conv2DBackpropInput"), w, dyb.Address, target, ws + c.CudnnOffset);
            if (c.Padded)
            {
                // Crop the gradient of the padded input back to the input.
                int hp = c.PaddedH, wp = c.PaddedW;
                ElementwiseKernels.Copy(K, dxb.DType, ws + c.PaddedOffset, (c.ExtraTop * (long)wp + c.ExtraLeft) * a.InC,
                    [hp * wp * a.InC, wp * a.InC, a.InC, 1], dxb.Address, 0, [a.InH * a.InW * a.InC, a.InW * a.InC, a.InC, 1], [a.Batch, a.InH, a.InW, a.InC]);
            }
        });
    }

    /// <inheritdoc/>
    public void Conv2DBackpropFilter(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? workspace, in Conv2DArgs args)
    {
        CudaBuffer xb = B(x, nameof(x)), dyb = B(dy, nameof(dy)), dwb = B(dw, nameof(dw));
        if (dwb.Length == 0) return;
        if (xb.Length == 0 || dyb.Length == 0) { Fill(dwb, 0); return; }
        var c = Convolution(ConvolutionPass.BackpropFilter, args, dwb.DType);
        var ws = Workspace(workspace, c);
        var a = args;
        Guard(() =>
        {
            var input = c.Padded ? PadInput(c, xb, ws, a) : xb.Address;
            c.BackwardFilter(CudnnFor("Conv2DBackpropFilter"), input, dyb.Address, ws, ws + c.CudnnOffset);
            // KRSC (OutC, KH, KW, InC) in the workspace → HWIO.
            ElementwiseKernels.Copy(K, dwb.DType, ws, 0, KrscStrides(a), dwb.Address, 0, HwioStridesInKrscOrder(a), [a.OutC, a.KH, a.KW, a.InC]);
        });
    }

    private ulong Workspace(DeviceBuffer? workspace, CudnnConvolution c)
    {
        if (c.WorkspaceBytes == 0) return 0;
        if (workspace is null) throw new ArgumentException($"this convolution needs a workspace of {c.WorkspaceBytes} bytes", nameof(workspace));
        var w = B(workspace, nameof(workspace));
        if ((ulong)w.Length * (ulong)w.DType.SizeOf() < c.WorkspaceBytes)
            throw new ArgumentException($"the workspace holds {w.Length} elements, this convolution needs {c.WorkspaceBytes} bytes", nameof(workspace));
        return w.Address;
    }

    private static int[] KrscStrides(in Conv2DArgs a) => [a.KH * a.KW * a.InC, a.KW * a.InC, a.InC, 1];

    /// <summary>Strides of an HWIO filter walked in KRSC order (OutC, KH, KW, InC).</summary>
    private static int[] HwioStridesInKrscOrder(in Conv2DArgs a) => [1, a.KW * a.InC * a.OutC, a.InC * a.OutC, a.OutC];

    /// <summary>Copies the HWIO filter to KRSC at the start of the workspace; returns its address.</summary>
    private ulong TransposeFilterIn(CudnnConvolution c, CudaBuffer filter, ulong ws, in Conv2DArgs a)
    {
        ElementwiseKernels.Copy(K, filter.DType, filter.Address, 0, HwioStridesInKrscOrder(a), ws, 0, KrscStrides(a), [a.OutC, a.KH, a.KW, a.InC]);
        return ws + c.FilterOffset;
    }

    /// <summary>Writes x into the zeroed padded-input part of the workspace; returns its address.</summary>
    private ulong PadInput(CudnnConvolution c, CudaBuffer x, ulong ws, in Conv2DArgs a)
    {
        int hp = c.PaddedH, wp = c.PaddedW;
        var padded = ws + c.PaddedOffset;
        var elements = (long)a.Batch * hp * wp * a.InC;
        ElementwiseKernels.Fill(K, x.DType, padded, elements, 0);
        ElementwiseKernels.Copy(K, x.DType, x.Address, 0, [a.InH * a.InW * a.InC, a.InW * a.InC, a.InC, 1],
            padded, (c.ExtraTop * (long)wp + c.ExtraLeft) * a.InC, [hp * wp * a.InC, wp * a.InC, a.InC, 1], [a.Batch, a.InH, a.InW, a.InC]);
        return padded;
    }

    private void DisposeConvolutions()
    {
        List<Exception> errors = [];
        foreach (var c in _convolutions.Values)
        {
            try { c.Dispose(); }
            catch (CudaException e) { errors.Add(e); }
        }
        _convolutions.Clear();
        if (errors.Count > 0) throw errors.Count == 1 ? errors[0] : new AggregateException("destroying cuDNN descriptors failed", errors);
    }
}
