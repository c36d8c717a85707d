namespace Nabla.Kernels.Reference;

public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    public void Pool2D(PoolKind kind, DeviceBuffer x, DeviceBuffer y, in Pool2DArgs p)
    {
        Span<double> xv = Host(x).Span<double>(), yv = Host(y).Span<double>();
        for (var n = 0; n < p.N; n++)
            for (var i = 0; i < p.OutH; i++)
                for (var j = 0; j < p.OutW; j++)
                    for (var c = 0; c < p.C; c++)
                    {
                        var best = double.NegativeInfinity;
                        var sum = 0.0;
                        var count = 0;
                        foreach (var at in Window(p, n, i, j, c))
                        {
                            var v = xv[at];
                            // NaN wins: once seen it stays (v > NaN and NaN > v are both false).
                            if (double.IsNaN(v) || v > best) best = double.IsNaN(best) ? best : v;
                            sum += v;
                            count++;
                        }
                        yv[((n * p.OutH + i) * p.OutW + j) * p.C + c] = kind == PoolKind.Max ? best : sum / count;
                    }
    }

    /// <inheritdoc/>
    public void Pool2DGrad(PoolKind kind, DeviceBuffer? x, DeviceBuffer dy, DeviceBuffer dx, in Pool2DArgs p)
    {
        Span<double> gv = Host(dy).Span<double>(), dv = Host(dx).Span<double>();
        dv.Clear();
        for (var n = 0; n < p.N; n++)
            for (var i = 0; i < p.OutH; i++)
                for (var j = 0; j < p.OutW; j++)
                    for (var c = 0; c < p.C; c++)
                    {
                        var g = gv[((n * p.OutH + i) * p.OutW + j) * p.C + c];
                        var window = Window(p, n, i, j, c);
                        if (kind == PoolKind.Average)
                        {
                            foreach (var at in window) dv[at] += g / window.Count;
                            continue;
                        }
                        // The first maximum in window order: a later element must be strictly greater to take over.
                        var xv = Host(x!).Span<double>();
                        var arg = window[0];
                        foreach (var at in window)
                            if (!double.IsNaN(xv[arg]) && (double.IsNaN(xv[at]) || xv[at] > xv[arg])) arg = at;
                        dv[arg] += g;
                    }
    }

    /// <summary>Flat indices into x of window (i, j) of image n, channel c, in row-major window order, padding skipped.</summary>
    private static List<int> Window(in Pool2DArgs p, int n, int i, int j, int c)
    {
        var list = new List<int>(p.KernelH * p.KernelW);
        for (var di = 0; di < p.KernelH; di++)
            for (var dj = 0; dj < p.KernelW; dj++)
            {
                int r = i * p.StrideH - p.PadTop + di, q = j * p.StrideW - p.PadLeft + dj;
                if (r >= 0 && r < p.H && q >= 0 && q < p.W) list.Add(((n * p.H + r) * p.W + q) * p.C + c);
            }
        return list;
    }
}
