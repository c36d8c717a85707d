using Nabla.Optimizers;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Engine;

/// <summary>
/// The exercises of SEEDS.md §1 (tensor utilities) and §3 (graph mode), written as a user would,
/// with every expected value worked out by hand in the comments. (Split/concat/stack/transpose/
/// reshape/squeeze exercises live with the array-op tests.)
/// </summary>
public class SeedExerciseTests
{
    private static readonly Tensor A = Tensor.FromMultiArray(new float[,] { { 1, 2 }, { 3, 4 } });
    private static readonly Tensor B = Tensor.FromMultiArray(new float[,] { { 5, 6 }, { 7, 8 } });

    /// <summary>Evaluates several outputs of one graph on the CPU and returns them as doubles.</summary>
    private static double[][] Run(Graph g, params Output[] ys)
    {
        using var s = new Session(g);
        return s.Run(ys).Select(t => t.ToDoubleArray()).ToArray();
    }

    private static void Close(double[] expected, double[] actual) => OpHarness.AssertClose(expected, actual, 1e-6, 1e-7);

    [Test]
    public void CastBetweenIntegerAndFloatingTypes()
    {
        var g = new Graph();
        var f = g.Constant(Tensor.FromArray([1.7f, -1.7f, 2.5f, -0.4f], 4));
        var i32 = g.Cast(f, DType.Int32);
        var i64 = g.Cast(i32, DType.Int64);
        var f64 = g.Cast(i64, DType.Float64);
        var back = g.Cast(g.Constant(Tensor.FromArray([0.1, 1e10], 2)), DType.Float32);
        using var s = new Session(g);
        var r = s.Run([i32, i64, f64, back]);
        // Float → int truncates toward zero: 1.7 → 1, −1.7 → −1, 2.5 → 2, −0.4 → 0.
        Assert.That(r[0].ToArray<int>(), Is.EqualTo(new[] { 1, -1, 2, 0 }));
        Assert.That(r[1].ToArray<long>(), Is.EqualTo(new long[] { 1, -1, 2, 0 }));
        Assert.That(r[2].ToArray<double>(), Is.EqualTo(new[] { 1.0, -1, 2, 0 }));
        // float64 → float32 rounds to nearest: 0.1 becomes 0.100000001490116..., 1e10 is exact in float32 (2¹⁰·9765625).
        Assert.That(r[3].ToArray<float>(), Is.EqualTo(new[] { 0.1f, 1e10f }));
        Assert.That(r.Select(t => t.DType), Is.EqualTo(new[] { DType.Int32, DType.Int64, DType.Float64, DType.Float32 }));
    }

    [Test]
    public void ElementWiseMultiplyAndReductions()
    {
        var g = new Graph();
        var a = g.Constant(A);
        var r = Run(g, a * g.Constant(B),
            g.ReduceSum(a), g.ReduceSum(a, 0), g.ReduceSum(a, 1),
            g.ReduceMean(a), g.ReduceMean(a, 0), g.ReduceMean(a, 1),
            g.ReduceStd(a), g.ReduceStd(a, [0]), g.ReduceStd(a, [1]));
        // [[1,2],[3,4]] ⊙ [[5,6],[7,8]] = [[5,12],[21,32]].
        Assert.That(r[0], Is.EqualTo(new[] { 5.0, 12, 21, 32 }));
        // Σ = 10; columns 1+3, 2+4; rows 1+2, 3+4.
        Assert.That(r[1], Is.EqualTo(new[] { 10.0 }));
        Assert.That(r[2], Is.EqualTo(new[] { 4.0, 6 }));
        Assert.That(r[3], Is.EqualTo(new[] { 3.0, 7 }));
        // Means: 10/4; columns 4/2, 6/2; rows 3/2, 7/2.
        Assert.That(r[4], Is.EqualTo(new[] { 2.5 }));
        Assert.That(r[5], Is.EqualTo(new[] { 2.0, 3 }));
        Assert.That(r[6], Is.EqualTo(new[] { 1.5, 3.5 }));
        // Population std: all four deviate from 2.5 by ±0.5 or ±1.5 → √((2·0.25 + 2·2.25)/4) = √1.25 ≈ 1.1180340;
        // each column deviates by ±1 from its mean → 1; each row by ±0.5 → 0.5.
        Close([Math.Sqrt(1.25)], r[7]);
        Close([1, 1], r[8]);
        Close([0.5, 0.5], r[9]);
    }

    [Test]
    public void MatMulWithTransposes()
    {
        var g = new Graph();
        Output a = g.Constant(A), b = g.Constant(B);
        var r = Run(g, g.MatMul(a, b), g.MatMul(a, b, transposeA: true), g.MatMul(a, b, transposeB: true), g.MatMul(a, b, true, true));
        // ab:   [1·5+2·7, 1·6+2·8; 3·5+4·7, 3·6+4·8] = [19, 22; 43, 50]
        // aᵀb:  aᵀ = [1,3; 2,4] → [1·5+3·7, 1·6+3·8; 2·5+4·7, 2·6+4·8] = [26, 30; 38, 44]
        // abᵀ:  bᵀ = [5,7; 6,8] → [1·5+2·6, 1·7+2·8; 3·5+4·6, 3·7+4·8] = [17, 23; 39, 53]
        // aᵀbᵀ = (ba)ᵀ: ba = [5+18, 10+24; 7+24, 14+32] = [23, 34; 31, 46] → [23, 31; 34, 46]
        Assert.That(r[0], Is.EqualTo(new[] { 19.0, 22, 43, 50 }));
        Assert.That(r[1], Is.EqualTo(new[] { 26.0, 30, 38, 44 }));
        Assert.That(r[2], Is.EqualTo(new[] { 17.0, 23, 39, 53 }));
        Assert.That(r[3], Is.EqualTo(new[] { 23.0, 31, 34, 46 }));
    }

    [Test]
    public void L2NormOverNoneAndEachAxis()
    {
        var g = new Graph();
        var a = g.Constant(A);
        var r = Run(g, g.L2Norm(a), g.L2Norm(a, [0]), g.L2Norm(a, [1]), g.L2Norm(a, [0], keepDims: true));
        // √(1+4+9+16) = √30 ≈ 5.4772256; columns √(1+9) = √10, √(4+16) = √20; rows √(1+4) = √5, √(9+16) = 5.
        Close([Math.Sqrt(30)], r[0]);
        Close([Math.Sqrt(10), Math.Sqrt(20)], r[1]);
        Close([Math.Sqrt(5), 5], r[2]);
        Close([Math.Sqrt(10), Math.Sqrt(20)], r[3]);
    }

    [Test]
    public void CosOfRangeAndLinspace()
    {
        var g = new Graph();
        var special = g.Cos(g.Constant(Tensor.FromArray([0.0, Math.PI / 3, Math.PI / 2, Math.PI], 4)));
        var x = Tensor.Linspace(0, 30, 1001);
        var wave = g.Cos(g.Constant(x));
        var r = Run(g, special, wave, g.Constant(Tensor.Range(0, 5)));
        // cos 0 = 1, cos π/3 = ½, cos π/2 = 0 (6.1e-17 in float64), cos π = −1.
        OpHarness.AssertClose([1, 0.5, 0, -1], r[0], 1e-15, 1e-15);
        Assert.That(r[1], Has.Length.EqualTo(1001));
        // float32 cos of float32 inputs; its error is a few ulps of values ≤ 1.
        OpHarness.AssertClose(x.ToArray<float>().Select(v => Math.Cos(v)).ToArray(), r[1], 0, 1e-6);
        Assert.That(r[1][0], Is.EqualTo(1.0));
        Assert.That(r[1][^1], Is.EqualTo(Math.Cos(30)).Within(1e-6));
        Assert.That(r[2], Is.EqualTo(new[] { 0.0, 1, 2, 3, 4 }));
    }

    [Test]
    public void SeededRandomUniformAndNormal()
    {
        var g = new Graph();
        var u = g.RandomUniform(new Shape(2, 3), -1, 1, seed: 42);
        var n = g.RandomNormal(new Shape(1000), 5, 0.5, seed: 42, dtype: DType.Float64);
        using var s1 = new Session(g);
        using var s2 = new Session(g);
        var first = s1.Run([u, n]);
        // Same seeds in a fresh session: the same values; the next run of an op draws new ones.
        Assert.That(s2.Run([u, n]).Select(t => t.ToDoubleArray()), Is.EqualTo(first.Select(t => t.ToDoubleArray())));
        Assert.That(s1.Run(u).ToArray<float>(), Is.Not.EqualTo(first[0].ToArray<float>()));
        Assert.That(first[0].ToArray<float>(), Is.All.InRange(-1f, 1f));
        Assert.That(first[0].ToArray<float>(), Is.EqualTo(Tensor.RandomUniform(new Shape(2, 3), -1, 1, seed: 42).ToArray<float>()));
        var values = first[1].ToArray<double>();
        // 1000 draws of N(5, 0.5): the sample mean is within 5·0.5/√1000 ≈ 0.08 of 5.
        Assert.That(values.Average(), Is.EqualTo(5).Within(0.08));
        Assert.That(values.Max() - values.Min(), Is.InRange(2.0, 5.0), "a range of 4–10 σ is typical for 1000 normal draws");
    }

    [Test]
    public void HelloWorldConstantsAndPlaceholders()
    {
        var g = new Graph();
        var hello = g.Constant(Tensor.FromArray([72, 101, 108, 108, 111], 5), "hello");
        var a = g.Scalar(2, name: "a");
        var b = g.Scalar(3, name: "b");
        var x = g.Placeholder(DType.Float32, new Shape(-1), "x");
        using var s = new Session(g);
        // The greeting as character codes: "Hello".
        Assert.That(new string(s.Run(hello).ToArray<int>().Select(c => (char)c).ToArray()), Is.EqualTo("Hello"));
        // 2 + 3 = 5, 2·3 = 6.
        Assert.That(s.Run([a + b, a * b]).Select(t => t.ToScalar<float>()), Is.EqualTo(new[] { 5f, 6 }));
        // x·2 + 1 for x = [1, 2, 3] is [3, 5, 7].
        Assert.That(s.Run(x * 2.0 + 1.0, new Dictionary<Output, Tensor> { [x] = Tensor.FromArray([1f, 2, 3], 3) }).ToArray<float>(), Is.EqualTo(new[] { 3f, 5, 7 }));
    }

    [Test]
    public void VariableInitialisationAndACounter()
    {
        var g = new Graph();
        var state = g.Variable(Tensor.Scalar(0), "counter");
        var update = state.Assign(state.Value + g.Scalar(1, DType.Int32), "increment");
        var w = g.Variable(new Shape(2, 2), DType.Float32, Initializer.Ones, "w");
        using var s = new Session(g);
        Assert.That(() => s.Run(state.Value), Throws.TypeOf<InvalidArgumentException>().With.Message.Contains("'counter'"));
        s.Run(g.GlobalVariablesInitializer());
        Assert.That(s.Run(state.Value).ToScalar<int>(), Is.Zero);
        // Three increments print 1, 2, 3 (the TensorFlow 1.x counter exercise).
        Assert.That(Enumerable.Range(0, 3).Select(_ => s.Run(update).ToScalar<int>()), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(s.Run(w.Value).ToArray<float>(), Is.EqualTo(new[] { 1f, 1, 1, 1 }));
    }

    [Test]
    public void GradientsOfALossWithRespectToVariables()
    {
        var g = new Graph();
        var w = g.Variable(Tensor.Scalar(2f), "w");
        var b = g.Variable(Tensor.Scalar(1f), "b");
        var x = g.Constant(Tensor.FromArray([1f, 2, 3], 3));
        var y = g.Constant(Tensor.FromArray([2f, 4, 6], 3));
        var err = w.Value * x + b.Value - y;
        var loss = g.ReduceMean(g.Square(err));
        var grads = g.Gradients(loss, w.Value, b.Value);
        var train = new SGD(0.1).Minimize(loss);
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        // pred = 2x + 1 = [3, 5, 7], err = [1, 1, 1]: loss = 1; ∂L/∂w = mean(2·err·x) = 2·6/3 = 4; ∂L/∂b = mean(2·err) = 2.
        var r = s.Run([loss, grads[0], grads[1]]);
        Assert.That(r.Select(t => t.ToScalar<float>()), Is.EqualTo(new[] { 1f, 4, 2 }));
        // One step with rate 0.1: w = 2 − 0.4 = 1.6, b = 1 − 0.2 = 0.8; err = [0.4, 0, −0.4] → loss = 0.32/3 ≈ 0.1066667.
        s.Run(train);
        Close([1.6, 0.8], s.Run([w.Value, b.Value]).Select(t => (double)t.ToScalar<float>()).ToArray());
        Close([0.32 / 3], s.Run(loss).ToDoubleArray());
        // y = 2x exactly, so training converges to w = 2, b = 0. The loss's Hessian (2/3)·[14 6; 6 3] has eigenvalues
        // 11.1 and 0.24: with rate 0.1 the slow direction shrinks by 1 − 0.024 per step, 0.976⁵⁰⁰ ≈ 6e-6.
        for (var i = 0; i < 500; i++) s.Run(train);
        OpHarness.AssertClose([2, 0], s.Run([w.Value, b.Value]).Select(t => (double)t.ToScalar<float>()).ToArray(), 0, 1e-4);
    }
}
