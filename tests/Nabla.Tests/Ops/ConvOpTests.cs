using Nabla.Kernels;
using Nabla.Kernels.Cpu;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// Conv2D and its adjoints beyond the registered op cases: hand-computed values, TensorFlow's "same" padding
/// asymmetry, Keras's transposed-convolution output sizes (and that the transposed convolution is the adjoint of
/// Conv2D), the CPU kernels' multi-core and multi-chunk paths against the reference, unknown spatial sizes,
/// second derivatives, and the im2col workspace in the memory plan.
/// </summary>
public class ConvOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"];

    private static IEnumerable<Device> Devices => [Device.Cpu, Device.Reference];

    private static Tensor Run(Device device, Build f, params Tensor[] inputs) => OpHarness.Evaluate(f, inputs, device);

    private static Tensor Grid(int h, int w) => Tensor.FromArray(Enumerable.Range(1, h * w).Select(v => (float)v).ToArray(), 1, h, w, 1);

    [TestCaseSource(nameof(Devices))]
    public void ValidConvolutionOfAKnownGrid(Device device)
    {
        // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2],[3,4]]: y[0,0] = 1·1 + 2·2 + 3·4 + 4·5 = 37, then 47, 67, 77.
        var w = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2, 1, 1);
        var y = Run(device, (g, x) => g.Conv2D(x[0], x[1]), Grid(3, 3), w);
        Assert.That(y.Shape, Is.EqualTo(new Shape(1, 2, 2, 1)));
        Assert.That(y.ToDoubleArray(), Is.EqualTo(new double[] { 37, 47, 67, 77 }));
    }

    [TestCaseSource(nameof(Devices))]
    public void FilterGradientOfAKnownGrid(Device device)
    {
        // dy = ones [1,2,2,1]: dw[i,j] = Σ of the 2×2 block of x starting at (i, j): 12, 16, 24, 28.
        var y = Run(device, (g, x) => g.Conv2DBackpropFilter(x[0], x[1], [2, 2]), Grid(3, 3), Tensor.Ones(new Shape(1, 2, 2, 1)));
        Assert.That(y.ToDoubleArray(), Is.EqualTo(new double[] { 12, 16, 24, 28 }));
        // And the input gradient of the same: dx counts how many windows cover each pixel, times the tap values.
        var w = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2, 1, 1);
        var dx = Run(device, (g, x) => g.Conv2DBackpropInput(x[0], x[1], [3, 3]), Tensor.Ones(new Shape(1, 2, 2, 1)), w);
        Assert.That(dx.ToDoubleArray(), Is.EqualTo(new double[] { 1, 3, 2, 4, 10, 6, 3, 7, 4 }));
    }

    /// <summary>
    /// (input, kernel, stride) → the padding TensorFlow puts on top (the rest goes at the bottom), worked by hand from
    /// out = ⌈in/s⌉, total = (out − 1)·s + k − in.
    /// </summary>
    private static IEnumerable<TestCaseData> SamePaddings() =>
    [
        new TestCaseData(4, 2, 1, 0).SetName("4 rows, 2-tap, stride 1: total 1 → 0 on top, 1 below"),
        new TestCaseData(6, 3, 2, 0).SetName("6 rows, 3-tap, stride 2: total 1 → 0 on top, 1 below"),
        new TestCaseData(5, 3, 2, 1).SetName("5 rows, 3-tap, stride 2: total 2 → 1 and 1"),
        new TestCaseData(5, 4, 1, 1).SetName("5 rows, 4-tap, stride 1: total 3 → 1 on top, 2 below"),
        new TestCaseData(7, 1, 3, 0).SetName("7 rows, 1-tap, stride 3: no padding"),
    ];

    [TestCaseSource(nameof(SamePaddings))]
    public void SamePaddingPutsTheOddRowAtTheBottomRight(int size, int k, int stride, int padTop)
    {
        var x = OpHarness.Uniform([1, size, size, 1], seed: 3);
        var w = OpHarness.Uniform([k, k, 1, 1], seed: 4);
        var outSize = (size + stride - 1) / stride;
        // A direct loop with the padding given by hand, independent of ConvShapeRules.
        var xv = x.ToDoubleArray();
        var wv = w.ToDoubleArray();
        var expected = new double[outSize * outSize];
        for (var ho = 0; ho < outSize; ho++)
            for (var wo = 0; wo < outSize; wo++)
                for (var i = 0; i < k; i++)
                    for (var j = 0; j < k; j++)
                    {
                        int h = ho * stride - padTop + i, c = wo * stride - padTop + j;
                        if (h >= 0 && h < size && c >= 0 && c < size) expected[ho * outSize + wo] += xv[h * size + c] * wv[i * k + j];
                    }
        var y = Run(Device.Reference, (g, v) => g.Conv2D(v[0], v[1], [stride, stride], "same"), x, w);
        Assert.That(y.Shape, Is.EqualTo(new Shape(1, outSize, outSize, 1)));
        OpHarness.AssertClose(expected, y.ToDoubleArray(), 1e-12, 1e-12, "same padding");
    }

    /// <summary>Keras's deconv_output_length, evaluated by hand for each row.</summary>
    private static IEnumerable<TestCaseData> TransposeSizes() =>
    [
        new TestCaseData(7, 3, 2, "valid", null, 1, 15).SetName("7, k3, s2, valid: 7·2 + max(3 − 2, 0) = 15"),
        new TestCaseData(7, 3, 2, "same", null, 1, 14).SetName("7, k3, s2, same: 7·2 = 14"),
        new TestCaseData(7, 3, 2, "same", 1, 1, 14).SetName("7, k3, s2, same, q1: 6·2 + 3 − 2 + 1 = 14"),
        new TestCaseData(7, 3, 2, "same", 0, 1, 13).SetName("7, k3, s2, same, q0: 6·2 + 3 − 2 = 13"),
        new TestCaseData(7, 3, 2, "valid", 1, 1, 16).SetName("7, k3, s2, valid, q1: 6·2 + 3 + 1 = 16"),
        new TestCaseData(4, 5, 2, "same", null, 1, 8).SetName("4, k5, s2, same: 8"),
        new TestCaseData(4, 1, 2, "valid", null, 1, 8).SetName("4, k1, s2, valid: 4·2 + 0 = 8"),
        new TestCaseData(3, 4, 3, "valid", 2, 1, 12).SetName("3, k4, s3, valid, q2: 2·3 + 4 + 2 = 12"),
        new TestCaseData(5, 3, 1, "valid", null, 1, 7).SetName("5, k3, s1, valid: 5 + 2 = 7"),
        new TestCaseData(4, 3, 1, "valid", null, 2, 8).SetName("4, k3, d2, valid: 4 + (5 − 1) = 8"),
        new TestCaseData(7, 4, 2, "same", null, 1, 14).SetName("7, k4 (even), s2, same: 14"),
    ];

    [TestCaseSource(nameof(TransposeSizes))]
    public void TransposeOutputSizeFollowsKerasAndIsTheAdjointOfConv2D(int size, int k, int stride, string padding, int? q, int dilation, int expected)
    {
        int[]? op = q is { } v ? [v, v] : null;
        var x = OpHarness.Uniform([2, size, size, 3], seed: 5);
        var w = OpHarness.Uniform([k, k, 2, 3], seed: 6);
        var g0 = new Graph();
        var shape = g0.Conv2DTranspose(g0.Placeholder(DType.Float32, x.Shape), g0.Placeholder(DType.Float32, w.Shape), [stride, stride], padding, op, [dilation, dilation]).Shape;
        Assert.That(shape, Is.EqualTo(new Shape(2, expected, expected, 2)));
        // ⟨Conv2DTranspose(x, w), z⟩ = ⟨x, Conv2D(z, w)⟩: the transposed convolution is the adjoint of the forward one.
        var z = OpHarness.Uniform([2, expected, expected, 2], seed: 7);
        foreach (var device in Devices)
        {
            var lhs = Run(device, (g, t) => g.ReduceSum(g.Conv2DTranspose(t[0], t[1], [stride, stride], padding, op, [dilation, dilation]) * t[2]), x, w, z).ToDoubleArray()[0];
            var rhs = Run(device, (g, t) => g.ReduceSum(t[0] * g.Conv2D(t[2], t[1], [stride, stride], padding, [dilation, dilation])), x, w, z).ToDoubleArray()[0];
            Assert.That(lhs, Is.EqualTo(rhs).Within(1e-4 * (1 + Math.Abs(rhs))), device.Name);
        }
    }

    [Test]
    public void TransposeWithAnOutputSizeNoConvolutionMapsBackIsRefused()
    {
        // k = 4, same, stride 2, output padding 0 on 3 rows: Keras's formula gives (3 − 1)·2 + 4 − 4 = 4, but ⌈4/2⌉ = 2 ≠ 3.
        var g = new Graph();
        var ex = Assert.Throws<ShapeException>(() => g.Conv2DTranspose(g.Placeholder(DType.Float32, new Shape(1, 3, 3, 1)), g.Placeholder(DType.Float32, new Shape(4, 4, 1, 1)), [2, 2], "same", [0, 0]));
        Assert.That(ex!.Message, Does.Contain("Conv2DBackpropInput 'conv2d_transpose'").And.Contain("does not match the [4,4] input"));
    }

    private static IEnumerable<TestCaseData> CompositeErrors() =>
    [
        new TestCaseData((Action<Graph>)(g => g.Conv1D(g.Placeholder(DType.Float32, new Shape(2, 5, 5, 1)), g.Placeholder(DType.Float32, new Shape(3, 1, 1)))), "Conv1D 'conv1d': input must have rank 3").SetName("Conv1D rank-4 input"),
        new TestCaseData((Action<Graph>)(g => g.Conv1D(g.Placeholder(DType.Float32, new Shape(2, 5, 1)), g.Placeholder(DType.Float32, new Shape(3, 1, 1)), padding: "full")), "padding must be \"valid\", \"same\" or \"causal\"").SetName("Conv1D unknown padding"),
        new TestCaseData((Action<Graph>)(g => g.Conv1D(g.Placeholder(DType.Float32, new Shape(2, 5, 1)), g.Placeholder(DType.Float32, new Shape(3, 1, 1)), stride: 0)), "stride and dilation must be positive").SetName("Conv1D zero stride"),
        new TestCaseData((Action<Graph>)(g => g.Conv1D(g.Placeholder(DType.Float32, new Shape(2, 5, 2)), g.Placeholder(DType.Float32, new Shape(3, 1, 1)))), "Conv2D 'conv1d/Conv2D': input channels differ").SetName("Conv1D channel mismatch (reported by the lowered Conv2D)"),
        new TestCaseData((Action<Graph>)(g => g.Conv2DTranspose(g.Placeholder(DType.Float32, new Shape(1, 3, 3, 1)), g.Placeholder(DType.Float32, new Shape(3, 3, 1, 1)), [2, 2], "same", [2, 2])), "Conv2DTranspose 'conv2d_transpose': outputPadding [2,2] must be smaller than the strides [2,2]").SetName("Conv2DTranspose output padding ≥ stride"),
        new TestCaseData((Action<Graph>)(g => g.Conv2DTranspose(g.Placeholder(DType.Float32, new Shape(1, -1, 3, 1)), g.Placeholder(DType.Float32, new Shape(3, 3, 1, 1)))), "needs the input's height and width").SetName("Conv2DTranspose unknown height"),
        new TestCaseData((Action<Graph>)(g => g.Conv2DTranspose(g.Placeholder(DType.Float32, new Shape(1, 3, 3)), g.Placeholder(DType.Float32, new Shape(3, 3, 1, 1)))), "input must have rank 4").SetName("Conv2DTranspose rank-3 input"),
    ];

    [TestCaseSource(nameof(CompositeErrors))]
    public void CompositesRefuseBadInputNamingThemselves(Action<Graph> act, string message)
    {
        var ex = Assert.Throws<ShapeException>(() => act(new Graph()));
        Assert.That(ex!.Message, Does.Contain(message));
    }

    /// <summary>Forward and both gradients of Σ w·conv(x, f) on one device.</summary>
    private static Tensor[] ForwardAndGradients(Device device, DType dtype, Tensor x, Tensor f, int[] strides, string padding, int[] dilations, bool unknownSpatial = false)
    {
        var g = new Graph();
        var px = g.Placeholder(dtype, unknownSpatial ? new Shape(-1, -1, -1, x.Shape[3]) : x.Shape, "x");
        var pf = g.Placeholder(dtype, f.Shape, "f");
        var y = g.Conv2D(px, pf, strides, padding, dilations);
        var loss = g.ReduceSum(g.Square(y));
        var grads = g.Gradients(loss, px, pf);
        using var s = new Session(g, device);
        Tensor Cast(Tensor t) => dtype == DType.Float32 ? OpHarness.ToFloat32(t) : OpHarness.ToFloat64(OpHarness.ToFloat32(t));
        return s.Run([y, grads[0], grads[1]], new Dictionary<Output, Tensor> { [px] = Cast(x), [pf] = Cast(f) });
    }

    private static IEnumerable<TestCaseData> LargeShapes() =>
    [
        // K = 3·3·128 = 1152: chunks of 113 rows, 400 rows in all: two cores × two chunks each, ragged last chunk.
        new TestCaseData(new[] { 4, 12, 12, 128 }, new[] { 3, 3, 128, 16 }, new[] { 1, 1 }, "valid", new[] { 1, 1 }).SetName("multi-chunk valid 3x3"),
        new TestCaseData(new[] { 3, 15, 13, 64 }, new[] { 3, 3, 64, 24 }, new[] { 2, 2 }, "same", new[] { 1, 1 }).SetName("odd batch, same, stride 2"),
        new TestCaseData(new[] { 2, 14, 14, 40 }, new[] { 3, 3, 40, 33 }, new[] { 1, 1 }, "same", new[] { 2, 2 }).SetName("dilation 2, odd channel count"),
        new TestCaseData(new[] { 5, 16, 16, 32 }, new[] { 1, 1, 32, 48 }, new[] { 1, 1 }, "valid", new[] { 1, 1 }).SetName("pointwise, parallel GEMM"),
        new TestCaseData(new[] { 1, 30, 30, 48 }, new[] { 3, 3, 48, 16 }, new[] { 1, 1 }, "same", new[] { 1, 1 }).SetName("batch 1 (input gradient on one core)"),
        // The direct kernel (3 ≤ OutC ≤ 16, no im2col; padded images copied to a workspace), and its 256-bit variant for OutC ≤ 8.
        new TestCaseData(new[] { 40, 28, 28, 1 }, new[] { 5, 5, 1, 6 }, new[] { 1, 1 }, "same", new[] { 1, 1 }).SetName("direct: LeNet's first layer, 6 channels, padded"),
        new TestCaseData(new[] { 9, 14, 14, 6 }, new[] { 5, 5, 6, 16 }, new[] { 1, 1 }, "valid", new[] { 1, 1 }).SetName("direct: LeNet's second layer, 16 channels (input gradient direct with 6)"),
        new TestCaseData(new[] { 7, 13, 11, 5 }, new[] { 3, 3, 5, 12 }, new[] { 2, 2 }, "same", new[] { 1, 1 }).SetName("direct: stride 2, uneven same padding, 12 channels"),
        new TestCaseData(new[] { 6, 12, 12, 4 }, new[] { 3, 3, 4, 3 }, new[] { 1, 1 }, "same", new[] { 2, 2 }).SetName("direct: dilation 2, 3 channels"),
        new TestCaseData(new[] { 30, 9, 30, 7 }, new[] { 3, 5, 7, 8 }, new[] { 1, 3 }, "valid", new[] { 1, 1 }).SetName("direct: stride 1×3, 8 channels, 9-pixel rows"),
        // Channel lanes with 9-12-pixel blocks (OutC > 8): rows of 9, 11, 12 and 20 (8 + 12) pixels.
        new TestCaseData(new[] { 3, 9, 11, 2 }, new[] { 3, 3, 2, 12 }, new[] { 1, 1 }, "valid", new[] { 1, 1 }).SetName("direct: 9-pixel rows, 12 channels"),
        new TestCaseData(new[] { 2, 5, 13, 1 }, new[] { 3, 3, 1, 16 }, new[] { 1, 1 }, "valid", new[] { 1, 1 }).SetName("direct: 11-pixel rows, 16 channels, one input channel"),
        new TestCaseData(new[] { 2, 13, 13, 3 }, new[] { 2, 2, 3, 10 }, new[] { 1, 1 }, "valid", new[] { 1, 1 }).SetName("direct: 12-pixel rows, 10 channels"),
        new TestCaseData(new[] { 2, 6, 22, 2 }, new[] { 3, 3, 2, 9 }, new[] { 1, 1 }, "valid", new[] { 1, 1 }).SetName("direct: 20-pixel rows (8 + 12), 9 channels"),
        // Pixels in lanes (one input channel, horizontal stride 1, 3–8 output channels): rows of 1–16, 17–32 and over 32 pixels.
        new TestCaseData(new[] { 9, 11, 37, 1 }, new[] { 3, 3, 1, 3 }, new[] { 2, 1 }, "same", new[] { 1, 1 }).SetName("pixel lanes: 3 channels, 37-pixel rows, vertical stride 2"),
        new TestCaseData(new[] { 5, 12, 21, 1 }, new[] { 3, 5, 1, 8 }, new[] { 1, 1 }, "valid", new[] { 2, 1 }).SetName("pixel lanes: 8 channels, 17-pixel rows, dilation 2×1"),
    ];

    [TestCaseSource(nameof(LargeShapes))]
    public void CpuMatchesReferenceOnTheParallelPaths(int[] xs, int[] fs, int[] strides, string padding, int[] dilations)
    {
        var x = OpHarness.Uniform(xs, -1, 1, 11);
        var f = OpHarness.Uniform(fs, -0.1, 0.1, 12);
        var reference = ForwardAndGradients(Device.Reference, DType.Float64, x, f, strides, padding, dilations);
        var cpu32 = ForwardAndGradients(Device.Cpu, DType.Float32, x, f, strides, padding, dilations);
        var cpu64 = ForwardAndGradients(Device.Cpu, DType.Float64, x, f, strides, padding, dilations);
        string[] what = ["forward", "input gradient", "filter gradient"];
        for (var i = 0; i < 3; i++)
        {
            var e = reference[i].ToDoubleArray();
            var scale = e.Select(Math.Abs).DefaultIfEmpty(0).Max();
            // float32: sums of up to ~1e4 products (the filter gradient sums over batch × positions): 1e-5 of the scale bounds k·ε.
            OpHarness.AssertClose(e, cpu32[i].ToDoubleArray(), 1e-5, 1e-5 * scale, $"cpu float32 {what[i]}");
            OpHarness.AssertClose(e, cpu64[i].ToDoubleArray(), 1e-11, 1e-11 * scale, $"cpu float64 {what[i]}");
        }
    }

    private static IEnumerable<TestCaseData> PixelLaneShapes() =>
    [
        new TestCaseData(2, 7, 5, 5, 3, "same", 1, 1).SetName("5-pixel rows, 3 channels"),
        new TestCaseData(3, 9, 17, 3, 8, "valid", 1, 1).SetName("15-pixel rows, 8 channels"),
        new TestCaseData(2, 6, 33, 3, 5, "same", 1, 1).SetName("33-pixel rows (two blocks and one), 5 channels"),
        new TestCaseData(2, 10, 40, 5, 7, "same", 2, 1).SetName("40-pixel rows, 7 channels, vertical stride 2"),
        new TestCaseData(2, 12, 31, 3, 6, "same", 1, 2).SetName("31-pixel rows, 6 channels, dilation 2"),
        new TestCaseData(24, 28, 28, 5, 4, "same", 1, 1).SetName("LeNet-sized, 4 channels, shares split inside rows"),
    ];

    /// <summary>
    /// The pixel-lane direct kernel (one input channel, horizontal stride 1, 3–8 output channels) adds each output's taps with
    /// one FMA per tap in (row, column) order from zero, exactly as the channel-lane kernel's 8-pixel blocks: this model of it
    /// in scalar MathF.FusedMultiplyAdd must match bit for bit, through the ragged blocks and the in-register transpose.
    /// </summary>
    [TestCaseSource(nameof(PixelLaneShapes))]
    public void PixelLaneKernelAddsTheTapsInOrderBitForBit(int batch, int h, int w, int k, int outC, string padding, int strideH, int dilation)
    {
        var x = OpHarness.ToFloat32(OpHarness.Uniform([batch, h, w, 1], -1, 1, 51)).ToArray<float>();
        var f = OpHarness.ToFloat32(OpHarness.Uniform([k, k, 1, outC], -0.5, 0.5, 52)).ToArray<float>();
        var (along, across) = (ConvShapeRules.Along(h, k, strideH, dilation, padding), ConvShapeRules.Along(w, k, 1, dilation, padding));
        var a = new Conv2DArgs(batch, h, w, 1, k, k, outC, strideH, 1, dilation, dilation, along.PadBefore, across.PadBefore, along.PadAfter, across.PadAfter, along.Out, across.Out);
        Assert.That(CpuConvolution.UsesPixelLanes(a) && CpuConvolution.UsesDirect(a, sizeof(float)), "the shape takes the pixel-lane kernel");
        var g = new Graph();
        var px = g.Placeholder(DType.Float32, new Shape(batch, h, w, 1), "x");
        var y = g.Conv2D(px, g.Constant(Tensor.FromArray(f, k, k, 1, outC)), [strideH, 1], padding, [dilation, dilation]);
        using var s = new Session(g);
        var actual = s.Run(y, new Dictionary<Output, Tensor> { [px] = Tensor.FromArray(x, batch, h, w, 1) }).ToArray<float>();
        var expected = new float[actual.Length];
        for (var n = 0; n < batch; n++)
            for (var ho = 0; ho < a.OutH; ho++)
                for (var wo = 0; wo < a.OutW; wo++)
                    for (var c = 0; c < outC; c++)
                    {
                        var acc = 0f;
                        for (var i = 0; i < k; i++)
                            for (var j = 0; j < k; j++)
                            {
                                int hi = ho * strideH + i * dilation - a.PadTop, wi = wo + j * dilation - a.PadLeft;
                                var v = hi >= 0 && hi < h && wi >= 0 && wi < w ? x[(n * h + hi) * w + wi] : 0f;
                                acc = MathF.FusedMultiplyAdd(v, f[(i * k + j) * outC + c], acc);
                            }
                        expected[((n * a.OutH + ho) * a.OutW + wo) * outC + c] = acc;
                    }
        Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void CpuResultsAreBitIdenticalFromRunToRun()
    {
        // Fixed row shares per core and a fixed order for the filter gradient's per-core partial sums: scheduling cannot move a bit.
        Assume.That(Environment.ProcessorCount, Is.GreaterThanOrEqualTo(2), "fewer than 2 CPU cores: the parallel split is not exercised");
        var x = OpHarness.Uniform([6, 14, 14, 64], -1, 1, 41);
        var f = OpHarness.Uniform([3, 3, 64, 32], -0.1, 0.1, 42);
        var first = ForwardAndGradients(Device.Cpu, DType.Float32, x, f, [2, 2], "same", [1, 1]);
        for (var run = 0; run < 3; run++)
        {
            var again = ForwardAndGradients(Device.Cpu, DType.Float32, x, f, [2, 2], "same", [1, 1]);
            for (var i = 0; i < 3; i++)
                Assert.That(again[i].ToArray<float>().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(first[i].ToArray<float>().Select(BitConverter.SingleToInt32Bits)), $"output {i}, run {run}");
        }
    }

    [TestCaseSource(nameof(Devices))]
    public void UnknownSpatialSizesAreResolvedWhenThePlanCompiles(Device device)
    {
        // The input gradient then takes its size from x itself (the three-input form of Conv2DBackpropInput).
        var x = OpHarness.Uniform([2, 7, 6, 3], seed: 21);
        var f = OpHarness.Uniform([3, 3, 3, 4], seed: 22);
        var dtype = device == Device.Cpu ? DType.Float32 : DType.Float64;
        var known = ForwardAndGradients(device, dtype, x, f, [2, 2], "same", [1, 1]);
        var unknown = ForwardAndGradients(device, dtype, x, f, [2, 2], "same", [1, 1], unknownSpatial: true);
        for (var i = 0; i < 3; i++) Assert.That(unknown[i].ToDoubleArray(), Is.EqualTo(known[i].ToDoubleArray()), $"output {i}");
        Assert.That(unknown[1].Shape, Is.EqualTo(x.Shape));
    }

    [Test]
    public void SecondDerivativesOfConv2DMatchCentralDifferences()
    {
        // Inputs in ±0.5 keep the checked sum |L| of the first gradient O(1), where the central difference's rounding
        // noise 2.2e-10·|L| stays under the default atol (with ±2 it reaches ~300 and the noise 7e-8).
        Build f = (g, v) => g.Square(g.Conv2D(v[0], v[1], [2, 1], "same", [1, 1]));
        OpHarness.SecondOrder(f, [OpHarness.Uniform([2, 5, 4, 2], -0.5, 0.5, 31), OpHarness.Uniform([3, 2, 2, 3], -0.5, 0.5, 32)], 1e-6);
        Build h = (g, v) => g.Square(g.Conv2DTranspose(v[0], v[1], [2, 2], "same"));
        OpHarness.SecondOrder(h, [OpHarness.Uniform([1, 3, 3, 2], -0.5, 0.5, 33), OpHarness.Uniform([3, 3, 1, 2], -0.5, 0.5, 34)], 1e-6);
    }

    [Test]
    public void Im2colWorkspaceIsPlannedAndPlannedPeakIsWhatTheRunUses()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(8, 16, 16, 32), "x");
        var f = g.Placeholder(DType.Float32, new Shape(3, 3, 32, 32), "f");
        var y = g.Conv2D(x, f, padding: "same");
        var grads = g.Gradients(g.ReduceSum(g.Square(y)), x, f);
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.RandomUniform(x.Shape, -1, 1, 1), [f] = Tensor.RandomUniform(f.Shape, -1, 1, 2) };
        var args = new Conv2DArgs(8, 16, 16, 32, 3, 3, 32, 1, 1, 1, 1, 1, 1, 1, 1, 16, 16);
        var expected = new[] { ConvolutionPass.Forward, ConvolutionPass.BackpropInput, ConvolutionPass.BackpropFilter }
            .Sum(p => CpuConvolution.Layout(p, args, 4, Environment.ProcessorCount).WorkspaceElements * 4);
        using (var s = new Session(g, Device.Cpu))
        {
            var plan = s.Plan([y, grads[0], grads[1]], feeds);
            Assert.That(expected, Is.GreaterThan(0));
            Assert.That(plan.WorkspaceBytes, Is.EqualTo(expected), "one im2col workspace per convolution pass");
            Assert.That(plan.PeakBytes, Is.GreaterThanOrEqualTo(plan.LiveBytesLowerBound));
            s.Run([y, grads[0], grads[1]], feeds);
            Assert.That(s.ArenaBytes, Is.EqualTo(plan.PeakBytes), "planned peak == the arenas the run used");
            Assert.That(s.LastRun!.Value.PlannedPeakBytes, Is.EqualTo(plan.PeakBytes));
        }
        using (var r = new Session(g, Device.Reference))
            Assert.That(r.Plan([y, grads[0], grads[1]], feeds).WorkspaceBytes, Is.Zero, "the reference loops need no scratch");
    }

    [Test]
    public void WorkspaceStaysBoundedForLargeLayers()
    {
        // VGG16's widest layers at batch 64: the im2col scratch is cores × one L2-sized chunk, not the whole col matrix (1.8 GB here).
        foreach (var args in new[]
        {
            new Conv2DArgs(64, 224, 224, 64, 3, 3, 64, 1, 1, 1, 1, 1, 1, 1, 1, 224, 224),
            new Conv2DArgs(64, 14, 14, 512, 3, 3, 512, 1, 1, 1, 1, 1, 1, 1, 1, 14, 14),
        })
            foreach (var pass in Enum.GetValues<ConvolutionPass>())
            {
                var bytes = CpuConvolution.Layout(pass, args, 4, Environment.ProcessorCount).WorkspaceElements * 4;
                Assert.That(bytes, Is.InRange(1, 16L << 20), $"{pass} {args}");
            }
    }
}
