using Nabla.Tests.Ops;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels.Cuda;

/// <summary>
/// Convolution and pooling on GPU 0, which run on cuDNN (the emulator has none): forward and both gradients in float32
/// against the float64 Reference backend, over the shapes that exercise the backend's own work around cuDNN (the HWIO → KRSC
/// filter transpose, explicit padding where SAME padding is asymmetric, strides and dilations), and the op tests that take a device.
/// </summary>
[Category("Gpu"), NonParallelizable]
public class GpuCudnnOpTests
{
    private static Device Gpu => CudaTestDevices.Gpu();

    public static IEnumerable<TestCaseData> ConvShapes() =>
    [
        new TestCaseData(new[] { 2, 7, 7, 3 }, new[] { 3, 3, 3, 4 }, new[] { 1, 1 }, "valid", new[] { 1, 1 }).SetName("valid 3x3"),
        new TestCaseData(new[] { 2, 8, 8, 3 }, new[] { 3, 3, 3, 5 }, new[] { 1, 1 }, "same", new[] { 1, 1 }).SetName("same 3x3 (symmetric)"),
        new TestCaseData(new[] { 2, 8, 8, 2 }, new[] { 2, 2, 2, 3 }, new[] { 1, 1 }, "same", new[] { 1, 1 }).SetName("same 2x2 (odd row at the bottom right: explicit padding)"),
        new TestCaseData(new[] { 3, 13, 11, 5 }, new[] { 3, 3, 5, 12 }, new[] { 2, 2 }, "same", new[] { 1, 1 }).SetName("stride 2, uneven same padding"),
        new TestCaseData(new[] { 2, 12, 12, 4 }, new[] { 3, 3, 4, 3 }, new[] { 1, 1 }, "same", new[] { 2, 2 }).SetName("dilation 2"),
        new TestCaseData(new[] { 4, 9, 30, 7 }, new[] { 3, 5, 7, 8 }, new[] { 1, 3 }, "valid", new[] { 1, 1 }).SetName("stride 1x3, 3x5 window"),
        new TestCaseData(new[] { 4, 12, 12, 32 }, new[] { 1, 1, 32, 16 }, new[] { 1, 1 }, "valid", new[] { 1, 1 }).SetName("pointwise"),
    ];

    private static Tensor[] ConvForwardAndGradients(Device device, DType dtype, Tensor x, Tensor f, int[] strides, string padding, int[] dilations)
    {
        var g = new Graph();
        var px = g.Placeholder(dtype, x.Shape, "x");
        var pf = g.Placeholder(dtype, f.Shape, "f");
        var y = g.Conv2D(px, pf, strides, padding, dilations);
        var grads = g.Gradients(g.ReduceSum(g.Square(y)), px, pf);
        using var s = new Session(g, device);
        Tensor Cast(Tensor t) => dtype == DType.Float32 ? OpHarness.ToFloat32(t) : OpHarness.ToFloat64(OpHarness.ToFloat32(t));
        return s.Run([y, grads[0], grads[1]], new Dictionary<Output, Tensor> { [px] = Cast(x), [pf] = Cast(f) });
    }

    [TestCaseSource(nameof(ConvShapes))]
    public void ConvolutionMatchesReference(int[] xs, int[] fs, int[] strides, string padding, int[] dilations)
    {
        var gpu = Gpu;
        var x = OpHarness.Uniform(xs, -1, 1, 11);
        var f = OpHarness.Uniform(fs, -0.5, 0.5, 12);
        var reference = ConvForwardAndGradients(Device.Reference, DType.Float64, x, f, strides, padding, dilations);
        var cuda32 = ConvForwardAndGradients(gpu, DType.Float32, x, f, strides, padding, dilations);
        var cuda64 = ConvForwardAndGradients(gpu, DType.Float64, x, f, strides, padding, dilations);
        string[] what = ["forward", "input gradient", "filter gradient"];
        for (var i = 0; i < 3; i++)
        {
            var e = reference[i].ToDoubleArray();
            var scale = e.Select(Math.Abs).DefaultIfEmpty(0).Max();
            // float32 sums of up to a few thousand products (FMA math, no TF32): 1e-5 of the scale bounds k·ε; float64 to rounding.
            OpHarness.AssertClose(e, cuda32[i].ToDoubleArray(), 1e-5, 1e-5 * scale, $"cuda float32 {what[i]}");
            OpHarness.AssertClose(e, cuda64[i].ToDoubleArray(), 1e-11, 1e-11 * scale, $"cuda float64 {what[i]}");
        }
    }

    public static IEnumerable<TestCaseData> PoolShapes() =>
    [
        new TestCaseData(new[] { 2, 8, 8, 3 }, new[] { 2, 2 }, new[] { 2, 2 }, "valid").SetName("2x2 stride 2"),
        new TestCaseData(new[] { 2, 9, 7, 4 }, new[] { 3, 3 }, new[] { 2, 2 }, "same").SetName("3x3 stride 2 same"),
        new TestCaseData(new[] { 1, 10, 10, 2 }, new[] { 3, 3 }, new[] { 1, 1 }, "valid").SetName("3x3 stride 1 overlapping"),
    ];

    [TestCaseSource(nameof(PoolShapes))]
    public void PoolingMatchesReference(int[] xs, int[] k, int[] s, string padding)
    {
        var gpu = Gpu;
        var x = OpHarness.Uniform(xs, -2, 2, 5);
        OpHarness.UseFloat32Device(gpu, () =>
        {
            // Max is exact (a selection); the average of ≤ 9 values rounds a few times: 1e-6.
            OpHarness.CpuMatchesReference((g, v) => g.MaxPool(v[0], [1, k[0], k[1], 1], [1, s[0], s[1], 1], padding), [x], 0, 0);
            OpHarness.CpuMatchesReference((g, v) => g.AvgPool(v[0], [1, k[0], k[1], 1], [1, s[0], s[1], 1], padding), [x], 1e-6, 1e-6);
            OpHarness.CpuMatchesReference((g, v) => g.Gradients(g.ReduceSum(g.Square(g.MaxPool(v[0], [1, k[0], k[1], 1], [1, s[0], s[1], 1], padding))), v[0])[0], [x], 1e-6, 1e-6);
            OpHarness.CpuMatchesReference((g, v) => g.Gradients(g.ReduceSum(g.Square(g.AvgPool(v[0], [1, k[0], k[1], 1], [1, s[0], s[1], 1], padding))), v[0])[0], [x], 1e-5, 1e-6);
        });
    }

    [Test]
    public void ValidConvolutionOfAKnownGrid() => new ConvOpTests().ValidConvolutionOfAKnownGrid(Gpu);

    [Test]
    public void FilterGradientOfAKnownGrid() => new ConvOpTests().FilterGradientOfAKnownGrid(Gpu);

    [Test]
    public void MaxAndAveragePoolKnownValues() => new PoolingOpTests().MaxAndAveragePoolKnownValues(Gpu);

    [Test]
    public void SamePaddingIsBottomRightAndAverageCountsOnlyTheImage() => new PoolingOpTests().SamePaddingIsBottomRightAndAverageCountsOnlyTheImage(Gpu);

    [Test]
    public void MaxPoolGradientGoesToTheFirstMaximum() => new PoolingOpTests().MaxPoolGradientGoesToTheFirstMaximum(Gpu);
}
