using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// Pooling, up-sampling, padding/cropping and fused batch norm: hand-computed values on both devices, TensorFlow's
/// tie and padding rules, batch norm against its composition of primitive ops, and the kernels' parallel paths
/// (CPU against the reference). Gradient and error cases are in OpCases.Pooling / ErrorCases.Pooling.
/// </summary>
public class PoolingOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad", "FusedBatchNorm", "FusedBatchNormGrad"];

    private static IEnumerable<Device> Devices => [Device.Cpu, Device.Reference];

    private static double[] Run(Device device, Tensor x, Func<Graph, Output, Output> f)
    {
        var g = new Graph();
        var p = g.Placeholder(DType.Float32, x.Shape, "x");
        using var s = new Session(g, device);
        return s.Run(f(g, p), new Dictionary<Output, Tensor> { [p] = OpHarness.ToFloat32(x) }).ToDoubleArray();
    }

    private static Tensor Image(int h, int w, params double[] v) => Tensor.FromArray(v, 1, h, w, 1);

    [TestCaseSource(nameof(Devices))]
    public void MaxAndAveragePoolKnownValues(Device device)
    {
        var x = Image(4, 4, Enumerable.Range(0, 16).Select(i => (double)i).ToArray());
        Assert.That(Run(device, x, (g, p) => g.MaxPool(p, [2, 2], [2, 2])), Is.EqualTo(new[] { 5.0, 7, 13, 15 }));
        Assert.That(Run(device, x, (g, p) => g.AvgPool(p, [2, 2], [2, 2])), Is.EqualTo(new[] { 2.5, 4.5, 10.5, 12.5 }));
        // Stride 1 < ksize 3, valid: 2x2 outputs.
        Assert.That(Run(device, x, (g, p) => g.MaxPool(p, [3, 3], [1, 1])), Is.EqualTo(new[] { 10.0, 11, 14, 15 }));
    }

    /// <summary>
    /// "same" on 3x3 with 2x2/2: one padded row and column, after the image (TensorFlow puts the odd one
    /// bottom/right), and the average divides by the elements inside the image only.
    /// </summary>
    [TestCaseSource(nameof(Devices))]
    public void SamePaddingIsBottomRightAndAverageCountsOnlyTheImage(Device device)
    {
        var x = Image(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        Assert.That(Run(device, x, (g, p) => g.AvgPool(p, [2, 2], [2, 2], "same")), Is.EqualTo(new[] { 3.0, 4.5, 7.5, 9 }));
        Assert.That(Run(device, x, (g, p) => g.MaxPool(p, [2, 2], [2, 2], "same")), Is.EqualTo(new[] { 5.0, 6, 8, 9 }));
        // 3x3 window, stride 1, same on 3x3: pad 1 on each side; the corner window sees 4 elements.
        Assert.That(Run(device, x, (g, p) => g.AvgPool(p, [3, 3], [1, 1], "same"))[0], Is.EqualTo((1 + 2 + 4 + 5) / 4.0));
    }

    /// <summary>Ties: the whole gradient goes to the first maximum of the window in row-major order, as TensorFlow's MaxPoolGrad.</summary>
    [TestCaseSource(nameof(Devices))]
    public void MaxPoolGradientGoesToTheFirstMaximum(Device device)
    {
        var x = Image(2, 4, 1, 3, 3, 0, 3, 2, 0, 3);
        var dx = Run(device, x, (g, p) =>
        {
            var y = g.MaxPool(p, [2, 2], [2, 2]);
            return g.Gradients([g.ReduceSum(y * g.Constant(Tensor.FromArray(new float[] { 10, 20 }, 1, 1, 2, 1)))], [p])[0]!.Value;
        });
        Assert.That(dx, Is.EqualTo(new[] { 0.0, 10, 20, 0, 0, 0, 0, 0 }));
        // Overlapping windows (3x3, stride 1, same) on a constant image: every window's gradient lands on its first element.
        var ones = Image(2, 2, 1, 1, 1, 1);
        var d2 = Run(device, ones, (g, p) => g.Gradients([g.ReduceSum(g.MaxPool(p, [3, 3], [1, 1], "same"))], [p])[0]!.Value);
        Assert.That(d2, Is.EqualTo(new[] { 4.0, 0, 0, 0 }));
    }

    [TestCaseSource(nameof(Devices))]
    public void OneDimensionalAndGlobalPooling(Device device)
    {
        var seq = Tensor.FromArray(new double[] { 1, 5, 2, 4, 3 }, 1, 5, 1);
        Assert.That(Run(device, seq, (g, p) => g.MaxPool1D(p, 2, 2)), Is.EqualTo(new[] { 5.0, 4 }));
        Assert.That(Run(device, seq, (g, p) => g.AvgPool1D(p, 2, 1)), Is.EqualTo(new[] { 3.0, 3.5, 3, 3.5 }));
        Assert.That(Run(device, seq, (g, p) => g.MaxPool1D(p, 2, 2, "same")), Is.EqualTo(new[] { 5.0, 4, 3 }));
        Assert.That(Run(device, seq, (g, p) => g.GlobalAvgPool1D(p)), Is.EqualTo(new[] { 3.0 }));
        Assert.That(Run(device, seq, (g, p) => g.GlobalMaxPool1D(p)), Is.EqualTo(new[] { 5.0 }));
        var img = Tensor.FromArray(new double[] { 1, -1, 2, -2, 3, -3, 4, -4 }, 1, 2, 2, 2);
        Assert.That(Run(device, img, (g, p) => g.GlobalAvgPool2D(p)), Is.EqualTo(new[] { 2.5, -2.5 }));
        Assert.That(Run(device, img, (g, p) => g.GlobalMaxPool2D(p)), Is.EqualTo(new[] { 4.0, -1 }));
    }

    [TestCaseSource(nameof(Devices))]
    public void UpSamplingPaddingAndCroppingKnownValues(Device device)
    {
        var x = Image(2, 2, 1, 2, 3, 4);
        Assert.That(Run(device, x, (g, p) => g.UpSampling2D(p, 2, 3)),
            Is.EqualTo(new double[] { 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4 }));
        // The gradient of nearest up-sampling is the sum over each block.
        var w = Enumerable.Range(1, 24).Select(i => (float)i).ToArray();
        var dx = Run(device, x, (g, p) => g.Gradients([g.ReduceSum(g.UpSampling2D(p, 2, 3) * g.Constant(Tensor.FromArray(w, 1, 4, 6, 1)))], [p])[0]!.Value);
        Assert.That(dx, Is.EqualTo(new double[] { 1 + 2 + 3 + 7 + 8 + 9, 4 + 5 + 6 + 10 + 11 + 12, 13 + 14 + 15 + 19 + 20 + 21, 16 + 17 + 18 + 22 + 23 + 24 }));
        Assert.That(Run(device, x, (g, p) => g.ZeroPadding2D(p, 1, 0, 0, 1)), Is.EqualTo(new double[] { 0, 0, 0, 1, 2, 0, 3, 4, 0 }));
        var big = Image(3, 4, Enumerable.Range(1, 12).Select(i => (double)i).ToArray());
        Assert.That(Run(device, big, (g, p) => g.Cropping2D(p, 1, 0, 1, 2)), Is.EqualTo(new double[] { 6, 10 }));
    }

    [Test]
    public void CompositeBuildersRefuseBadShapes()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3, 3, 2), "x");
        Assert.That(() => g.UpSampling2D(x, 0, 2), Throws.TypeOf<ShapeException>().With.Message.Contains("factors must be ≥ 1"));
        Assert.That(() => g.UpSampling2D(g.Placeholder(DType.Float32, new Shape(2, 3), "y"), 2, 2), Throws.TypeOf<ShapeException>().With.Message.Contains("rank 4"));
        Assert.That(() => g.Cropping2D(x, 2, 1, 0, 0), Throws.TypeOf<ShapeException>().With.Message.Contains("leave nothing"));
        Assert.That(() => g.Cropping2D(x, -1, 0, 0, 0), Throws.TypeOf<ShapeException>().With.Message.Contains("crops must be ≥ 0"));
        Assert.That(() => g.ZeroPadding2D(x, -1, 0, 0, 0), Throws.TypeOf<ShapeException>().With.Message.Contains("must be ≥ 0"));
        Assert.That(() => g.GlobalAvgPool2D(g.Placeholder(DType.Float32, new Shape(2, 3, 4), "z")), Throws.TypeOf<ShapeException>().With.Message.Contains("rank 4"));
        // Unknown batch flows through every builder.
        Assert.That(g.UpSampling2D(x, 2, 2).Shape, Is.EqualTo(new Shape(-1, 6, 6, 2)));
        Assert.That(g.Cropping2D(x, 1, 0, 0, 1).Shape, Is.EqualTo(new Shape(-1, 2, 2, 2)));
        Assert.That(g.MaxPool(x, [2, 2], [2, 2], "same").Shape, Is.EqualTo(new Shape(-1, 2, 2, 2)));
    }

    /// <summary>The fused op against its definition written with primitive ops, values and gradients, both modes.</summary>
    [TestCaseSource(nameof(Devices))]
    public void FusedBatchNormMatchesItsComposition(Device device)
    {
        const double eps = 1e-3;
        Tensor[] inputs = [OpHarness.Uniform([3, 2, 2, 4], -2, 3, 5), OpHarness.Uniform([4], 0.5, 1.5, 6), OpHarness.Uniform([4], -1, 1, 7),
            OpHarness.Uniform([4], -0.5, 0.5, 8), OpHarness.Uniform([4], 0.5, 2, 9)];
        foreach (var training in new[] { true, false })
        {
            Output Fused(Graph g, Output[] x) => g.FusedBatchNorm(x[0], x[1], x[2], x[3], x[4], eps, training).Y;
            Output Composed(Graph g, Output[] x)
            {
                var axes = new[] { 0, 1, 2 };
                var mean = training ? g.ReduceMean(x[0], axes) : x[3];
                var variance = training ? g.ReduceMean(g.Square(x[0] - mean), axes) : x[4];
                return (x[0] - mean) * g.Rsqrt(variance + g.Scalar(eps, x[0].DType)) * x[1] + x[2];
            }
            var (fy, fg) = ValueAndGrads(device, Fused, inputs);
            var (cy, cg) = ValueAndGrads(device, Composed, inputs);
            OpHarness.AssertClose(cy, fy, 1e-5, 1e-5, $"y, training {training}");
            for (var i = 0; i < cg.Length; i++) OpHarness.AssertClose(cg[i], fg[i], 1e-4, 1e-5, $"gradient of input {i}, training {training}");
        }
    }

    private static (double[] Y, double[][] Grads) ValueAndGrads(Device device, Build f, Tensor[] inputs)
    {
        var g = new Graph();
        var xs = inputs.Select((t, i) => g.Placeholder(DType.Float32, t.Shape, $"x{i}")).ToArray();
        var y = f(g, xs);
        var w = g.Constant(OpHarness.ToFloat32(OpHarness.Uniform(y.Shape.Select(d => d).ToArray(), 0.5, 1.5, 11)));
        var grads = g.Gradients([g.ReduceSum(y * w)], xs, null, UnconnectedGradients.Zero).Select(o => o!.Value).ToArray();
        using var s = new Session(g, device);
        var feeds = xs.Zip(inputs).ToDictionary(p => p.First, p => OpHarness.ToFloat32(p.Second));
        var outs = s.Run([y, .. grads], feeds);
        return (outs[0].ToDoubleArray(), outs[1..].Select(t => t.ToDoubleArray()).ToArray());
    }

    /// <summary>Training returns the batch mean and the Bessel-corrected variance (TensorFlow's fused kernel), computed by hand here.</summary>
    [TestCaseSource(nameof(Devices))]
    public void TrainingStatisticsAreTheMeanAndTheUnbiasedVariance(Device device)
    {
        // Channel 0: 1, 3, 5, 7 (mean 4, biased variance 5, unbiased 20/3); channel 1: 2, 2, 2, 2 (0, 0).
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 2, 5, 2, 7, 2 }, 2, 2, 1, 2);
        var g = new Graph();
        var p = g.Placeholder(DType.Float32, x.Shape, "x");
        var one = g.Constant(Tensor.FromArray(new float[] { 1, 1 }, 2));
        var zero = g.Constant(Tensor.FromArray(new float[] { 0, 0 }, 2));
        var (y, mean, variance) = g.FusedBatchNorm(p, one, zero, zero, one, 0);
        using var s = new Session(g, device);
        var outs = s.Run([y, mean, variance], new Dictionary<Output, Tensor> { [p] = OpHarness.ToFloat32(x) });
        OpHarness.AssertClose([4, 2], outs[1].ToDoubleArray(), 1e-6, 0, "mean");
        OpHarness.AssertClose([20.0 / 3, 0], outs[2].ToDoubleArray(), 1e-6, 0, "variance");
        // Normalised with the biased variance 5; channel 1 has σ² = 0 and ε = 0: 0/0 = NaN, as the definition gives.
        var yv = outs[0].ToDoubleArray();
        OpHarness.AssertClose([-3 / Math.Sqrt(5), -1 / Math.Sqrt(5), 1 / Math.Sqrt(5), 3 / Math.Sqrt(5)], [yv[0], yv[2], yv[4], yv[6]], 1e-6, 0, "y");
        Assert.That(double.IsNaN(yv[1]), Is.True, "0/0 normalisation");
    }

    /// <summary>
    /// NaN propagates through max pooling and takes its window's gradient (the first NaN); ±∞ are ordinary values.
    /// 11 channels: one vector block and a scalar tail on the CPU.
    /// </summary>
    [Test]
    public void NonFiniteInputsMatchTheReference()
    {
        var v = OpHarness.Uniform([2, 5, 4, 11], -2, 2, 31).ToDoubleArray();
        foreach (var (at, value) in new[] { (3, double.NaN), (50, double.NaN), (51, double.PositiveInfinity), (120, double.NegativeInfinity), (200, double.NaN), (207, double.NaN) })
            v[at] = value;
        var x = Tensor.FromArray(v, 2, 5, 4, 11);
        OpHarness.CpuMatchesReference((g, p) => g.MaxPool(p[0], [2, 2], [1, 1], "same"), [x]);
        OpHarness.CpuMatchesReference((g, p) => g.AvgPool(p[0], [3, 2], [2, 1], "same"), [x]);
        OpHarness.CpuMatchesReference((g, p) => g.MaxPoolGrad(p[0], p[1], SpatialRules.WindowAttrs("t", [2, 2], [1, 1], "same")),
            [x, OpHarness.Uniform([2, 5, 4, 11], 0.5, 1.5, 32)]);
        var y = OpHarness.Evaluate((g, p) => g.MaxPool(p[0], [2, 2], [2, 2]), [x], Device.Cpu).ToDoubleArray();
        Assert.That(double.IsNaN(y[3]), Is.True, "the NaN at (0,0,0,3) poisons its window");
    }

    /// <summary>Large enough to take the CPU kernels' parallel paths (and several batch-norm row blocks).</summary>
    [Test]
    public void ParallelPathsMatchTheReference()
    {
        var x = OpHarness.Uniform([4, 32, 32, 8], -2, 2, 21);
        OpHarness.CpuMatchesReference((g, p) => g.MaxPool(p[0], [3, 3], [1, 1], "same"), [x]);
        OpHarness.CpuMatchesReference((g, p) => g.AvgPool(p[0], [3, 3], [2, 2], "same"), [x]);
        OpHarness.CpuMatchesReference((g, p) => g.Gradients([g.ReduceSum(g.Square(g.MaxPool(p[0], [3, 3], [2, 2])))], [p[0]])[0]!.Value, [x]);
        OpHarness.CpuMatchesReference((g, p) => g.Gradients([g.ReduceSum(g.Square(g.AvgPool(p[0], [2, 2], [1, 1])))], [p[0]])[0]!.Value, [x]);
        var c = Tensor.FromArray(Enumerable.Range(0, 8).Select(i => 0.5 + i / 8.0).ToArray(), 8);
        Output Bn(Graph g, Output[] p) => g.FusedBatchNorm(p[0], p[1], p[1], p[1], p[1]).Y;
        // Offset 3: two-pass statistics keep the small variance exact relative to a large mean.
        OpHarness.CpuMatchesReference(Bn, [OpHarness.Uniform([4, 32, 32, 8], 2, 4, 22), c], 1e-4, 1e-4);
        OpHarness.CpuMatchesReference((g, p) => g.Gradients([g.ReduceSum(g.Square(Bn(g, p)) * p[0])], [p[0], p[1]])[0]!.Value,
            [OpHarness.Uniform([4, 32, 32, 8], -1, 1, 23), c], 1e-4, 1e-4);
    }
}
