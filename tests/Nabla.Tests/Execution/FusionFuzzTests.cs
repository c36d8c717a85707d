using NUnit.Framework;

namespace Nabla.Tests.Execution;

/// <summary>
/// The fusion pass's ordering rules on random graphs: DAGs of element-wise nodes with several consumers per
/// value, interleaved with nodes that cannot fuse (softmax, reductions broadcast back, a transpose), random
/// fetches, and a variable written between two reads. Fused and unfused runs must agree bit for bit
/// (deterministic mode); a tree that ran at its last node's place while an outside reader came earlier, or
/// a read of a variable moved past its write, would show up as a difference.
/// </summary>
public sealed class FusionFuzzTests
{
    [Test]
    public void RandomElementwiseDagsAgreeFusedAndUnfused([Range(0, 39)] int seed)
    {
        var rng = new Random(seed);
        var g = new Graph();
        var dtype = seed % 4 == 3 ? DType.Float64 : DType.Float32;
        int rows = 1 + rng.Next(5), cols = 1 + rng.Next(40);
        var x = g.Placeholder(dtype, new Shape(rows, cols), "x");
        var row = g.Placeholder(dtype, new Shape(cols), "row");
        var nodes = new List<Output> { x, g.Sin(x) + row };
        Output Pick() => nodes[rng.Next(nodes.Count)];
        for (var k = 0; k < 30; k++)
        {
            var (a, b) = (Pick(), Pick());
            nodes.Add(rng.Next(14) switch
            {
                0 => g.Tanh(a),
                1 => a * b,
                2 => a - b * 0.5,
                3 => g.Maximum(a, b),
                4 => g.Select(g.Greater(a, b), a, b),
                5 => g.Cast(g.LogicalOr(g.Less(a, row), g.GreaterEqual(b, a)), dtype) * a,
                6 => g.Sigmoid(a) / (g.Abs(b) + 1.0),
                7 => g.Relu(a) + row,
                8 => g.Softmax(a),
                9 => a * g.ReduceSum(b, [1], keepDims: true),
                10 => g.Dropout(a, 0.25, seed: (ulong)k),
                11 => rows == cols ? g.Transpose(a) : g.Neg(a),
                12 => g.Exp(g.Minimum(a, g.Scalar(3, dtype))),
                _ => g.Sqrt(g.Square(a) + b * b),
            });
        }
        var fetches = nodes.Skip(2).Where(_ => rng.Next(4) == 0).Append(nodes[^1]).Distinct().ToArray();
        var feeds = new Dictionary<Output, Tensor>
        {
            [x] = Values(dtype, [rows, cols], rng),
            [row] = Values(dtype, [cols], rng),
        };
        using var fused = new Session(g, Device.Cpu, new SessionOptions { Deterministic = true });
        using var plain = new Session(g, Device.Cpu, new SessionOptions { Deterministic = true, Fusion = false });
        var plan = fused.Plan(fetches, feeds);
        Assert.That(plan.FusedSteps, Is.Not.Empty, "a 30-node element-wise graph fuses something");
        for (var run = 0; run < 2; run++)
        {
            var f = fused.Run(fetches, feeds);
            var p = plain.Run(fetches, feeds);
            for (var i = 0; i < fetches.Length; i++) AssertSameBits(p[i], f[i], $"seed {seed}, run {run}, fetch {fetches[i].Name}");
        }
        Assert.That(fused.ArenaBytes, Is.EqualTo(plan.PeakBytes));
    }

    [Test]
    public void AVariableWrittenBetweenTwoReadsSplitsTheTree()
    {
        // Steps run in creation order: a reads v before the AssignAdd, b after it (the run targets the update): fused into one step at b's place, a
        // would see the new value. The state write seals the first tree.
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(8), "x");
        var v = g.Variable(Tensor.FromArray(Enumerable.Range(0, 8).Select(i => (float)i).ToArray(), 8), "v");
        var a = g.Exp(v.Value * x);
        var update = v.AssignAdd(g.OnesLike(x));
        var b = g.Neg(a) + v.Value * 2.0;
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(Enumerable.Range(0, 8).Select(i => 0.1f * i).ToArray(), 8) };
        float[] Run(bool fusion)
        {
            using var s = new Session(g, Device.Cpu, new SessionOptions { Fusion = fusion, Deterministic = true });
            s.Run(g.GlobalVariablesInitializer());
            return s.Run([b], feeds, update.Op)[0].ToArray<float>();
        }
        var expected = Enumerable.Range(0, 8).Select(i => -MathF.Exp(i * 0.1f * i) + (i + 1) * 2f).ToArray();
        Assert.That(Run(false), Is.EqualTo(expected).Within(1e-4f));
        Assert.That(Run(true), Is.EqualTo(Run(false)));
    }

    private static Tensor Values(DType dtype, int[] shape, Random rng)
    {
        var n = shape.Aggregate(1, (p, d) => p * d);
        var v = Enumerable.Range(0, n).Select(_ => rng.Next(20) == 0 ? double.NaN : rng.NextDouble() * 4 - 2).ToArray();
        return dtype == DType.Float64 ? Tensor.FromArray(v, shape) : Tensor.FromArray(v.Select(d => (float)d).ToArray(), shape);
    }

    private static void AssertSameBits(Tensor expected, Tensor actual, string what)
    {
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        Assert.That(a, Has.Length.EqualTo(e.Length), what);
        for (var i = 0; i < e.Length; i++)
            if (!(double.IsNaN(e[i]) && double.IsNaN(a[i])) && BitConverter.DoubleToInt64Bits(e[i]) != BitConverter.DoubleToInt64Bits(a[i]))
                Assert.Fail($"{what}: element {i} is {a[i]:R} fused, {e[i]:R} unfused");
    }
}
