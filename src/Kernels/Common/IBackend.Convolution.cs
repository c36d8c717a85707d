namespace Nabla.Kernels;

/// <summary>
/// The geometry of one 2-D convolution, NHWC input [Batch, InH, InW, InC], HWIO filter
/// [KH, KW, InC, OutC], NHWC output [Batch, OutH, OutW, OutC]:
/// y[n, ho, wo, co] = Σ_{i,j,ci} x[n, ho·StrideH − PadTop + i·DilationH, wo·StrideW − PadLeft + j·DilationW, ci] · w[i, j, ci, co],
/// with x read as 0 outside the input (zero padding).
/// </summary>
/// <remarks>
/// The engine computes the pads and output size (<c>ConvShapeRules</c>) and guarantees
/// OutH = ⌊(InH + PadTop + PadBottom − (KH − 1)·DilationH − 1) / StrideH⌋ + 1 (likewise for W), so input rows
/// and columns past the last window (possible with a stride above 1) are read by no output.
/// PadBottom/PadRight are carried for the record (a backend with explicit asymmetric padding, cuDNN, needs them).
/// </remarks>
/// <param name="Batch">N.</param>
/// <param name="InH">Input height.</param>
/// <param name="InW">Input width.</param>
/// <param name="InC">Input channels.</param>
/// <param name="KH">Filter height.</param>
/// <param name="KW">Filter width.</param>
/// <param name="OutC">Output channels (filters).</param>
/// <param name="StrideH">Vertical stride (≥ 1).</param>
/// <param name="StrideW">Horizontal stride (≥ 1).</param>
/// <param name="DilationH">Vertical dilation (≥ 1).</param>
/// <param name="DilationW">Horizontal dilation (≥ 1).</param>
/// <param name="PadTop">Zero rows above the input.</param>
/// <param name="PadLeft">Zero columns left of the input.</param>
/// <param name="PadBottom">Zero rows below the input.</param>
/// <param name="PadRight">Zero columns right of the input.</param>
/// <param name="OutH">Output height.</param>
/// <param name="OutW">Output width.</param>
public readonly record struct Conv2DArgs(int Batch, int InH, int InW, int InC, int KH, int KW, int OutC,
    int StrideH, int StrideW, int DilationH, int DilationW, int PadTop, int PadLeft, int PadBottom, int PadRight, int OutH, int OutW)
{
    /// <summary>Multiply-adds of one pass (forward, backprop-input and backprop-filter all do this many): N·OutH·OutW·KH·KW·InC·OutC.</summary>
    public long MultiplyAdds => (long)Batch * OutH * OutW * KH * KW * InC * OutC;
}

/// <summary>The three passes of a convolution, for <see cref="IBackend.ConvolutionWorkspace"/>.</summary>
public enum ConvolutionPass
{
    /// <summary>y = conv(x, w).</summary>
    Forward,
    /// <summary>dx = ∂(Σ dy·y)/∂x: the transposed convolution of dy with w.</summary>
    BackpropInput,
    /// <summary>dw = ∂(Σ dy·y)/∂w: the correlation of x with dy.</summary>
    BackpropFilter,
}

public partial interface IBackend
{
    /// <summary>
    /// Elements of scratch (of the data dtype) the backend needs for one call of <paramref name="pass"/> with
    /// these arguments; 0 when none. Asked once at plan time, so the workspace counts in the memory plan; the
    /// kernel then receives a buffer of at least this length (or null when 0).
    /// </summary>
    long ConvolutionWorkspace(ConvolutionPass pass, in Conv2DArgs args, DType dtype);

    /// <summary>y [N, OutH, OutW, OutC] = conv(x [N, InH, InW, InC], w [KH, KW, InC, OutC]) (see <see cref="Conv2DArgs"/>); y is overwritten.</summary>
    void Conv2D(DeviceBuffer x, DeviceBuffer filter, DeviceBuffer y, DeviceBuffer? workspace, in Conv2DArgs args);

    /// <summary>
    /// dx [N, InH, InW, InC] (overwritten) = the gradient of Σ dy·conv(x, w) with respect to x:
    /// dx[n, h, w, ci] = Σ over the (ho, wo, i, j) with h = ho·StrideH − PadTop + i·DilationH (likewise w) of dy[n, ho, wo, co]·w[i, j, ci, co].
    /// </summary>
    void Conv2DBackpropInput(DeviceBuffer dy, DeviceBuffer filter, DeviceBuffer dx, DeviceBuffer? workspace, in Conv2DArgs args);

    /// <summary>dw [KH, KW, InC, OutC] (overwritten) = Σ_{n, ho, wo} x[n, ho·StrideH − PadTop + i·DilationH, …, ci]·dy[n, ho, wo, co].</summary>
    void Conv2DBackpropFilter(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? workspace, in Conv2DArgs args);
}
