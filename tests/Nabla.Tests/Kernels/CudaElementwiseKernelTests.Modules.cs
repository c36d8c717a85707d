using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>Every generated element-wise kernel variant loads: parsed by the emulator, JIT-compiled by the driver on a GPU.</summary>
public abstract partial class CudaElementwiseKernelTests
{
    /// <summary>Every (family, op, dtype) the families can generate, at ranks 1, 2 and 8 (the rank changes only the unrolled index split).</summary>
    private static IEnumerable<(string Entry, Func<string, string> Ptx)> AllVariants()
    {
        int[] ranks = [1, 2, 8];
        foreach (var dtype in Enum.GetValues<DType>())
        {
            foreach (var op in Enum.GetValues<BinaryOp>())
            {
                if (ElementwisePtx.BinaryResult(op, dtype) is null) continue;
                foreach (var rank in ranks) yield return ($"binary_{op}_{dtype}_r{rank}", e => ElementwisePtx.Binary(e, op, dtype, rank));
                if (ElementwisePtx.BinaryResult(op, dtype) == dtype) yield return ($"assign_{op}_{dtype}", e => ElementwisePtx.Assign(e, op, dtype));
            }
            yield return ($"assign_set_{dtype}", e => ElementwisePtx.Assign(e, null, dtype));
            foreach (var to in Enum.GetValues<DType>())
                if (to != dtype) yield return ($"cast_{dtype}_{to}", e => ElementwisePtx.Cast(e, dtype, to));
        }
        foreach (var width in new[] { 1, 4, 8 })
        {
            yield return ($"fill_w{width}", e => ElementwisePtx.Fill(e, width));
            foreach (var rank in ranks)
            {
                yield return ($"copy_w{width}_r{rank}", e => ElementwisePtx.Copy(e, width, rank));
                yield return ($"select_w{width}_r{rank}", e => ElementwisePtx.Select(e, width, rank));
            }
        }
    }

    [Test]
    public void EveryGeneratedVariant_Loads()
    {
        var count = 0;
        foreach (var (entry, ptx) in AllVariants())
        {
            var f = K.Function("elementwise-test/" + entry, () => ptx(entry), entry);
            Assert.That(f.Entry, Is.EqualTo(entry));
            count++;
        }
        Assert.That(count, Is.GreaterThan(200), "the enumeration lost its variants");
    }
}
