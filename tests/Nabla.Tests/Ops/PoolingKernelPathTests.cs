using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// The CPU pooling kernels' paths against the float64 reference: channel counts below, at and above the vector width
/// (1, 3, 6, 16, 17, 33: one partial block, a full block, full blocks plus an overlapping tail), odd sizes that
/// 'valid' pooling crops, 'same' padding (clipped edge windows beside the interior ones), stride ≠ window in both
/// directions, batch 1 and a batch large enough to split across cores. Each geometry runs on random inputs, on small
/// integers (many equal maxima, so the gradient's first-maximum rule is exercised) and on inputs with NaN and ±∞.
/// </summary>
public class PoolingKernelPathTests
{
    /// <summary>A pooling geometry: input [N, H, W, C], window, strides, padding.</summary>
    public sealed record Geometry(string Name, int[] X, int[] K, int[] S, string Padding);

    public static readonly Geometry[] Geometries =
    [
        new("C1 2x2/2 valid odd", [2, 7, 9, 1], [2, 2], [2, 2], "valid"),
        new("C3 2x2/2 valid odd", [2, 5, 7, 3], [2, 2], [2, 2], "valid"),
        new("C6 2x2/2 valid LeNet-like", [3, 12, 12, 6], [2, 2], [2, 2], "valid"),
        new("C16 2x2/2 valid odd", [2, 7, 5, 16], [2, 2], [2, 2], "valid"),
        new("C17 2x2/2 valid", [2, 6, 6, 17], [2, 2], [2, 2], "valid"),
        new("C33 2x2/2 valid odd", [2, 5, 5, 33], [2, 2], [2, 2], "valid"),
        new("C1 3x3/2 same odd", [2, 7, 9, 1], [3, 3], [2, 2], "same"),
        new("C6 3x3/2 same", [2, 8, 8, 6], [3, 3], [2, 2], "same"),
        new("C17 3x3/2 same odd", [1, 5, 7, 17], [3, 3], [2, 2], "same"),
        new("C6 2x2/2 same odd", [2, 7, 7, 6], [2, 2], [2, 2], "same"),
        new("C3 3x3/1 valid (overlapping)", [2, 6, 7, 3], [3, 3], [1, 1], "valid"),
        new("C6 3x3/1 same (overlapping)", [2, 6, 6, 6], [3, 3], [1, 1], "same"),
        new("C1 2x3 window, 3x2 strides, same", [2, 8, 7, 1], [2, 3], [3, 2], "same"),
        new("C6 window < stride, 2x2/3 valid", [2, 8, 8, 6], [2, 2], [3, 3], "valid"),
        new("C3 window wider than the image, same", [1, 3, 2, 3], [3, 4], [1, 1], "same"),
        new("C6 one row (1-D), 3/2 same", [2, 1, 11, 6], [1, 3], [1, 2], "same"),
        new("batch 1, C1", [1, 4, 4, 1], [2, 2], [2, 2], "valid"),
        new("batch 9 > cores, parallel, C6", [9, 28, 28, 6], [2, 2], [2, 2], "valid"),
        new("batch 7 > cores, parallel, C16 3x3/2 same", [7, 15, 15, 16], [3, 3], [2, 2], "same"),
    ];

    public static IEnumerable<TestCaseData> Cases() =>
        from g in Geometries
        from input in new[] { "random", "ties", "nonfinite" }
        select new TestCaseData(g.Name, input).SetArgDisplayNames(g.Name, input);

    private static Geometry Get(string name) => Geometries.Single(g => g.Name == name);

    /// <summary>
    /// Values exact in float32 (so CPU and reference see the same input): uniform; small integers in [−3, 3] (ties in
    /// almost every window); or uniform with about one element in seven NaN, +∞ or −∞.
    /// </summary>
    private static Tensor Input(int[] shape, string kind, ulong seed)
    {
        var v = OpHarness.Uniform(shape, -2, 2, seed).ToDoubleArray().Select(x => (double)(float)x).ToArray();
        if (kind == "ties") v = v.Select(x => Math.Round(x * 1.5)).ToArray();
        if (kind == "nonfinite")
            for (var i = 0; i < v.Length; i++)
                v[i] = ((i * 2654435761L) >> 7) % 21 switch { 0 or 1 => double.NaN, 2 => double.PositiveInfinity, 3 => double.NegativeInfinity, _ => v[i] };
        return Tensor.FromArray(v, shape);
    }

    private static int Out(int size, int k, int s, string padding) => padding == "same" ? (size + s - 1) / s : (size - k) / s + 1;

    private static int[] OutShape(Geometry g) =>
        [g.X[0], Out(g.X[1], g.K[0], g.S[0], g.Padding), Out(g.X[2], g.K[1], g.S[1], g.Padding), g.X[3]];

    /// <summary>Forward max and average pooling and both gradients (dy uniform on [0.5, 1.5]), float32 CPU against the float64 reference.</summary>
    [TestCaseSource(nameof(Cases))]
    public void CpuMatchesReference(string name, string input)
    {
        var geo = Get(name);
        var x = Input(geo.X, input, 41);
        var dy = OpHarness.Uniform(OutShape(geo), 0.5, 1.5, 42);
        var attrs = SpatialRules.WindowAttrs("t", geo.K, geo.S, geo.Padding);
        OpHarness.CpuMatchesReference((g, p) => g.MaxPool(p[0], geo.K, geo.S, geo.Padding), [x]);
        OpHarness.CpuMatchesReference((g, p) => g.AvgPool(p[0], geo.K, geo.S, geo.Padding), [x]);
        // A window sums at most 12 dy of ≤ 1.5 in float32: rtol 1e-5 covers the rounding.
        OpHarness.CpuMatchesReference((g, p) => g.MaxPoolGrad(p[0], p[1], attrs), [x, dy]);
        OpHarness.CpuMatchesReference((g, p) => g.AvgPoolGrad(p[0], p[1], attrs), [x, dy]);
    }

    /// <summary>The float64 CPU kernels (4 lanes per vector where float32 has 8) against the reference, to ≈ 1e-12.</summary>
    [TestCase("C3 2x2/2 valid odd")]
    [TestCase("C6 3x3/2 same")]
    [TestCase("C17 3x3/2 same odd")]
    [TestCase("C1 2x3 window, 3x2 strides, same")]
    public void Float64CpuMatchesReference(string name)
    {
        var geo = Get(name);
        var attrs = SpatialRules.WindowAttrs("t", geo.K, geo.S, geo.Padding);
        var dy = OpHarness.Uniform(OutShape(geo), 0.5, 1.5, 43);
        foreach (var input in new[] { "random", "ties", "nonfinite" })
        {
            var x = Input(geo.X, input, 44);
            foreach (var (what, f) in new (string, Build)[]
            {
                ("max", (g, p) => g.MaxPool(p[0], geo.K, geo.S, geo.Padding)),
                ("avg", (g, p) => g.AvgPool(p[0], geo.K, geo.S, geo.Padding)),
                ("max grad", (g, p) => g.MaxPoolGrad(p[0], p[1], attrs)),
                ("avg grad", (g, p) => g.AvgPoolGrad(p[0], p[1], attrs)),
            })
            {
                var expected = OpHarness.Evaluate(f, [x, dy], Device.Reference).ToDoubleArray();
                var actual = OpHarness.Evaluate(f, [x, dy], Device.Cpu).ToDoubleArray();
                OpHarness.AssertClose(expected, actual, 1e-12, 1e-12, $"{what}, {input}");
            }
        }
    }

    /// <summary>
    /// Ties spelled out with C = 3 (below the vector width): channel 0 has its maximum twice in the first window row,
    /// channel 1 once in each row, channel 2 everywhere; in the second window channel 0 has a NaN after a maximum and
    /// a second NaN after it, channel 1 its maximum last and channel 2 all zeros. The gradient goes to the first maximum (first NaN) in row-major window order.
    /// </summary>
    [TestCaseSource(typeof(PoolingKernelPathTests), nameof(Devices))]
    public void MaxGradientTakesTheFirstMaximumPerChannel(Device device)
    {
        double nan = double.NaN;
        // [1, 2, 4, 3]: two 2x2 windows side by side; pixel (r, q) holds channels (c0, c1, c2).
        double[] x =
        [
            1, 0, 5,   4, 2, 5,   9, 0, 0,   nan, 0, 0,
            4, 2, 5,   0, 1, 5,   nan, 0, 0, 9, 1, 0,
        ];
        var dy = new double[] { 10, 20, 30, 40, 50, 60 };
        var t = Tensor.FromArray(x, 1, 2, 4, 3);
        var attrs = SpatialRules.WindowAttrs("t", [2, 2], [2, 2], "valid");
        var dx = OpHarness.Evaluate((g, p) => g.MaxPoolGrad(p[0], p[1], attrs), [OpHarness.ToFloat32(t), OpHarness.ToFloat32(Tensor.FromArray(dy, 1, 1, 2, 3))], device).ToDoubleArray();
        double[] expected =
        [
            0, 0, 30,   10, 20, 0,   0, 0, 60,   40, 0, 0,
            0, 0, 0,    0, 0, 0,     0, 0, 0,     0, 50, 0,
        ];
        Assert.That(dx, Is.EqualTo(expected));
        var y = OpHarness.Evaluate((g, p) => g.MaxPool(p[0], [2, 2], [2, 2]), [OpHarness.ToFloat32(t)], device).ToDoubleArray();
        Assert.That(y[..3], Is.EqualTo(new double[] { 4, 2, 5 }));
        Assert.That(double.IsNaN(y[3]) && y[4] == 1 && y[5] == 0, Is.True, $"second window: {string.Join(", ", y[3..])}");
    }

    private static IEnumerable<Device> Devices => [Device.Cpu, Device.Reference];
}
