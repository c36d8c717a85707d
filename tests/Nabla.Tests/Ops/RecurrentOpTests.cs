using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// The fused recurrent ops: one- and two-step values computed by hand from Keras's cell equations (lstm.py, gru.py),
/// the masking and go_backwards semantics, and the CPU kernel's batch-split path against the reference (bit-identical
/// from run to run). Gradient and error cases are in OpCases.Recurrent / ErrorCases.Recurrent.
/// </summary>
public class RecurrentOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["SimpleRNN", "SimpleRNNGrad", "LSTM", "LSTMGrad", "GRU", "GRUGrad"];

    private static IEnumerable<Device> Devices => [Device.Cpu, Device.Reference];

    private static double Sig(double v) => 1 / (1 + Math.Exp(-v));

    private static Tensor T(double[] v, params int[] shape) => Tensor.FromArray(v, shape);

    private static double[] Eval(Device device, Build f, params Tensor[] inputs) =>
        OpHarness.Evaluate(f, device == Device.Cpu ? inputs.Select(OpHarness.ToFloat32).ToArray() : inputs, device,
            device == Device.Cpu ? DType.Float32 : DType.Float64).ToDoubleArray();

    private static double Tol(Device device) => device == Device.Cpu ? 1e-6 : 1e-12;

    /// <summary>LSTM, 1 feature, 1 unit, 2 steps; gates i, f, c, o; unit_forget_bias puts 1 in the forget block.</summary>
    [TestCaseSource(nameof(Devices))]
    public void LstmTwoStepsByHand(Device device)
    {
        double[] w = [0.5, -0.3, 0.8, 0.2], r = [0.1, 0.4, -0.6, 0.3], b = [0, 1, 0, 0], x = [1.0, -2.0];
        double h = 0.2, c = -0.1;
        var expected = new List<double>();
        foreach (var xt in x)
        {
            double i = Sig(xt * w[0] + h * r[0] + b[0]), f = Sig(xt * w[1] + h * r[1] + b[1]);
            double g = Math.Tanh(xt * w[2] + h * r[2] + b[2]), o = Sig(xt * w[3] + h * r[3] + b[3]);
            c = f * c + i * g;
            h = o * Math.Tanh(c);
            expected.Add(h);
        }
        expected.AddRange([h, c]);
        var got = Eval(device, (gr, v) =>
        {
            var (y, hT, cT) = gr.LSTM(v[0], v[1], v[2], v[3], v[4], v[5]);
            return gr.Concat([gr.Reshape(y, [-1]), gr.Reshape(hT, [-1]), gr.Reshape(cT, [-1])], 0);
        }, T(x, 1, 2, 1), T([0.2], 1, 1), T([-0.1], 1, 1), T(w, 1, 4), T(r, 1, 4), T(b, 4));
        Assert.That(got, Is.EqualTo(expected).Within(Tol(device)));
    }

    /// <summary>GRU, one step, both reset_after settings (gate order z, r, h; h = z·h₋₁ + (1 − z)·ĥ).</summary>
    [Test]
    public void GruOneStepByHand([ValueSource(nameof(Devices))] Device device, [Values] bool resetAfter)
    {
        double[] w = [0.5, -0.3, 0.8], r = [0.1, 0.4, -0.6], bIn = [0.05, -0.1, 0.2], bRec = [0.3, 0.15, -0.25];
        double x = 0.7, h = -0.4;
        double z, rg, hh;
        if (resetAfter)
        {
            z = Sig(x * w[0] + bIn[0] + h * r[0] + bRec[0]);
            rg = Sig(x * w[1] + bIn[1] + h * r[1] + bRec[1]);
            hh = Math.Tanh(x * w[2] + bIn[2] + rg * (h * r[2] + bRec[2]));
        }
        else
        {
            z = Sig(x * w[0] + bIn[0] + h * r[0]);
            rg = Sig(x * w[1] + bIn[1] + h * r[1]);
            hh = Math.Tanh(x * w[2] + bIn[2] + rg * h * r[2]);
        }
        var expected = z * h + (1 - z) * hh;
        var bias = resetAfter ? T([.. bIn, .. bRec], 2, 3) : T(bIn, 3);
        var got = Eval(device, (gr, v) => gr.GRU(v[0], v[1], v[2], v[3], v[4], resetAfter: resetAfter).H, T([x], 1, 1, 1), T([h], 1, 1), T(w, 1, 3), T(r, 1, 3), bias);
        Assert.That(got[0], Is.EqualTo(expected).Within(Tol(device)));
    }

    [TestCaseSource(nameof(Devices))]
    public void SimpleRnnOneStepByHand(Device device)
    {
        var got = Eval(device, (gr, v) => gr.SimpleRNN(v[0], v[1], v[2], v[3], v[4]).Y, T([1, 2], 1, 1, 2), T([0.5, -1], 1, 2),
            T([0.1, 0.2, 0.3, 0.4], 2, 2), T([0.5, 0.6, 0.7, 0.8], 2, 2), T([0.01, 0.02], 2));
        double a0 = 1 * 0.1 + 2 * 0.3 + 0.5 * 0.5 - 1 * 0.7 + 0.01, a1 = 1 * 0.2 + 2 * 0.4 + 0.5 * 0.6 - 1 * 0.8 + 0.02;
        Assert.That(got, Is.EqualTo(new[] { Math.Tanh(a0), Math.Tanh(a1) }).Within(Tol(device)));
    }

    /// <summary>
    /// Masked steps carry the states through and output 0: row 0 masked after two steps gives the states of its first
    /// two steps; row 1, with a hole at step 1, gives those of the sequence without that step.
    /// </summary>
    [TestCaseSource(nameof(Devices))]
    public void MaskedStepsAreSkipped(Device device)
    {
        var x = OpHarness.Uniform([2, 4, 3], -1, 1, 5);
        Tensor h0 = OpHarness.Uniform([2, 2], -1, 1, 6), c0 = OpHarness.Uniform([2, 2], -1, 1, 7);
        Tensor w = OpHarness.Uniform([3, 8], -0.8, 0.8, 8), r = OpHarness.Uniform([2, 8], -0.8, 0.8, 9), b = OpHarness.Uniform([8], -0.5, 0.5, 10);
        var mask = T([1, 1, 0, 0, 1, 0, 1, 1], 2, 4);
        Build masked = (g, v) =>
        {
            var (y, h, c) = g.LSTM(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
            return g.Concat([g.Reshape(y, [-1]), g.Reshape(h, [-1]), g.Reshape(c, [-1])], 0);
        };
        var got = Eval(device, masked, x, h0, c0, w, r, b, mask);
        // The same rows run one at a time on their kept steps only.
        var xs = x.ToDoubleArray();
        double[] Row(int row, int[] steps) => steps.SelectMany(t => xs.Skip((row * 4 + t) * 3).Take(3)).ToArray();
        double[] Single(int row, int[] steps) => Eval(device, (g, v) =>
        {
            var (y, h, c) = g.LSTM(v[0], v[1], v[2], v[3], v[4], v[5]);
            return g.Concat([g.Reshape(y, [-1]), g.Reshape(h, [-1]), g.Reshape(c, [-1])], 0);
        }, T(Row(row, steps), 1, steps.Length, 3), T(h0.ToDoubleArray().Skip(row * 2).Take(2).ToArray(), 1, 2),
            T(c0.ToDoubleArray().Skip(row * 2).Take(2).ToArray(), 1, 2), w, r, b);
        var row0 = Single(0, [0, 1]);
        var row1 = Single(1, [0, 2, 3]);
        double[] y0 = [.. row0[..4], 0, 0, 0, 0], y1 = [.. row1[..2], 0, 0, .. row1[2..6]];
        double[] expected = [.. y0, .. y1, .. row0[4..6], .. row1[6..8], .. row0[6..8], .. row1[8..10]];
        Assert.That(got, Is.EqualTo(expected).Within(Tol(device) * 10));
    }

    /// <summary>go_backwards processes the reversed sequence and leaves y in processing order (Keras; Bidirectional reverses it back).</summary>
    [TestCaseSource(nameof(Devices))]
    public void GoBackwardsIsTheReversedSequence(Device device)
    {
        var x = OpHarness.Uniform([2, 3, 2], -1, 1, 15);
        var xs = x.ToDoubleArray();
        var reversed = new double[xs.Length];
        for (var b = 0; b < 2; b++)
            for (var t = 0; t < 3; t++)
                for (var i = 0; i < 2; i++) reversed[(b * 3 + t) * 2 + i] = xs[(b * 3 + (2 - t)) * 2 + i];
        Tensor[] rest = [OpHarness.Uniform([2, 3], -1, 1, 16), OpHarness.Uniform([2, 9], -1, 1, 17), OpHarness.Uniform([3, 9], -1, 1, 18), OpHarness.Uniform([2, 9], -1, 1, 19)];
        Build Gru(bool back) => (g, v) => g.GRU(v[0], v[1], v[2], v[3], v[4], goBackwards: back).Y;
        var back = Eval(device, Gru(true), [x, .. rest]);
        var forwardOnReversed = Eval(device, Gru(false), [T(reversed, 2, 3, 2), .. rest]);
        Assert.That(back, Is.EqualTo(forwardOnReversed).Within(Tol(device)));
    }

    /// <summary>
    /// Batch 64 × 32 units crosses the CPU kernel's parallel threshold (it splits the batch over the cores): forward and
    /// every gradient match the reference, and two runs are bit-identical.
    /// </summary>
    [Test]
    public void ParallelBatchSplitMatchesReferenceAndIsDeterministic([Values("SimpleRNN", "LSTM", "GRU")] string cell)
    {
        int b = 64, t = 8, inp = 16, u = 32, k = cell == "LSTM" ? 4 : cell == "GRU" ? 3 : 1;
        var mask = new double[b * t];
        for (var i = 0; i < mask.Length; i++) mask[i] = (i * 7 % 11) < 9 ? 1 : 0;
        Tensor[] inputs = [OpHarness.Uniform([b, t, inp], -1, 1, 21), OpHarness.Uniform([b, u], -1, 1, 22), OpHarness.Uniform([b, u], -1, 1, 23),
            OpHarness.Uniform([inp, k * u], -0.3, 0.3, 24), OpHarness.Uniform([u, k * u], -0.3, 0.3, 25),
            OpHarness.Uniform(cell == "GRU" ? [2, k * u] : [k * u], -0.3, 0.3, 26), T(mask, b, t)];
        Build f = (g, v) =>
        {
            var m = v[6];
            Output y, h;
            if (cell == "LSTM") (y, h, _) = g.LSTM(v[0], v[1], v[2], v[3], v[4], v[5], m);
            else if (cell == "GRU") (y, h) = g.GRU(v[0], v[1], v[3], v[4], v[5], m);
            else (y, h) = g.SimpleRNN(v[0], v[1], v[3], v[4], v[5], m);
            var loss = g.ReduceSum(g.Square(y)) + g.ReduceSum(h);
            var grads = g.Gradients([loss], [v[0], v[1], v[3], v[4], v[5]]).Select(o => g.Reshape(o!.Value, [-1]));
            return g.Concat([g.Reshape(y, [-1]), .. grads], 0);
        };
        var reference = Eval(Device.Reference, f, inputs);
        var cpu1 = Deterministic(f, inputs);
        var cpu2 = Deterministic(f, inputs);
        Assert.That(cpu2, Is.EqualTo(cpu1), "two deterministic CPU runs differ");
        Assert.That(Eval(Device.Cpu, f, inputs), Is.EqualTo(cpu1).Within(1e-5 * reference.Max(Math.Abs)), "the default mode's vectorised gate functions");
        var scale = reference.Max(Math.Abs);
        OpHarness.AssertClose(reference, cpu1, 1e-4, 1e-4 * scale, $"{cell} cpu vs reference");
    }

    /// <summary>
    /// A CPU session in deterministic mode: the batch split is fixed, and the gate functions avoid TensorPrimitives'
    /// re-jitted exp/tanh (see CpuBackend), so repeated runs must be bit-identical.
    /// </summary>
    private static double[] Deterministic(Build f, Tensor[] inputs)
    {
        var g = new Graph();
        var xs = inputs.Select((t, i) => g.Placeholder(DType.Float32, t.Shape, $"x{i}")).ToArray();
        var y = f(g, xs);
        using var s = new Session(g, Device.Cpu, new SessionOptions { Deterministic = true });
        var feeds = new Dictionary<Output, Tensor>();
        for (var i = 0; i < xs.Length; i++) feeds[xs[i]] = OpHarness.ToFloat32(inputs[i]);
        return s.Run(y, feeds).ToDoubleArray();
    }

    [Test]
    public void GradientThroughASavedOutputIsRefused()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(1, 2, 1), "x");
        var h0 = g.Placeholder(DType.Float64, new Shape(1, 1), "h0");
        var (y, _) = g.SimpleRNN(x, h0, g.Placeholder(DType.Float64, new Shape(1, 1), "w"), g.Placeholder(DType.Float64, new Shape(1, 1), "r"),
            g.Placeholder(DType.Float64, new Shape(1), "b"));
        var ex = Assert.Throws<GradientException>(() => g.Gradients([g.ReduceSum(y.Op[2])], [x]));
        Assert.That(ex!.Message, Does.Contain("saved for back-propagation"));
    }
}
