using BenchmarkDotNet.Attributes;
using Nabla.Optimizers;

namespace Nabla.Bench;

/// <summary>
/// Engine overhead on the Cpu device, no peer: (1) one Session.Run of a scalar add — plan lookup,
/// feed upload, one kernel, fetch — which bounds how fast tiny graphs can go; (2) one plain
/// gradient-descent step of the 784-128-128-10 ReLU MLP with MSE loss at batch 128.
/// Napkin math for (2): 118,016 weights; forward + backward ≈ 6 · 118,016 · 128 ≈ 90.6 MFLOP per step,
/// dominated by six GEMMs; weights and activations (~0.9 MB) fit in L2, so it is compute-bound.
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class SessionBenchmarks
{
    private Session _scalar = null!, _mlp = null!;
    private Output _scalarOut;
    private Operation _train = null!;
    private Dictionary<Output, Tensor> _scalarFeeds = null!, _mlpFeeds = null!;

    /// <summary>FLOPs of one MLP step (see the class remarks).</summary>
    public const double MlpStepFlops = 6.0 * 118_016 * 128;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Float32, Shape.Scalar, "a");
        _scalarOut = a + 1.0;
        _scalar = new Session(g, Device.Cpu);
        _scalarFeeds = new Dictionary<Output, Tensor> { [a] = Tensor.Scalar(1f) };

        var m = new Graph();
        var x = m.Placeholder(DType.Float32, new Shape(-1, 784), "x");
        var y = m.Placeholder(DType.Float32, new Shape(-1, 10), "y");
        Output h = x;
        var sizes = new[] { 784, 128, 128, 10 };
        for (var i = 0; i < 3; i++)
        {
            var w = m.Variable(new Shape(sizes[i], sizes[i + 1]), DType.Float32, Initializer.GlorotUniform((ulong)i + 1));
            var b = m.Variable(new Shape(sizes[i + 1]), DType.Float32, Initializer.Zeros);
            h = m.MatMul(h, w) + b;
            if (i < 2) h = m.Relu(h);
        }
        var loss = m.ReduceMean(m.Square(h - y));
        _train = new SGD(0.01).Minimize(loss);
        _mlp = new Session(m, Device.Cpu);
        _mlp.Run(m.GlobalVariablesInitializer());
        _mlpFeeds = new Dictionary<Output, Tensor>
        {
            [x] = Tensor.RandomUniform(new Shape(128, 784), 0, 1, seed: 1),
            [y] = Tensor.RandomUniform(new Shape(128, 10), 0, 1, seed: 2),
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scalar.Dispose();
        _mlp.Dispose();
    }

    [Benchmark]
    public Tensor ScalarAddRun() => _scalar.Run(_scalarOut, _scalarFeeds);

    [Benchmark]
    public void MlpGradientDescentStep() => _mlp.Run(_train, _mlpFeeds);
}
