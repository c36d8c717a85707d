using Nabla.Tests.Ops;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels.Cuda;

/// <summary>
/// The op tables (tests/Nabla.Tests/Ops) on a CUDA device: every table's "CPU float32 against float64 Reference" test is
/// re-run with <see cref="OpHarness.Float32Device"/> set to the device, so each row compares the device's float32 result
/// with the Reference backend at the table's own tolerance (sessions poison nothing, but the backend-contract fixture does);
/// tests of the tables that take a device run on it directly. Backward passes: the gradient graphs of the unary, binary,
/// MatMul and cross-entropy rows, float32 on the device against float64 on the Reference backend.
/// One subclass per CUDA device: the GPU (<c>[Category("Gpu")]</c>) and the PTX emulator.
/// </summary>
public abstract class CudaOpTableTests
{
    /// <summary>The device under test (may call Assert.Ignore when it is absent).</summary>
    protected abstract Device Device { get; }

    private void On(Action body) => OpHarness.UseFloat32Device(Device, body);

    // Unary, binary, comparison and activation rows, forward.
    [TestCaseSource(typeof(UnaryOpTests), nameof(UnaryOpTests.ForwardCases))]
    public void UnaryForward(UnaryCase c, int[] shape) => On(() => new UnaryOpTests().CpuMatchesReference(c, shape));

    [TestCaseSource(typeof(BinaryOpTests), nameof(BinaryOpTests.ForwardCases))]
    public void BinaryForward(BinaryCase c, int[] a, int[] b) => On(() => new BinaryOpTests().CpuMatchesReference(c, a, b));

    [TestCaseSource(typeof(LogicOpTests), nameof(LogicOpTests.ForwardCases))]
    public void ComparisonForward(CompareCase c, int[] a, int[] b) => On(() => new LogicOpTests().CpuMatchesReference(c, a, b));

    [TestCaseSource(typeof(ActivationTests), nameof(ActivationTests.ForwardCases))]
    public void ActivationForward(ActivationCase c, int[] shape) => On(() => new ActivationTests().CpuMatchesReference(c, shape));

    // Backward: the symbolic gradients (graphs of the same kernels) in float32 against float64.
    // Gradients of these functions are as well conditioned as the functions on the tables' domains, and each adds one or
    // two float32 roundings of the backward kernels: 1e-5 relative, 1e-5 absolute (the forward tables' 1e-6 leaves no room
    // for the extra product with the incoming gradient of 1).
    [TestCaseSource(typeof(UnaryOpTests), nameof(UnaryOpTests.Cases))]
    public void UnaryBackward(UnaryCase c) =>
        On(() => OpHarness.CpuMatchesReference((g, x) => g.Gradients(c.Build(g, x[0]), x[0])[0], [Elementwise.Sample(c.Domain, [3, 5])], 1e-5, 1e-5));

    public static IEnumerable<TestCaseData> BinaryGradientCases() =>
        from c in BinaryOpTests.Cases
        from p in Elementwise.GradientPairs
        from side in new[] { 0, 1 }
        select new TestCaseData(c, p.A, p.B, side).SetName($"{c.Op}[{string.Join(",", p.A)}]x[{string.Join(",", p.B)}] d{(side == 0 ? "a" : "b")}");

    [TestCaseSource(nameof(BinaryGradientCases))]
    public void BinaryBackward(BinaryCase c, int[] a, int[] b, int side) =>
        On(() => OpHarness.CpuMatchesReference((g, x) => g.Gradients(c.Build(g, x[0], x[1]), x[side])[0],
            [Elementwise.Sample(c.DomainA, a, seed: 1), Elementwise.Sample(c.DomainB, b, seed: 2)], 1e-5, 1e-5));

    // Softmax, log-softmax and the cross-entropies (forward and their fused gradients).
    [TestCaseSource(typeof(NNOpTests), "AllCases")]
    public void SoftmaxForward(string name) => On(() => new NNOpTests().SoftmaxAndLogSoftmaxCpuMatchReference(name));

    [TestCaseSource(typeof(NNOpTests), "AllCases")]
    public void DenseCrossEntropyForwardAndBackward(string name) => On(() => new NNOpTests().DenseCrossEntropyCpuMatchesReference(name));

    [TestCaseSource(typeof(NNOpTests), "SparseCases")]
    public void SparseCrossEntropyForwardAndBackward(string name) => On(() => new NNOpTests().SparseCrossEntropyCpuMatchesReference(name));

    [Test]
    public void SoftmaxKnownValues() => new NNOpTests().KnownValues(Device);

    [Test]
    public void CrossEntropiesAgreeWithTheirDefinitions() => new NNOpTests().CrossEntropiesAgreeWithTheirDefinitions(Device);

    // MatMul (cuBLAS), forward and backward.
    [TestCaseSource(typeof(MatMulTests), "ShapeCases")]
    public void MatMulForward(int[] batchA, int[] batchB, int m, int k, int n, bool ta, bool tb) =>
        On(() => new MatMulTests().MatchesNaiveLoopAndCpuMatchesReference(batchA, batchB, m, k, n, ta, tb));

    [TestCase(false, false), TestCase(false, true), TestCase(true, false), TestCase(true, true)]
    public void MatMulLargeForward(bool ta, bool tb) => On(() => new MatMulTests().LargeProductCpuMatchesReference(ta, tb));

    [Test]
    public void MatMulBatchedLargeForward() => On(() => new MatMulTests().BatchedLargeProductCpuMatchesReference());

    [TestCaseSource(typeof(MatMulTests), "GradientCases")]
    public void MatMulBackward(int[] batchA, int[] batchB, int m, int k, int n, bool ta, bool tb)
    {
        int[] Stored(int[] batch, int rows, int cols, bool t) => [.. batch, t ? cols : rows, t ? rows : cols];
        Tensor[] inputs = [OpHarness.Uniform(Stored(batchA, m, k, ta), seed: 7), OpHarness.Uniform(Stored(batchB, k, n, tb), seed: 8)];
        // Each gradient element is a sum of ≤ max(m, n, batch) products of magnitude ≤ 4 in float32.
        for (var side = 0; side < 2; side++)
        {
            var s = side;
            On(() => OpHarness.CpuMatchesReference((g, x) => g.Gradients(g.MatMul(x[0], x[1], ta, tb), x[s])[0], inputs, 1e-5, 1e-4));
        }
    }

    [Test]
    public void MatMulKnownProductWithTransposes() => new MatMulTests().KnownProductWithTransposes(Device);

    [Test]
    public void MatMulEmptyDimensions() => new MatMulTests().EmptyDimensions(Device);

    [Test]
    public void MatMulNaNAndInfinityReachOnlyTheirRowAndColumn() => new MatMulTests().NaNAndInfinityReachOnlyTheirRowAndColumn(Device);

    // Reductions.
    [TestCaseSource(typeof(ReduceOpTests), "AxisPatterns")]
    public void ReduceForward(string op, int[] shape, int[]? axes, bool keepDims) =>
        On(() => new ReduceOpTests().MatchesNaiveLoopOnBothDevices(op, shape, axes, keepDims));

    [Test]
    public void ReduceKnownValues() => new ReduceOpTests().KnownValuesOverNoneAxis0Axis1AndNegativeAxis(Device);

    [Test]
    public void ReduceEmptyAxesGiveTheIdentity() => new ReduceOpTests().EmptyAxesGiveTheIdentity(Device);

    [Test]
    public void ReduceNaNPropagatesAndInfinitiesCombineAsIeee() => new ReduceOpTests().NaNPropagatesAndInfinitiesCombineAsIeee(Device);

    // Batch norm (composed from the reduction and element-wise kernels on CUDA).
    [Test]
    public void FusedBatchNormMatchesItsComposition() => new PoolingOpTests().FusedBatchNormMatchesItsComposition(Device);

    [Test]
    public void BatchNormTrainingStatisticsAreTheMeanAndTheUnbiasedVariance() => new PoolingOpTests().TrainingStatisticsAreTheMeanAndTheUnbiasedVariance(Device);
}
