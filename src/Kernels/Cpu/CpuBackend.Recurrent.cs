namespace Nabla.Kernels.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public override long RnnWorkspace(RnnPass pass, in RnnArgs args, DType dtype) => CpuRecurrent.Workspace(pass, args);

    /// <inheritdoc/>
    public override unsafe void RnnForward(in RnnArgs args, DeviceBuffer x, DeviceBuffer h0, DeviceBuffer? c0, DeviceBuffer kernel, DeviceBuffer recurrent,
        DeviceBuffer bias, DeviceBuffer? mask, DeviceBuffer y, DeviceBuffer hT, DeviceBuffer? cT, DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates,
        DeviceBuffer? workspace)
    {
        if (Storage(x).Storage is float[])
        {
            fixed (float* px = Seg<float>(x).AsSpan(), ph0 = Seg<float>(h0).AsSpan(), pc0 = Opt<float>(c0), pw = Seg<float>(kernel).AsSpan(),
                pr = Seg<float>(recurrent).AsSpan(), pb = Seg<float>(bias).AsSpan(), pm = Opt<float>(mask), py = Seg<float>(y).AsSpan(),
                phT = Seg<float>(hT).AsSpan(), pcT = Opt<float>(cT), ps = Seg<float>(states).AsSpan(), pc = Opt<float>(cells), pg = Opt<float>(gates),
                pws = Opt<float>(workspace))
                CpuRecurrent.Forward(args, deterministic, px, ph0, pc0, pw, pr, pb, pm, py, phT, pcT, ps, pc, pg, pws);
        }
        else
        {
            fixed (double* px = Seg<double>(x).AsSpan(), ph0 = Seg<double>(h0).AsSpan(), pc0 = Opt<double>(c0), pw = Seg<double>(kernel).AsSpan(),
                pr = Seg<double>(recurrent).AsSpan(), pb = Seg<double>(bias).AsSpan(), pm = Opt<double>(mask), py = Seg<double>(y).AsSpan(),
                phT = Seg<double>(hT).AsSpan(), pcT = Opt<double>(cT), ps = Seg<double>(states).AsSpan(), pc = Opt<double>(cells), pg = Opt<double>(gates),
                pws = Opt<double>(workspace))
                CpuRecurrent.Forward(args, deterministic, px, ph0, pc0, pw, pr, pb, pm, py, phT, pcT, ps, pc, pg, pws);
        }
    }

    /// <inheritdoc/>
    public override unsafe void RnnBackward(in RnnArgs args, DeviceBuffer x, DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias, DeviceBuffer? mask,
        DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates, DeviceBuffer dy, DeviceBuffer dhT, DeviceBuffer? dcT,
        DeviceBuffer dx, DeviceBuffer dh0, DeviceBuffer? dc0, DeviceBuffer dKernel, DeviceBuffer dRecurrent, DeviceBuffer dBias, DeviceBuffer? workspace)
    {
        if (Storage(x).Storage is float[])
        {
            fixed (float* px = Seg<float>(x).AsSpan(), pw = Seg<float>(kernel).AsSpan(), pr = Seg<float>(recurrent).AsSpan(), pm = Opt<float>(mask),
                ps = Seg<float>(states).AsSpan(), pc = Opt<float>(cells), pg = Opt<float>(gates), pdy = Seg<float>(dy).AsSpan(), pdhT = Seg<float>(dhT).AsSpan(),
                pdcT = Opt<float>(dcT), pdx = Seg<float>(dx).AsSpan(), pdh0 = Seg<float>(dh0).AsSpan(), pdc0 = Opt<float>(dc0), pdw = Seg<float>(dKernel).AsSpan(),
                pdr = Seg<float>(dRecurrent).AsSpan(), pdb = Seg<float>(dBias).AsSpan(), pws = Opt<float>(workspace))
                CpuRecurrent.Backward(args, deterministic, px, pw, pr, pm, ps, pc, pg, pdy, pdhT, pdcT, pdx, pdh0, pdc0, pdw, pdr, pdb, pws);
        }
        else
        {
            fixed (double* px = Seg<double>(x).AsSpan(), pw = Seg<double>(kernel).AsSpan(), pr = Seg<double>(recurrent).AsSpan(), pm = Opt<double>(mask),
                ps = Seg<double>(states).AsSpan(), pc = Opt<double>(cells), pg = Opt<double>(gates), pdy = Seg<double>(dy).AsSpan(), pdhT = Seg<double>(dhT).AsSpan(),
                pdcT = Opt<double>(dcT), pdx = Seg<double>(dx).AsSpan(), pdh0 = Seg<double>(dh0).AsSpan(), pdc0 = Opt<double>(dc0), pdw = Seg<double>(dKernel).AsSpan(),
                pdr = Seg<double>(dRecurrent).AsSpan(), pdb = Seg<double>(dBias).AsSpan(), pws = Opt<double>(workspace))
                CpuRecurrent.Backward(args, deterministic, px, pw, pr, pm, ps, pc, pg, pdy, pdhT, pdcT, pdx, pdh0, pdc0, pdw, pdr, pdb, pws);
        }
    }

    /// <summary>The elements of an optional buffer; an empty span (a null pointer under fixed) when absent.</summary>
    private static Span<T> Opt<T>(DeviceBuffer? b) => b is null ? default : Seg<T>(b).AsSpan();
}
