using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// Variable initializers: constants exactly, random ones by range and sample statistics, with the
/// Keras fan-in / fan-out formulas recomputed here by hand.
/// </summary>
public partial class StateOpTests
{
    /// <summary>Initial value of a fresh variable, read back through a session.</summary>
    private static double[] Init(Initializer init, Shape shape, DType dtype = DType.Float64, Device? device = null)
    {
        var g = new Graph();
        var v = g.Variable(shape, dtype, init, "v");
        using var s = new Session(g, device);
        s.Run(g.GlobalVariablesInitializer());
        var t = s.Run(v.Value);
        Assert.That(t.Shape, Is.EqualTo(shape));
        Assert.That(t.DType, Is.EqualTo(dtype));
        return t.ToDoubleArray();
    }

    private static (double Mean, double Std, double Min, double Max) Stats(double[] v)
    {
        var mean = v.Average();
        var std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
        return (mean, std, v.Min(), v.Max());
    }

    [Test]
    public void ConstantInitializers()
    {
        Assert.That(Init(Initializer.Zeros, new Shape(2, 3)), Is.All.EqualTo(0.0));
        Assert.That(Init(Initializer.Ones, new Shape(4), DType.Float32), Is.All.EqualTo(1.0));
        Assert.That(Init(Initializer.Fill(-2.5), new Shape(3, 1)), Is.All.EqualTo(-2.5));
        Assert.That(Init(Initializer.Ones, new Shape(2), DType.Int64), Is.All.EqualTo(1.0));
        Assert.That(Init(Initializer.Zeros, new Shape(0, 5)), Is.Empty);
        Assert.That(Init(Initializer.Fill(7), Shape.Scalar), Is.EqualTo(new[] { 7.0 }));
        var given = Tensor.FromArray([1.0, 2, 3, 4], 2, 2);
        Assert.That(Init(Initializer.Constant(given), new Shape(2, 2)), Is.EqualTo(new[] { 1.0, 2, 3, 4 }));
        Assert.That(() => Init(Initializer.Constant(given), new Shape(2, 2), DType.Float32), Throws.TypeOf<ShapeException>().With.Message.Contains("float64 [2,2]"));
    }

    [Test]
    public void KerasFans()
    {
        Assert.That(Initializer.Fans(Shape.Scalar), Is.EqualTo((1.0, 1.0)));
        Assert.That(Initializer.Fans(new Shape(5)), Is.EqualTo((5.0, 5.0)));
        Assert.That(Initializer.Fans(new Shape(784, 128)), Is.EqualTo((784.0, 128.0)));
        // Conv2D kernel [kh, kw, in, out]: both fans scale by the 3×3 receptive field.
        Assert.That(Initializer.Fans(new Shape(3, 3, 16, 32)), Is.EqualTo((144.0, 288.0)));
        Assert.That(Initializer.Fans(new Shape(5, 4, 2)), Is.EqualTo((20.0, 10.0)));
    }

    // 60,000 samples: the sample mean's standard error is σ/245 and the sample std's relative error is
    // 1/√(2n) ≈ 0.3%, so the bounds below (5 standard errors, 2%) fail only for a wrong formula.
    private static readonly Shape Big = new(200, 300);

    private static void AssertUniform(double[] v, double limit)
    {
        var (mean, std, min, max) = Stats(v);
        Assert.That(min, Is.GreaterThanOrEqualTo(-limit));
        Assert.That(max, Is.LessThan(limit));
        // With 60,000 draws the extremes come within 0.1% of the limits.
        Assert.That(max, Is.GreaterThan(limit * 0.999));
        Assert.That(min, Is.LessThan(-limit * 0.999));
        Assert.That(Math.Abs(mean), Is.LessThan(5 * limit / Math.Sqrt(3) / Math.Sqrt(v.Length)));
        Assert.That(std, Is.EqualTo(limit / Math.Sqrt(3)).Within(2).Percent);
    }

    private static void AssertTruncatedNormal(double[] v, double std, double bound)
    {
        var s = Stats(v);
        Assert.That(s.Min, Is.GreaterThanOrEqualTo(-bound));
        Assert.That(s.Max, Is.LessThanOrEqualTo(bound));
        Assert.That(s.Max, Is.GreaterThan(bound * 0.99));
        Assert.That(Math.Abs(s.Mean), Is.LessThan(5 * std / Math.Sqrt(v.Length)));
        Assert.That(s.Std, Is.EqualTo(std).Within(2).Percent);
    }

    [Test]
    public void RandomUniformNormalAndTruncatedNormal()
    {
        var u = Init(Initializer.RandomUniform(-3, 1, seed: 1), Big);
        var (mean, std, min, max) = Stats(u);
        Assert.That(min, Is.GreaterThanOrEqualTo(-3));
        Assert.That(max, Is.LessThan(1));
        Assert.That(mean, Is.EqualTo(-1).Within(5 * 4 / Math.Sqrt(12) / 245));
        Assert.That(std, Is.EqualTo(4 / Math.Sqrt(12)).Within(2).Percent);
        // Keras defaults: U(±0.05), N(0, 0.05), truncated N(0, 0.05).
        AssertUniform(Init(Initializer.RandomUniform(seed: 2), Big), 0.05);
        var n = Stats(Init(Initializer.RandomNormal(2, 0.5, seed: 3), Big));
        Assert.That(n.Mean, Is.EqualTo(2).Within(5 * 0.5 / 245));
        Assert.That(n.Std, Is.EqualTo(0.5).Within(2).Percent);
        Assert.That(Stats(Init(Initializer.RandomNormal(seed: 4), Big)).Std, Is.EqualTo(0.05).Within(2).Percent);
        // A unit normal cut at ±2 has standard deviation 0.8796.
        AssertTruncatedNormal(Init(Initializer.TruncatedNormal(seed: 5), Big), 0.05 * 0.87962566103423978, 0.1);
    }

    [Test]
    public void GlorotAndHeFollowKerasFormulas()
    {
        // [200, 300]: fan_in 200, fan_out 300.
        AssertUniform(Init(Initializer.GlorotUniform(seed: 6), Big), Math.Sqrt(6.0 / 500));
        AssertUniform(Init(Initializer.HeUniform(seed: 7), Big), Math.Sqrt(6.0 / 200));
        // The normal variants divide by 0.8796 before truncating, so the drawn values have exactly the target std.
        AssertTruncatedNormal(Init(Initializer.GlorotNormal(seed: 8), Big), Math.Sqrt(2.0 / 500), 2 * Math.Sqrt(2.0 / 500) / 0.87962566103423978);
        AssertTruncatedNormal(Init(Initializer.HeNormal(seed: 9), Big), Math.Sqrt(2.0 / 200), 2 * Math.Sqrt(2.0 / 200) / 0.87962566103423978);
        // A 5×5 conv kernel [5, 5, 40, 60]: fan_in 1000, fan_out 1500 (also 60,000 values).
        AssertUniform(Init(Initializer.GlorotUniform(seed: 10), new Shape(5, 5, 40, 60)), Math.Sqrt(6.0 / 2500));
        AssertUniform(Init(Initializer.HeUniform(seed: 11), new Shape(5, 5, 40, 60)), Math.Sqrt(6.0 / 1000));
    }

    [Test]
    public void SeededInitializersReproduceAcrossSessionsAndDevices()
    {
        var cpu = Init(Initializer.GlorotUniform(seed: 42), new Shape(30, 20), DType.Float32, Device.Cpu);
        var again = Init(Initializer.GlorotUniform(seed: 42), new Shape(30, 20), DType.Float32, Device.Cpu);
        var reference = Init(Initializer.GlorotUniform(seed: 42), new Shape(30, 20), DType.Float32, Device.Reference);
        Assert.That(again, Is.EqualTo(cpu));
        // Same Philox stream; the reference keeps float64, so compare at float32 resolution.
        Assert.That(reference.Select(v => (double)(float)v), Is.EqualTo(cpu));
        Assert.That(Init(Initializer.GlorotUniform(seed: 43), new Shape(30, 20), DType.Float32), Is.Not.EqualTo(cpu));
        // Unseeded initializers of two variables in one graph draw different values.
        var g = new Graph();
        var a = g.Variable(new Shape(10), DType.Float32, Initializer.RandomNormal(), "a");
        var b = g.Variable(new Shape(10), DType.Float32, Initializer.RandomNormal(), "b");
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        var r = s.Run([a.Value, b.Value]);
        Assert.That(r[0].ToArray<float>(), Is.Not.EqualTo(r[1].ToArray<float>()));
    }

    [Test]
    public void RandomInitializersRejectIntegerVariables()
    {
        var g = new Graph();
        Assert.That(() => g.Variable(new Shape(3), DType.Int32, Initializer.GlorotUniform(), "counts"),
            Throws.TypeOf<ShapeException>().With.Message.Contains("int32"));
    }
}
