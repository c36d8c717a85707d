using NUnit.Framework;
using Nabla.Tests.Support;

namespace Nabla.Tests.Execution;

/// <summary>
/// Output epilogues (<see cref="SessionOptions.OutputEpilogues"/>): a fused element-wise tree that reads only a MatMul's or
/// Conv2D's output runs on the kernel's output rows as they are finished. The results must be bit-identical to running the
/// tree after the kernel, across the threaded splits (row slabs whose edges fall inside a fused block), the narrow-C and
/// direct-convolution kernels, transcendentals (which take a different path in a block's tail) and random masks.
/// </summary>
public sealed class EpilogueTests
{
    private static IEnumerable<TestCaseData> MatMulShapes() =>
    [
        new TestCaseData(40, 30, 20).SetName("one thread, whole output at the end"),
        new TestCaseData(520, 200, 45).SetName("two row slabs, edge inside a block"),
        new TestCaseData(4000, 150, 14).SetName("narrow C (N ≤ 16), row slabs"),
        new TestCaseData(1, 784, 128).SetName("one row"),
        new TestCaseData(300, 64, 257).SetName("row slabs, wide C"),
        new TestCaseData(12, 400, 1000).SetName("column split: whole output at the end"),
    ];

    [TestCaseSource(nameof(MatMulShapes))]
    public void MatMulEpilogueIsBitIdenticalToTheSeparateKernel(int m, int k, int n)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, k), "x");
        var w = g.Constant(OpHarness.ToFloat32(OpHarness.Uniform([k, n], -0.2, 0.2, seed: 3)));
        var b = g.Constant(OpHarness.ToFloat32(OpHarness.Uniform([n], -0.5, 0.5, seed: 4)));
        var h = g.Relu(g.Add(g.MatMul(x, w), b));
        var y = g.Mul(g.Sigmoid(h), g.Dropout(g.OnesLike(h), 0.3, seed: 7));
        var feeds = new Dictionary<Output, Tensor> { [x] = OpHarness.ToFloat32(OpHarness.Uniform([m, k], -1, 1, seed: 5)) };
        AssertSameBitsAndOneKernelLess(g, y, feeds);
    }

    [TestCase(24, 1, 6, "same")]
    [TestCase(64, 3, 6, "same")]
    [TestCase(9, 6, 16, "valid")]
    public void DirectConvolutionEpilogueIsBitIdenticalToTheSeparateKernel(int batch, int cin, int cout, string padding)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 28, 28, cin), "x");
        var f = g.Constant(OpHarness.ToFloat32(OpHarness.Uniform([5, 5, cin, cout], -0.3, 0.3, seed: 6)));
        var b = g.Constant(OpHarness.ToFloat32(OpHarness.Uniform([cout], -0.5, 0.5, seed: 8)));
        var y = g.Tanh(g.Relu(g.Add(g.Conv2D(x, f, padding: padding), b)));
        var feeds = new Dictionary<Output, Tensor> { [x] = OpHarness.ToFloat32(OpHarness.Uniform([batch, 28, 28, cin], -1, 1, seed: 9)) };
        AssertSameBitsAndOneKernelLess(g, y, feeds);
    }

    [Test]
    public void AnOutputReadElsewhereOrFetchedGetsNoEpilogue()
    {
        IgnoreUnderEnvironmentOverride();
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 8), "x");
        var w = g.Constant(OpHarness.ToFloat32(OpHarness.Uniform([8, 8], seed: 1)));
        var mm = g.MatMul(x, w);
        var y = g.Relu(g.Add(mm, g.Square(mm)));
        var feeds = new Dictionary<Output, Tensor> { [x] = OpHarness.ToFloat32(OpHarness.Uniform([4, 8], seed: 2)) };
        using var s = new Session(g, options: new SessionOptions { OutputEpilogues = true });
        s.KernelTimings = [];
        var both = s.Run([y, mm], feeds);
        Assert.That(s.KernelTimings.Select(t => t.OpType), Does.Contain("Fused"), "the fetched MatMul output keeps its separate fused step");
        using var off = new Session(g, options: new SessionOptions { OutputEpilogues = false });
        Assert.That(Bits(both[0]), Is.EqualTo(Bits(off.Run([y, mm], feeds)[0])));
    }

    [Test]
    public void ByDefaultAnInferencePlanTakesEpiloguesAndATrainingPlanDoesNot()
    {
        IgnoreUnderEnvironmentOverride();
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 16), "x");
        var w = g.Variable(OpHarness.ToFloat32(OpHarness.Uniform([16, 8], -0.5, 0.5, seed: 11)), "w");
        var b = g.Constant(OpHarness.ToFloat32(OpHarness.Uniform([8], -0.5, 0.5, seed: 12)));
        var y = g.Relu(g.Add(g.MatMul(x, w.Value), b));
        var update = w.AssignSub(g.MatMul(g.Transpose(x), y) * 0.01);
        var feeds = new Dictionary<Output, Tensor> { [x] = OpHarness.ToFloat32(OpHarness.Uniform([32, 16], -1, 1, seed: 13)) };
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        s.KernelTimings = [];
        var inferred = s.Run(y, feeds);
        Assert.That(s.KernelTimings.Select(t => t.OpType), Does.Not.Contain("Fused"), "inference: bias + ReLU ran as the MatMul's epilogue");
        s.Run([y], feeds, update.Op);
        Assert.That(s.KernelTimings.Select(t => t.OpType), Does.Contain("Fused"), "a training step keeps its fused trees as steps of their own");
        using var off = new Session(g, options: new SessionOptions { OutputEpilogues = false });
        off.Run(g.GlobalVariablesInitializer());
        Assert.That(Bits(inferred), Is.EqualTo(Bits(off.Run(y, feeds))));
    }

    [Test]
    public void AOneOutputEpilogueWritesOverItsProducersOutput()
    {
        IgnoreUnderEnvironmentOverride();
        const int m = 64, k = 4, n = 24;
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, k), "x");
        var w = g.Constant(OpHarness.ToFloat32(OpHarness.Uniform([k, n], -0.2, 0.2, seed: 14)));
        var b = g.Constant(OpHarness.ToFloat32(OpHarness.Uniform([n], -0.5, 0.5, seed: 15)));
        var y = g.Tanh(g.Relu(g.Add(g.MatMul(x, w), b)));
        var feeds = new Dictionary<Output, Tensor> { [x] = OpHarness.ToFloat32(OpHarness.Uniform([m, k], -1, 1, seed: 16)) };
        using var on = new Session(g, options: new SessionOptions { OutputEpilogues = true });
        using var off = new Session(g, options: new SessionOptions { OutputEpilogues = false });
        // Off, the MatMul's output and the fused tree's are both live at the tree (the peak); on, the tree's output is the
        // MatMul's buffer, and the peak is the feed and that buffer, at the MatMul.
        Assert.That(off.Plan([y], feeds).PeakBytes, Is.EqualTo(2 * m * n * sizeof(float)));
        Assert.That(on.Plan([y], feeds).PeakBytes, Is.EqualTo((m * k + m * n) * sizeof(float)));
        Assert.That(Bits(on.Run(y, feeds)), Is.EqualTo(Bits(off.Run(y, feeds))));
    }

    private static void AssertSameBitsAndOneKernelLess(Graph g, Output y, Dictionary<Output, Tensor> feeds)
    {
        IgnoreUnderEnvironmentOverride();
        using var on = new Session(g, options: new SessionOptions { OutputEpilogues = true });
        using var off = new Session(g, options: new SessionOptions { OutputEpilogues = false });
        on.KernelTimings = [];
        off.KernelTimings = [];
        for (var run = 0; run < 2; run++) // the second run draws the next dropout counter in both
        {
            var a = on.Run(y, feeds);
            var b = off.Run(y, feeds);
            Assert.That(Bits(a), Is.EqualTo(Bits(b)), $"run {run}: bits differ from the separate fused kernel");
        }
        // The fused step runs within the producer's step: during the kernel, or right after it where the backend takes no
        // epilogue (the deferred backend, under NABLA_DEFER_EXECUTION=1).
        Assert.That(on.KernelTimings.Count, Is.EqualTo(off.KernelTimings.Count - 1),
            $"the fused tree ran inside the producer's step; on: {string.Join(", ", on.KernelTimings.Select(t => t.Node))}; off: {string.Join(", ", off.KernelTimings.Select(t => t.Node))}");
    }

    /// <summary>NABLA_EPILOGUES overrides every session's option (to run the whole suite with epilogues on), so on and off cannot be compared.</summary>
    private static void IgnoreUnderEnvironmentOverride()
    {
        if (Environment.GetEnvironmentVariable("NABLA_EPILOGUES") is not null) Assert.Ignore("NABLA_EPILOGUES is set: it overrides the sessions' OutputEpilogues");
    }

    private static int[] Bits(Tensor t) => t.ToArray<float>().Select(BitConverter.SingleToInt32Bits).ToArray();
}
