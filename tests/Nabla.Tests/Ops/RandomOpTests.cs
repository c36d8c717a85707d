using Nabla.Kernels;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// The "Random" op and what is built on it (uniform, normal, truncated normal, the *Like forms,
/// dropout): bit-identical streams on both devices and equal to the host Philox stream, fresh values
/// per run, agreement across sessions and graphs with one graph seed, distribution statistics over
/// 100k draws, dropout masks and their reuse in the gradient, and build-time errors.
/// </summary>
public class RandomOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Random"];

    private static IEnumerable<Device> Devices => [Device.Cpu, Device.Reference];

    /// <summary>(distribution, a, b) as each builder passes them to the kernel.</summary>
    private static readonly Dictionary<string, (RandomDistribution Dist, double A, double B)> Params = new()
    {
        ["uniform"] = (RandomDistribution.Uniform, -1, 3),
        ["normal"] = (RandomDistribution.Normal, 2, 0.5),
        ["truncated"] = (RandomDistribution.TruncatedNormal, 1, 2),
    };

    private static Output Build(Graph g, string dist, Shape shape, ulong? seed, DType dtype = DType.Float32) => dist switch
    {
        "uniform" => g.RandomUniform(shape, -1, 3, seed, dtype),
        "normal" => g.RandomNormal(shape, 2, 0.5, seed, dtype),
        _ => g.TruncatedNormal(shape, 1, 2, seed, dtype),
    };

    private static IEnumerable<TestCaseData> DistsAndDTypes() =>
        from d in Params.Keys from t in new[] { DType.Float32, DType.Float64 } select new TestCaseData(d, t).SetArgDisplayNames(d, t.Name());

    private static IEnumerable<string> Dists => Params.Keys;

    /// <summary>Runs <paramref name="y"/> <paramref name="runs"/> times in one session on <paramref name="device"/>.</summary>
    private static double[][] Runs(Output y, Device device, int runs)
    {
        using var s = new Session(y.Graph, device);
        return Enumerable.Range(0, runs).Select(_ => s.Run(y).ToDoubleArray()).ToArray();
    }

    /// <summary>The Philox stream the kernel is documented to draw, rounded to the dtype.</summary>
    private static double[] Expected(string dist, int n, ulong key, ulong counter, DType dtype)
    {
        var (d, a, b) = Params[dist];
        return Enumerable.Range(0, n).Select(i => Philox.Sample(d, key, counter, i, a, b)).Select(v => dtype == DType.Float32 ? (float)v : v).ToArray();
    }

    [TestCaseSource(nameof(DistsAndDTypes))]
    public void SameSeedGivesBitIdenticalValuesOnBothDevicesRunAfterRun(string dist, DType dtype)
    {
        // 37·129 = 4773 elements crosses the CPU kernel's 4096-element parallel chunks.
        var g = new Graph { Seed = 11 };
        var y = Build(g, dist, new Shape(37, 129), seed: 5, dtype);
        var cpu = Runs(y, Device.Cpu, 3);
        var reference = Runs(y, Device.Reference, 3);
        for (var run = 0; run < 3; run++)
        {
            Assert.That(cpu[run], Is.EqualTo(reference[run]), $"run {run}: cpu vs reference");
            Assert.That(cpu[run], Is.EqualTo(Expected(dist, 4773, Philox.Key(11, 5), (ulong)run, dtype)), $"run {run}: the Philox stream at counter {run}");
        }
        // Successive runs draw fresh values: the counter advances per run.
        Assert.That(cpu[1], Is.Not.EqualTo(cpu[0]));
        Assert.That(cpu[2], Is.Not.EqualTo(cpu[1]));
    }

    [TestCaseSource(nameof(Devices))]
    public void FirstRunEqualsTheHostTensorWithTheSameSeed(Device d)
    {
        // Host tensors key Philox with graph seed 0, so they equal a graph op's first run under graph seed 0.
        var shape = new Shape(10, 7);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var g = new Graph();
            var u = g.RandomUniform(shape, -1, 3, seed: 9, dtype);
            var n = g.RandomNormal(shape, 2, 0.5, seed: 9, dtype);
            using var s = new Session(g, d);
            Assert.That(s.Run(u).ToDoubleArray(), Is.EqualTo(Tensor.RandomUniform(shape, -1, 3, 9, dtype).ToDoubleArray()), $"uniform {dtype.Name()}");
            Assert.That(s.Run(n).ToDoubleArray(), Is.EqualTo(Tensor.RandomNormal(shape, 2, 0.5, 9, dtype).ToDoubleArray()), $"normal {dtype.Name()}");
        }
        // A nonzero graph seed is mixed into the key (as tf.set_random_seed), so the host stream no longer matches.
        var seeded = new Graph { Seed = 4 };
        var v = Runs(seeded.RandomUniform(shape, -1, 3, seed: 9), d, 1)[0];
        Assert.That(v, Is.Not.EqualTo(Tensor.RandomUniform(shape, -1, 3, 9).ToDoubleArray()));
        Assert.That(v, Is.EqualTo(Expected("uniform", 70, Philox.Key(4, 9), 0, DType.Float32)));
    }

    [Test]
    public void SessionsAndGraphsWithTheSameGraphSeedAgree()
    {
        Output Make(ulong seed)
        {
            // No op seed: the op's creation index stands in, so identical graphs draw identical streams.
            var g = new Graph { Seed = seed };
            return g.RandomNormal(new Shape(200), name: "a");
        }
        var (a1, a2, a3) = (Make(123), Make(123), Make(124));
        var first = Runs(a1, Device.Cpu, 2);
        Assert.That(Runs(a1, Device.Cpu, 2), Is.EqualTo(first), "a second session on the same graph");
        Assert.That(Runs(a1, Device.Reference, 2), Is.EqualTo(first), "a session on the other device");
        Assert.That(Runs(a2, Device.Cpu, 2), Is.EqualTo(first), "an identical graph with the same seed");
        Assert.That(Runs(a3, Device.Cpu, 1)[0], Is.Not.EqualTo(first[0]), "another graph seed");
        // Two unseeded ops of one graph draw different streams.
        var g = new Graph { Seed = 123 };
        var u1 = g.RandomUniform(new Shape(200));
        var u2 = g.RandomUniform(new Shape(200));
        using var s = new Session(g);
        var r = s.Run([u1, u2]);
        Assert.That(r[1].ToArray<float>(), Is.Not.EqualTo(r[0].ToArray<float>()));
    }

    [TestCaseSource(nameof(Dists))]
    public void StatisticsOf100kDrawsMatchTheDistribution(string dist)
    {
        const int n = 100_000;
        var g = new Graph();
        var v = Runs(Build(g, dist, new Shape(n), seed: 21), Device.Cpu, 1)[0];
        var mean = v.Average();
        var std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / n);
        // Bounds are 5 standard errors: σ/√n for the mean, ≈ σ/√(2n) (≤ 1.5% relative here) for the standard deviation.
        var (expMean, expStd) = dist switch
        {
            "uniform" => (1.0, 4 / Math.Sqrt(12)),
            "normal" => (2.0, 0.5),
            // Standard normal truncated to ±2 has σ = √(1 − 2·2·φ(2)/(Φ(2) − Φ(−2))) = 0.8796…
            _ => (1.0, 2 * 0.87962566103423978),
        };
        Assert.That(mean, Is.EqualTo(expMean).Within(5 * expStd / Math.Sqrt(n)), "mean");
        Assert.That(std, Is.EqualTo(expStd).Within(1.5).Percent, "standard deviation");
        switch (dist)
        {
            case "uniform":
                Assert.That(v, Is.All.InRange(-1.0, 3.0));
                Assert.That(v.Max(), Is.LessThan(3.0), "the upper end is open");
                break;
            case "normal":
                // P(|z| > 2) = 4.55%: the plain normal is not truncated.
                Assert.That(v.Count(x => Math.Abs(x - 2) > 1) / (double)n, Is.EqualTo(0.0455).Within(0.005));
                break;
            default:
                Assert.That(v, Is.All.InRange(-3.0, 5.0), "within ±2σ of the mean");
                // Redrawn, not clipped: no pile-up at ±2σ; P(1.9 < |z| ≤ 2) = 2(Φ(2) − Φ(1.9))/0.9545 ≈ 1.25%.
                Assert.That(v.Count(x => Math.Abs(x - 1) == 4), Is.LessThan(5));
                Assert.That(v.Count(x => Math.Abs(x - 1) > 3.8) / (double)n, Is.EqualTo(0.0125).Within(0.002));
                break;
        }
    }

    [Test]
    public void LikeOpsTakeTheRunTimeShapeAndAFloatingDType()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(-1, 4), "x");
        var ints = g.Placeholder(DType.Int32, new Shape(2), "ints");
        var u = g.RandomUniformLike(x, -2, 2, seed: 3);
        var n = g.RandomNormalLike(ints, seed: 4);
        Assert.That(u.Shape, Is.EqualTo(new Shape(-1, 4)));
        Assert.That(u.DType, Is.EqualTo(DType.Float64));
        Assert.That(n.DType, Is.EqualTo(DType.Float32), "a non-floating template gives float32 values");
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(3, 4), DType.Float64), [ints] = Tensor.FromArray([1, 2], 2) };
        Tensor[] Run(Device d) { using var s = new Session(g, d); return s.Run([u, n], feeds); }
        var (cpu, reference) = (Run(Device.Cpu), Run(Device.Reference));
        Assert.That(cpu[0].Shape, Is.EqualTo(new Shape(3, 4)));
        Assert.That(cpu[0].ToDoubleArray(), Is.EqualTo(reference[0].ToDoubleArray()));
        Assert.That(cpu[1].ToDoubleArray(), Is.EqualTo(reference[1].ToDoubleArray()));
        Assert.That(cpu[0].ToDoubleArray(), Is.EqualTo(Tensor.RandomUniform(new Shape(3, 4), -2, 2, 3, DType.Float64).ToDoubleArray()));
    }

    [TestCaseSource(nameof(Devices))]
    public void DropoutMaskHoldsZeroOrTheInverseKeepRateAndKeepsAboutOneMinusRate(Device d)
    {
        const int n = 100_000;
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(n), "x");
        var mask = g.DropoutMask(x, 0.3, seed: 8);
        using var s = new Session(g, d);
        var m = s.Run(mask, new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(n)) }).ToArray<float>();
        var scale = (float)(1 / 0.7);
        Assert.That(m, Is.All.EqualTo(0f).Or.EqualTo(scale));
        // Bernoulli(0.7) over 10⁵ draws: standard error √(0.21/10⁵) ≈ 0.0015; 5 of them.
        Assert.That(m.Count(v => v != 0) / (double)n, Is.EqualTo(0.7).Within(0.0075));
        // The mask is a pure function of (seed, run): the other device draws the same one.
        var other = d == Device.Cpu ? Device.Reference : Device.Cpu;
        using var s2 = new Session(g, other);
        Assert.That(s2.Run(mask, new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(n)) }).ToArray<float>(), Is.EqualTo(m));
    }

    [TestCaseSource(nameof(Devices))]
    public void DropoutGradientUsesTheForwardMaskOfTheSameRun(Device d)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(50, 20), "x");
        var dy = g.Placeholder(DType.Float32, new Shape(50, 20), "dy");
        var y = g.Dropout(x, 0.4, seed: 3, name: "drop");
        var mask = y.Op.Inputs[1];
        var dx = g.Gradients([y], [x], [dy])[0]!.Value;
        var xv = OpHarness.ToFloat32(OpHarness.AwayFromZero([50, 20])).ToArray<float>();
        var dyv = OpHarness.ToFloat32(OpHarness.Uniform([50, 20], seed: 4)).ToArray<float>();
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(xv, 50, 20), [dy] = Tensor.FromArray(dyv, 50, 20) };
        using var s = new Session(g, d);
        float[]? previous = null;
        for (var run = 0; run < 2; run++)
        {
            var r = s.Run([y, dx, mask], feeds);
            var (yv, dxv, m) = (r[0].ToArray<float>(), r[1].ToArray<float>(), r[2].ToArray<float>());
            Assert.That(yv, Is.EqualTo(xv.Zip(m, (a, b) => a * b).ToArray()), $"run {run}: y = x·mask");
            Assert.That(dxv, Is.EqualTo(dyv.Zip(m, (a, b) => a * b).ToArray()), $"run {run}: dx = dy·mask with the same mask");
            if (previous is not null) Assert.That(m, Is.Not.EqualTo(previous), "each run draws a new mask");
            previous = m;
        }
        Assert.That(g.Dropout(x, 0), Is.EqualTo(x), "rate 0 is the identity, no random node");
    }

    [TestCase(-0.1)]
    [TestCase(1.0)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void DropoutRejectsRatesOutsideZeroToOne(double rate)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(4), "x");
        Assert.That(() => g.DropoutMask(x, rate, name: "drop"), Throws.TypeOf<ShapeException>().With.Message.Contains("DropoutMask 'drop'").And.Message.Contains("rate"));
        Assert.That(() => g.Dropout(x, rate, name: "drop"), Throws.TypeOf<ShapeException>().With.Message.Contains("DropoutMask 'drop'"));
        Assert.That(g.Operations.Count(o => o.Type == "Random"), Is.Zero, "nothing is built for a bad rate");
    }

    [Test]
    public void BadDTypesAndShapesFailAtBuildNamingTheNode()
    {
        var g = new Graph();
        Assert.That(() => g.RandomUniform(new Shape(3), dtype: DType.Int32, name: "r"),
            Throws.TypeOf<ShapeException>().With.Message.Contains("Random 'r'").And.Message.Contains("int32"));
        Assert.That(() => g.TruncatedNormal(new Shape(3), dtype: DType.Bool, name: "t"),
            Throws.TypeOf<ShapeException>().With.Message.Contains("Random 't'").And.Message.Contains("bool"));
        Assert.That(() => g.RandomNormal(new Shape(-1, 3), name: "n"),
            Throws.TypeOf<ShapeException>().With.Message.Contains("Random 'n'").And.Message.Contains("[?,3]").And.Message.Contains("fully defined"));
    }

    [Test]
    public void RandomValuesCarryNoGradientToTheirShapeTemplate()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3, 2), "x");
        var noise = g.RandomNormalLike(x, seed: 1, name: "noise");
        // The template only supplies a shape: x is not connected to the noise, and the error names the random node.
        Assert.That(() => g.Gradients(noise, x), Throws.TypeOf<GradientException>().With.Message.Contains("'noise'").And.Message.Contains("not connected"));
        var zero = g.Gradients([noise], [x], null, UnconnectedGradients.Zero)[0]!.Value;
        var scaled = g.Gradients(x * noise, x)[0];
        using var s = new Session(g, Device.Reference);
        var r = s.Run([zero, scaled, noise], new Dictionary<Output, Tensor> { [x] = OpHarness.Uniform([3, 2]) });
        Assert.That(r[0].ToDoubleArray(), Is.All.EqualTo(0.0));
        // x·noise differentiates to the noise of the same run (one execution of the random node per run).
        Assert.That(r[1].ToDoubleArray(), Is.EqualTo(r[2].ToDoubleArray()));
    }
}
