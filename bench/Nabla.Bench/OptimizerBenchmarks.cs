using BenchmarkDotNet.Attributes;
using Nabla.Optimizers;

namespace Nabla.Bench;

/// <summary>
/// One optimizer step alone (gradients are constants) over the variables of the W2 MLP
/// 784-128-128-10: 118,282 float32 parameters in six variables, on the Cpu device. Napkin math:
/// Adam/Nadam read w, g, m, v and write w, m, v, 28 B per parameter = 3.3 MB per step; SGD reads
/// w, g and writes w, 12 B = 1.4 MB. At ~20-30 GB/s per core that is ~0.1 ms for Adam; the rest is
/// the session's per-node overhead (~25 nodes). The baseline, still labelled "GradientDescentOptimizer",
/// is what that removed class built: Mul + AssignSub per variable, a temporary per step.
/// </summary>
[SimpleJob(warmupCount: 3, iterationCount: 10)]
[MemoryDiagnoser]
public class OptimizerBenchmarks
{
    private Session _session = null!;
    private Operation _train = null!;

    /// <summary>Optimizer under test.</summary>
    [Params("GradientDescentOptimizer", "SGD", "SGD-momentum", "Adam", "Nadam", "RMSprop")]
    public string Kind { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var g = new Graph();
        var sizes = new[] { 784, 128, 128, 10 };
        var pairs = new List<(Output, Variable)>();
        for (var i = 0; i < 3; i++)
        {
            foreach (var shape in new[] { new Shape(sizes[i], sizes[i + 1]), new Shape(sizes[i + 1]) })
            {
                var w = g.Variable(shape, DType.Float32, Initializer.GlorotUniform((ulong)pairs.Count + 1));
                pairs.Add((g.Constant(Tensor.RandomUniform(shape, -1e-3, 1e-3, (ulong)pairs.Count + 10)), w));
            }
        }
        _train = Kind switch
        {
            "GradientDescentOptimizer" => GradientDescentBaseline(g, pairs),
            "SGD" => new SGD(0.01).ApplyGradients(pairs),
            "SGD-momentum" => new SGD(0.01, 0.9).ApplyGradients(pairs),
            "Adam" => new Adam().ApplyGradients(pairs),
            "Nadam" => new Nadam().ApplyGradients(pairs),
            _ => new RMSprop().ApplyGradients(pairs),
        };
        _session = new Session(g, Device.Cpu);
        _session.Run(g.GlobalVariablesInitializer());
    }

    private static Operation GradientDescentBaseline(Graph g, List<(Output Grad, Variable Var)> pairs) =>
        g.Group(pairs.Select(p => p.Var.AssignSub(p.Grad * 0.01).Op));

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark]
    public void Step() => _session.Run(_train);
}
