namespace Nabla.Kernels.Reference;

/// <summary>
/// Convolutions as the definition in <see cref="Conv2DArgs"/> reads: direct loops over every output element
/// and filter tap in float64, with out-of-range input positions skipped (zero padding). No im2col, no GEMM,
/// nothing shared with the CPU backend's convolution, so the two check each other.
/// </summary>
public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    public long ConvolutionWorkspace(ConvolutionPass pass, in Conv2DArgs args, DType dtype) => 0;

    /// <inheritdoc/>
    public void Conv2D(DeviceBuffer x, DeviceBuffer filter, DeviceBuffer y, DeviceBuffer? workspace, in Conv2DArgs a)
    {
        Span<double> xv = Host(x).Span<double>(), wv = Host(filter).Span<double>(), yv = Host(y).Span<double>();
        for (var n = 0; n < a.Batch; n++)
            for (var ho = 0; ho < a.OutH; ho++)
                for (var wo = 0; wo < a.OutW; wo++)
                    for (var co = 0; co < a.OutC; co++)
                    {
                        var sum = 0.0;
                        for (var i = 0; i < a.KH; i++)
                        {
                            var h = ho * a.StrideH - a.PadTop + i * a.DilationH;
                            if (h < 0 || h >= a.InH) continue;
                            for (var j = 0; j < a.KW; j++)
                            {
                                var w = wo * a.StrideW - a.PadLeft + j * a.DilationW;
                                if (w < 0 || w >= a.InW) continue;
                                for (var ci = 0; ci < a.InC; ci++)
                                    sum += xv[XIndex(a, n, h, w, ci)] * wv[WIndex(a, i, j, ci, co)];
                            }
                        }
                        yv[YIndex(a, n, ho, wo, co)] = sum;
                    }
    }

    /// <inheritdoc/>
    public void Conv2DBackpropInput(DeviceBuffer dy, DeviceBuffer filter, DeviceBuffer dx, DeviceBuffer? workspace, in Conv2DArgs a)
    {
        Span<double> dyv = Host(dy).Span<double>(), wv = Host(filter).Span<double>(), dxv = Host(dx).Span<double>();
        dxv.Clear();
        for (var n = 0; n < a.Batch; n++)
            for (var ho = 0; ho < a.OutH; ho++)
                for (var wo = 0; wo < a.OutW; wo++)
                    for (var co = 0; co < a.OutC; co++)
                    {
                        var g = dyv[YIndex(a, n, ho, wo, co)];
                        for (var i = 0; i < a.KH; i++)
                        {
                            var h = ho * a.StrideH - a.PadTop + i * a.DilationH;
                            if (h < 0 || h >= a.InH) continue;
                            for (var j = 0; j < a.KW; j++)
                            {
                                var w = wo * a.StrideW - a.PadLeft + j * a.DilationW;
                                if (w < 0 || w >= a.InW) continue;
                                for (var ci = 0; ci < a.InC; ci++)
                                    dxv[XIndex(a, n, h, w, ci)] += g * wv[WIndex(a, i, j, ci, co)];
                            }
                        }
                    }
    }

    /// <inheritdoc/>
    public void Conv2DBackpropFilter(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer? workspace, in Conv2DArgs a)
    {
        Span<double> xv = Host(x).Span<double>(), dyv = Host(dy).Span<double>(), dwv = Host(dw).Span<double>();
        for (var i = 0; i < a.KH; i++)
            for (var j = 0; j < a.KW; j++)
                for (var ci = 0; ci < a.InC; ci++)
                    for (var co = 0; co < a.OutC; co++)
                    {
                        var sum = 0.0;
                        for (var n = 0; n < a.Batch; n++)
                            for (var ho = 0; ho < a.OutH; ho++)
                            {
                                var h = ho * a.StrideH - a.PadTop + i * a.DilationH;
                                if (h < 0 || h >= a.InH) continue;
                                for (var wo = 0; wo < a.OutW; wo++)
                                {
                                    var w = wo * a.StrideW - a.PadLeft + j * a.DilationW;
                                    if (w < 0 || w >= a.InW) continue;
                                    sum += xv[XIndex(a, n, h, w, ci)] * dyv[YIndex(a, n, ho, wo, co)];
                                }
                            }
                        dwv[WIndex(a, i, j, ci, co)] = sum;
                    }
    }

    private static int XIndex(in Conv2DArgs a, int n, int h, int w, int c) => ((n * a.InH + h) * a.InW + w) * a.InC + c;

    private static int YIndex(in Conv2DArgs a, int n, int h, int w, int c) => ((n * a.OutH + h) * a.OutW + w) * a.OutC + c;

    private static int WIndex(in Conv2DArgs a, int i, int j, int ci, int co) => ((i * a.KW + j) * a.InC + ci) * a.OutC + co;
}
