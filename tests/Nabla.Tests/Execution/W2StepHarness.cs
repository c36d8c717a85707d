using Nabla.Optimizers;

namespace Nabla.Tests.Execution;

/// <summary>
/// One W2 training step as a TF1-style graph (784-128-128-10, ReLU, Dropout(0.3), sparse softmax
/// cross-entropy, Adam), for tests of how a step executes rather than what it computes.
/// </summary>
internal sealed class W2StepHarness : IDisposable
{
    public W2StepHarness(int batch = 32, SessionOptions? options = null, ulong seed = 7)
    {
        var g = new Graph();
        X = g.Placeholder(DType.Float32, new Shape(-1, 784), "x");
        Y = g.Placeholder(DType.Int32, new Shape(-1), "y");
        var h = X;
        var sizes = new[] { 784, 128, 128, 10 };
        for (var l = 0; l < 3; l++)
        {
            var w = g.Variable(new Shape(sizes[l], sizes[l + 1]), DType.Float32, Initializer.GlorotUniform(seed + (ulong)l), $"w{l}");
            var b = g.Variable(new Shape(sizes[l + 1]), DType.Float32, Initializer.Zeros, $"b{l}");
            h = g.MatMul(h, w.Value) + b.Value;
            if (l < 2) h = g.Dropout(g.Relu(h), 0.3, seed + 10 + (ulong)l);
        }
        Loss = g.ReduceMean(g.SparseSoftmaxCrossEntropyWithLogits(Y, h));
        Optimizer = new Adam();
        Train = Optimizer.Minimize(Loss);
        Graph = g;
        Session = new Session(g, Device.Cpu, options);
        Session.Run(g.GlobalVariablesInitializer());
        var rng = new Random((int)seed);
        Feeds = new Dictionary<Output, Tensor>
        {
            [X] = Tensor.RandomUniform(new Shape(batch, 784), 0, 1, seed: seed),
            [Y] = Tensor.FromArray(Enumerable.Range(0, batch).Select(_ => rng.Next(10)).ToArray(), batch),
        };
    }

    public Graph Graph { get; }

    public Output X { get; }

    public Output Y { get; }

    public Output Loss { get; }

    public Adam Optimizer { get; }

    public Operation Train { get; }

    public Session Session { get; }

    public Dictionary<Output, Tensor> Feeds { get; }

    /// <summary>One training step; returns the loss.</summary>
    public float Step() => Session.Run([Loss], Feeds, Train)[0].ToArray<float>()[0];

    /// <summary>Every trainable variable's value, flattened, in graph order.</summary>
    public float[][] Weights() => Graph.TrainableVariables.Select(v => Session.ReadVariable(v).ToArray<float>()).ToArray();

    public void Dispose() => Session.Dispose();
}
