namespace Nabla.Kernels;

/// <summary>
/// Geometry of a 2-D pooling window over an NHWC tensor x [N, H, W, C] giving y [N, OutH, OutW, C]:
/// output pixel (i, j) reads the rows i·StrideH − PadTop … + KernelH − 1 and the columns
/// j·StrideW − PadLeft … + KernelW − 1 of x, skipping those outside the image (padding).
/// </summary>
/// <param name="N">Batch.</param>
/// <param name="H">Input height.</param>
/// <param name="W">Input width.</param>
/// <param name="C">Channels.</param>
/// <param name="OutH">Output height.</param>
/// <param name="OutW">Output width.</param>
/// <param name="KernelH">Window height.</param>
/// <param name="KernelW">Window width.</param>
/// <param name="StrideH">Vertical stride.</param>
/// <param name="StrideW">Horizontal stride.</param>
/// <param name="PadTop">Rows of padding before the image (the rest, if any, is after it).</param>
/// <param name="PadLeft">Columns of padding before the image.</param>
public readonly record struct Pool2DArgs(int N, int H, int W, int C, int OutH, int OutW, int KernelH, int KernelW, int StrideH, int StrideW, int PadTop, int PadLeft);

/// <summary>Which reduction a pooling window applies.</summary>
public enum PoolKind
{
    /// <summary>The largest element of the window (NaN propagates); its gradient goes to the first maximum.</summary>
    Max,
    /// <summary>The mean of the window's elements inside the image (padding is not counted).</summary>
    Average,
}

public partial interface IBackend
{
    /// <summary>y = pool(x) over NHWC windows (see <see cref="Pool2DArgs"/>); every window holds at least one element of the image.</summary>
    void Pool2D(PoolKind kind, DeviceBuffer x, DeviceBuffer y, in Pool2DArgs args);

    /// <summary>
    /// dx = ∂(Σ dy·pool(x))/∂x. Max: each dy element is added at the first maximum of its window in x (row-major
    /// window order, as TensorFlow); Average: dy / count is added to every element of the window inside the image.
    /// <paramref name="x"/> is read only for <see cref="PoolKind.Max"/> (it may be null for Average). dx is overwritten.
    /// </summary>
    void Pool2DGrad(PoolKind kind, DeviceBuffer? x, DeviceBuffer dy, DeviceBuffer dx, in Pool2DArgs args);
}
