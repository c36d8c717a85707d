namespace Nabla.Kernels.Cuda;

/// <summary>Every PTX module the compute kernels can generate, for checks that need the text without a launch.</summary>
internal static partial class ComputeKernels
{
    private static readonly DType[] Floats = [DType.Float32, DType.Float64];
    private static readonly DType[] Integers = [DType.Int32, DType.Int64];

    /// <summary>
    /// Each generated module once, named by the key its launch passes to <see cref="IKernelLauncher.Function(string, Func{string}, string)"/>
    /// (optimizers: with scalars of the variable's dtype), with a function that generates its text. The tests parse
    /// every one on the emulator; on a GPU machine they can be written out and assembled with ptxas
    /// (<c>ptxas -arch=sm_90 -v</c>) for the register and spill report the hand-written modules get.
    /// </summary>
    public static IEnumerable<(string Key, Func<string> Ptx)> GeneratedModules()
    {
        foreach (var op in Enum.GetValues<ReduceOp>())
            foreach (var dtype in Floats.Concat(Integers))
            {
                if (op == ReduceOp.Mean && dtype.IsInteger()) continue;
                foreach (var rows in new[] { true, false })
                    yield return ($"compute.reduce.{op}.{dtype}.{(rows ? "rows" : "cols")}", () => ReducePtx(op, dtype, rows));
            }
        foreach (var dtype in Floats)
        {
            foreach (var log in new[] { false, true })
                yield return ($"compute.softmax.{dtype}.{(log ? "log" : "plain")}", () => SoftmaxPtx(dtype, log, crossEntropy: false, sparse: false, DType.Int32));
            yield return ($"compute.softmax_xent.{dtype}.dense", () => SoftmaxPtx(dtype, log: false, crossEntropy: true, sparse: false, dtype));
            foreach (var labels in Integers)
                yield return ($"compute.softmax_xent.{dtype}.{labels}", () => SoftmaxPtx(dtype, log: false, crossEntropy: true, sparse: true, labels));
        }
        foreach (var index in Integers)
        {
            foreach (var dtype in Enum.GetValues<DType>())
                yield return ($"compute.gather.{dtype}.{index}", () => IndexingPtx(scatter: false, dtype, index));
            foreach (var dtype in Floats.Concat(Integers))
                yield return ($"compute.scatter_add.{dtype}.{index}", () => IndexingPtx(scatter: true, dtype, index));
        }
        foreach (var dtype in Integers)
            foreach (var kind in new[] { CheckKind.IndexInRange, CheckKind.NonZero })
                yield return ($"compute.check.{kind}.{dtype}", () => CheckPtx(kind, dtype));
        foreach (var dtype in Floats)
            yield return ($"compute.check.{CheckKind.Finite}.{dtype}", () => CheckPtx(CheckKind.Finite, dtype));
        foreach (var dtype in Floats)
        {
            foreach (var kind in Enum.GetValues<OptimizerKind>())
                foreach (var nesterov in new[] { false, true })
                    foreach (var momentumSlot in new[] { false, true })
                        foreach (var centered in new[] { false, true })
                        {
                            if (nesterov && kind != OptimizerKind.Momentum) continue;
                            if ((momentumSlot || centered) && kind != OptimizerKind.RMSProp) continue;
                            var scalars = Enumerable.Repeat(dtype, OptimizerArgs.ScalarNames(kind).Count).ToArray();
                            var scalarTypes = new string(dtype == DType.Float32 ? 's' : 'd', scalars.Length);
                            yield return ($"compute.optimizer.{kind}.{dtype}.{(nesterov ? "nesterov" : "plain")}.{(momentumSlot ? "momentum" : "none")}.{(centered ? "centered" : "plain")}.{scalarTypes}",
                                () => OptimizerPtx(kind, nesterov, dtype, momentumSlot, centered, scalars));
                        }
            foreach (var dist in Enum.GetValues<RandomDistribution>())
                yield return ($"compute.random.{dist}.{dtype}", () => RandomPtx(dist, dtype));
        }
    }
}
