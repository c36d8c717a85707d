using System.Globalization;

namespace Nabla.Bench;

/// <summary>
/// Output epilogues on against off (<see cref="SessionOptions.OutputEpilogues"/>), interleaved in one process
/// (<c>dotnet Nabla.Bench.dll --epilogue-quick [iterations]</c>): the layers of the ONNX suite's models at batch 512, each a
/// MatMul or Conv2D followed by bias + ReLU, and W2's whole forward pass. Off, the tree is a second pass over the kernel's output; on, it runs on each
/// range of output rows as the kernel finishes it, writing over it in cache. Napkin math: LeNet's first layer writes
/// 512·28·28·6·4 = 9.6 MB, so off it streams 9.6 MB out, 9.6 MB back in and 9.6 MB out again (~1 ms at ~30 GB/s);
/// on, 9.6 MB out once. A diagnostic, not a number of record.
/// </summary>
internal static class EpilogueQuick
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], Inv) : 100;
        Console.WriteLine(string.Create(Inv, $"epilogue quick: {iterations} interleaved runs per case, ProcessorCount {Environment.ProcessorCount}, load {File.ReadAllText("/proc/loadavg").Trim()}"));
        Case("LeNet conv 1 [512,28,28,1] 5x5x6 same", iterations, g => g.Conv2D(Input(g, 512, 28, 28, 1), Weights(g, 5, 5, 1, 6), padding: "same"), 6);
        Case("LeNet conv 2 [512,14,14,6] 5x5x16 valid", iterations, g => g.Conv2D(Input(g, 512, 14, 14, 6), Weights(g, 5, 5, 6, 16), padding: "valid"), 16);
        Case("W2 dense 1 512x784x128", iterations, g => g.MatMul(Input(g, 512, 784), Weights(g, 784, 128)), 128);
        Case("W2 dense 2 512x128x128", iterations, g => g.MatMul(Input(g, 512, 128), Weights(g, 128, 128)), 128);
        Network("W2 forward, batch 512", iterations, g =>
        {
            var h = Input(g, 512, 784);
            foreach (var (k, n) in new[] { (784, 128), (128, 128) }) h = g.Relu(g.Add(g.MatMul(h, Weights(g, k, n)), Weights(g, n)));
            return g.Softmax(g.Add(g.MatMul(h, Weights(g, 128, 10)), Weights(g, 10)));
        });
    }

    private static Output Input(Graph g, params int[] shape) => g.Placeholder(DType.Float32, new Shape(shape), "x");

    private static Output Weights(Graph g, params int[] shape) => g.Constant(Tensor.RandomUniform(new Shape(shape), -0.1f, 0.1f, seed: 2));

    private static void Case(string name, int iterations, Func<Graph, Output> producer, int channels) =>
        Network(name, iterations, g => g.Relu(g.Add(producer(g), g.Constant(Tensor.RandomUniform(new Shape(channels), -0.1f, 0.1f, seed: 3)))));

    private static void Network(string name, int iterations, Func<Graph, Output> build)
    {
        var g = new Graph();
        var y = build(g);
        var x = g.Operations.First(o => o.Type == "Placeholder").Outputs[0];
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.RandomUniform(x.Shape, 0, 1, seed: 1) };
        using var on = new Session(g, Device.Cpu, new SessionOptions { OutputEpilogues = true });
        using var off = new Session(g, Device.Cpu, new SessionOptions { OutputEpilogues = false });
        var (peakOn, peakOff) = (on.Plan([y], feeds).PeakBytes, off.Plan([y], feeds).PeakBytes);
        var times = FusionQuick.Interleave([on, off], s => s.Run([y], feeds), iterations);
        var (tOn, tOff) = (times[0], times[1]);
        Console.WriteLine(string.Create(Inv,
            $"{name,-40} on min {tOn[0],8:F1} us median {tOn[iterations / 2],8:F1} us | off min {tOff[0],8:F1} us median {tOff[iterations / 2],8:F1} us | off/on at median {tOff[iterations / 2] / tOn[iterations / 2]:F2}x | planned peak on {peakOn:N0} B, off {peakOff:N0} B"));
    }
}
