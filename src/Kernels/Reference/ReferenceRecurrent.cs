namespace Nabla.Kernels.Reference;

/// <summary>
/// The fused recurrent kernels written as the textbook recurrences, one (batch row, step) at a time in float64. The
/// backward pass recomputes every gate from the saved states (it does not read the saved gates), so the CPU kernel's
/// saved gates are checked as forward outputs and its backward independently.
/// </summary>
public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    public long RnnWorkspace(RnnPass pass, in RnnArgs args, DType dtype) => 0;

    /// <inheritdoc/>
    public void RnnForward(in RnnArgs args, DeviceBuffer x, DeviceBuffer h0, DeviceBuffer? c0, DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias,
        DeviceBuffer? mask, DeviceBuffer y, DeviceBuffer hT, DeviceBuffer? cT, DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates,
        DeviceBuffer? workspace)
    {
        var a = args;
        int u = a.Units, bu = a.Batch * u;
        for (var b = 0; b < a.Batch; b++)
            for (var j = 0; j < u; j++)
            {
                SetF(states, b * u + j, F(h0, b * u + j));
                if (cells is not null) SetF(cells, b * u + j, F(c0!, b * u + j));
            }
        for (var b = 0; b < a.Batch; b++)
            for (var s = 0; s < a.Time; s++)
            {
                var t = a.TimeOf(s);
                var xs = Row(x, (b * a.Time + t) * a.Input, a.Input);
                var hPrev = Row(states, s * bu + b * u, u);
                var cPrev = cells is null ? [] : Row(cells, s * bu + b * u, u);
                var step = Step(a, xs, hPrev, cPrev, kernel, recurrent, bias);
                var keep = mask is null || F(mask, b * a.Time + t) != 0;
                for (var j = 0; j < u; j++)
                {
                    SetF(states, (s + 1) * bu + b * u + j, keep ? step.H[j] : hPrev[j]);
                    if (cells is not null) SetF(cells, (s + 1) * bu + b * u + j, keep ? step.C[j] : cPrev[j]);
                    SetF(y, (b * a.Time + s) * u + j, keep ? step.H[j] : 0);
                }
                if (gates is not null)
                    for (var j = 0; j < a.SavedGateWidth; j++)
                        SetF(gates, (s * a.Batch + b) * a.SavedGateWidth + j, step.Saved[j]);
            }
        for (var i = 0; i < bu; i++)
        {
            SetF(hT, i, F(states, a.Time * bu + i));
            if (cT is not null) SetF(cT, i, F(cells!, a.Time * bu + i));
        }
    }

    /// <inheritdoc/>
    public void RnnBackward(in RnnArgs args, DeviceBuffer x, DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias, DeviceBuffer? mask,
        DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates, DeviceBuffer dy, DeviceBuffer dhT, DeviceBuffer? dcT,
        DeviceBuffer dx, DeviceBuffer dh0, DeviceBuffer? dc0, DeviceBuffer dKernel, DeviceBuffer dRecurrent, DeviceBuffer dBias, DeviceBuffer? workspace)
    {
        var a = args;
        int u = a.Units, bu = a.Batch * u, n = a.Blocks * u, inp = a.Input;
        double[] dW = new double[inp * n], dR = new double[u * n], db = new double[a.Cell == RnnCell.Gru && a.ResetAfter ? 2 * n : n];
        for (var i = 0; i < a.Batch * a.Time * inp; i++) SetF(dx, i, 0);
        // Bias rows: the input one, and (reset_after GRU) the recurrent one.
        var recBias = a.Cell == RnnCell.Gru && a.ResetAfter ? n : 0;
        for (var b = 0; b < a.Batch; b++)
        {
            var dh = Row(dhT, b * u, u);
            var dc = dcT is null ? new double[u] : Row(dcT, b * u, u);
            for (var s = a.Time - 1; s >= 0; s--)
            {
                var t = a.TimeOf(s);
                if (mask is not null && F(mask, b * a.Time + t) == 0) continue; // skipped step: the state (and its gradient) passes through
                var xs = Row(x, (b * a.Time + t) * inp, inp);
                var hPrev = Row(states, s * bu + b * u, u);
                var cPrev = cells is null ? [] : Row(cells, s * bu + b * u, u);
                var st = Step(a, xs, hPrev, cPrev, kernel, recurrent, bias);
                var dhc = new double[u];
                for (var j = 0; j < u; j++) dhc[j] = dh[j] + F(dy, (b * a.Time + s) * u + j);
                // dIn: gradient of the input pre-activations x·W + b; dRec: of the recurrent ones h₋₁·R (+ b'); they
                // differ only for the GRU candidate.
                double[] dIn = new double[n], dRec = new double[n], dhPrev = new double[u];
                var rh = hPrev;
                switch (a.Cell)
                {
                    case RnnCell.SimpleRnn:
                        for (var j = 0; j < u; j++) dIn[j] = dRec[j] = dhc[j] * (1 - st.H[j] * st.H[j]);
                        break;
                    case RnnCell.Lstm:
                        for (var j = 0; j < u; j++)
                        {
                            double ig = st.Saved[j], fg = st.Saved[u + j], gg = st.Saved[2 * u + j], og = st.Saved[3 * u + j], tc = Math.Tanh(st.C[j]);
                            var dct = dc[j] + dhc[j] * og * (1 - tc * tc);
                            dIn[j] = dct * gg * ig * (1 - ig);
                            dIn[u + j] = dct * cPrev[j] * fg * (1 - fg);
                            dIn[2 * u + j] = dct * ig * (1 - gg * gg);
                            dIn[3 * u + j] = dhc[j] * tc * og * (1 - og);
                            dc[j] = dct * fg;
                        }
                        Array.Copy(dIn, dRec, n);
                        break;
                    case RnnCell.Gru:
                        rh = new double[u];
                        var dRh = new double[u];
                        for (var j = 0; j < u; j++)
                        {
                            double z = st.Saved[j], hh = st.Saved[2 * u + j];
                            dIn[2 * u + j] = dhc[j] * (1 - z) * (1 - hh * hh);
                            dIn[j] = dRec[j] = dhc[j] * (hPrev[j] - hh) * z * (1 - z);
                            dhPrev[j] = dhc[j] * z;
                        }
                        for (var j = 0; j < u; j++)
                        {
                            var r = st.Saved[u + j];
                            double dr;
                            if (a.ResetAfter)
                            {
                                dr = dIn[2 * u + j] * st.Saved[3 * u + j];
                                dRec[2 * u + j] = dIn[2 * u + j] * r;
                            }
                            else
                            {
                                // ĥ's recurrent term is (r⊙h₋₁)·R_h: its gradient reaches r and h₋₁ through r⊙h₋₁.
                                for (var k = 0; k < u; k++) dRh[j] += dIn[2 * u + k] * F(recurrent, j * n + 2 * u + k);
                                dr = dRh[j] * hPrev[j];
                                dhPrev[j] += dRh[j] * r;
                                rh[j] = r * hPrev[j];
                                dRec[2 * u + j] = dIn[2 * u + j];
                            }
                            dIn[u + j] = dRec[u + j] = dr * r * (1 - r);
                        }
                        break;
                }
                for (var j = 0; j < n; j++)
                {
                    db[j] += dIn[j];
                    if (recBias > 0) db[recBias + j] += dRec[j];
                    for (var i = 0; i < inp; i++) dW[i * n + j] += xs[i] * dIn[j];
                    for (var k = 0; k < u; k++)
                    {
                        // Reset-before GRU: R_h multiplies r⊙h₋₁, whose gradient was added above.
                        var fromCandidate = a.Cell == RnnCell.Gru && !a.ResetAfter && j >= 2 * u;
                        dR[k * n + j] += (fromCandidate ? rh[k] : hPrev[k]) * dRec[j];
                        if (!fromCandidate) dhPrev[k] += dRec[j] * F(recurrent, k * n + j);
                    }
                }
                for (var i = 0; i < inp; i++)
                {
                    var sum = 0.0;
                    for (var j = 0; j < n; j++) sum += dIn[j] * F(kernel, i * n + j);
                    SetF(dx, (b * a.Time + t) * inp + i, sum);
                }
                dh = dhPrev;
            }
            for (var j = 0; j < u; j++)
            {
                SetF(dh0, b * u + j, dh[j]);
                if (dc0 is not null) SetF(dc0, b * u + j, dc[j]);
            }
        }
        for (var i = 0; i < dW.Length; i++) SetF(dKernel, i, dW[i]);
        for (var i = 0; i < dR.Length; i++) SetF(dRecurrent, i, dR[i]);
        for (var i = 0; i < db.Length; i++) SetF(dBias, i, db[i]);
    }

    private static double[] Row(DeviceBuffer b, int offset, int length)
    {
        var r = new double[length];
        for (var i = 0; i < length; i++) r[i] = F(b, offset + i);
        return r;
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>One cell step: the new h (and c), and the saved gate row (<see cref="RnnArgs.SavedGateWidth"/>).</summary>
    private static (double[] H, double[] C, double[] Saved) Step(in RnnArgs a, double[] xs, double[] hPrev, double[] cPrev,
        DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias)
    {
        int u = a.Units, n = a.Blocks * u;
        // Input projection (with the input bias) and recurrent projection (with the recurrent bias of a reset_after GRU).
        double[] xin = new double[n], rec = new double[n];
        var resetAfter = a.Cell == RnnCell.Gru && a.ResetAfter;
        for (var j = 0; j < n; j++)
        {
            var sx = 0.0;
            for (var i = 0; i < a.Input; i++) sx += xs[i] * F(kernel, i * n + j);
            xin[j] = sx + F(bias, j);
            var sr = 0.0;
            if (!(a.Cell == RnnCell.Gru && !resetAfter && j >= 2 * u))
                for (var k = 0; k < u; k++) sr += hPrev[k] * F(recurrent, k * n + j);
            rec[j] = sr + (resetAfter ? F(bias, n + j) : 0);
        }
        double[] h = new double[u], c = new double[a.Cell == RnnCell.Lstm ? u : 0], saved = new double[a.SavedGateWidth];
        for (var j = 0; j < u; j++)
        {
            switch (a.Cell)
            {
                case RnnCell.SimpleRnn:
                    h[j] = Math.Tanh(xin[j] + rec[j]);
                    break;
                case RnnCell.Lstm:
                    double ig = Sigmoid(xin[j] + rec[j]), fg = Sigmoid(xin[u + j] + rec[u + j]), gg = Math.Tanh(xin[2 * u + j] + rec[2 * u + j]),
                        og = Sigmoid(xin[3 * u + j] + rec[3 * u + j]);
                    c[j] = fg * cPrev[j] + ig * gg;
                    h[j] = og * Math.Tanh(c[j]);
                    (saved[j], saved[u + j], saved[2 * u + j], saved[3 * u + j]) = (ig, fg, gg, og);
                    break;
                case RnnCell.Gru:
                    saved[j] = Sigmoid(xin[j] + rec[j]);
                    saved[u + j] = Sigmoid(xin[u + j] + rec[u + j]);
                    break;
            }
        }
        if (a.Cell == RnnCell.Gru)
            for (var j = 0; j < u; j++)
            {
                double z = saved[j], hh;
                if (resetAfter)
                {
                    hh = Math.Tanh(xin[2 * u + j] + saved[u + j] * rec[2 * u + j]);
                    saved[3 * u + j] = rec[2 * u + j];
                }
                else
                {
                    var sr = 0.0;
                    for (var k = 0; k < u; k++) sr += saved[u + k] * hPrev[k] * F(recurrent, k * n + 2 * u + j);
                    hh = Math.Tanh(xin[2 * u + j] + sr);
                }
                saved[2 * u + j] = hh;
                h[j] = z * hPrev[j] + (1 - z) * hh;
            }
        return (h, c, saved);
    }
}
