using System.Diagnostics;
using System.Globalization;
using Nabla.Layers;

namespace Nabla.Samples;

/// <summary>
/// W18 (SEEDS.md §5): VGG16 for 224×224×3 inputs, written the way the original Keras model was
/// (ZeroPadding2D(1) before each 3×3 valid convolution, which is the same as padding "same"), with its
/// top (Dense 4096 → Dropout 0.5 → Dense 4096 → Dropout 0.5 → Dense 1000 softmax): 138,357,544
/// parameters. No pretrained weights are reachable here, so the weights are Keras's initializers'
/// (Glorot uniform, zero biases); the sample times inference at batch 1 (about 15.5 GFLOP per image).
/// </summary>
internal static class W18Vgg16
{
    public const string Name = "w18-vgg16";
    public const string Description = "VGG16 at 224×224×3 (138,357,544 params): Summary and timed batch-1 inference with random weights";

    public const long KerasParameterCount = 138_357_544;

    /// <summary>Multiply-adds ×2 of the 13 convolutions and 3 dense layers for one image.</summary>
    public static double ForwardFlops()
    {
        double flops = 0;
        int size = 224, channels = 3;
        foreach (var (count, width) in Blocks)
        {
            for (var i = 0; i < count; i++)
            {
                flops += 2.0 * size * size * 9 * channels * width;
                channels = width;
            }
            size /= 2;
        }
        return flops + 2.0 * (7 * 7 * 512 * 4096 + 4096 * 4096 + 4096 * 1000);
    }

    private static readonly (int Count, int Width)[] Blocks = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)];

    public static Sequential Build()
    {
        var layers = new List<Layer>();
        var first = true;
        foreach (var (count, width) in Blocks)
        {
            for (var i = 0; i < count; i++)
            {
                if (first) layers.Add(new InputLayer([224, 224, 3]));
                layers.Add(new ZeroPadding2D([1, 1]));
                layers.Add(new Conv2D(width, 3, activation: "relu"));
                first = false;
            }
            layers.Add(new MaxPooling2D([2, 2], strides: [2, 2]));
        }
        layers.AddRange([new Flatten(), new Dense(4096, "relu"), new Dropout(0.5), new Dense(4096, "relu"), new Dropout(0.5), new Dense(1000, "softmax")]);
        return new Sequential(layers, "vgg16");
    }

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var clock = Stopwatch.StartNew();
        var model = Build();
        model.Summary();
        var parameters = model.CountParams();
        if (parameters != KerasParameterCount)
            throw new InvalidOperationException($"VGG16 has {parameters:N0} parameters, Keras's has {KerasParameterCount:N0}");
        var image = Tensor.RandomUniform(new Shape(1, 224, 224, 3), 0, 1, seed: 7);
        var warm = Stopwatch.StartNew();
        var probabilities = model.Predict(image); // first call: graph, plan and weights initialised
        var first = warm.Elapsed;
        var runs = options.Quick ? 2 : 10;
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var t = Stopwatch.StartNew();
            probabilities = model.Predict(image);
            times[i] = t.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        var median = times[runs / 2];
        var sum = probabilities.ToArray<float>().Sum();
        var gflop = ForwardFlops() / 1e9;
        var result = new SampleResult(Name);
        result.Metrics["parameters"] = parameters;
        result.Metrics["first_predict_ms"] = first.TotalMilliseconds;
        result.Metrics["median_predict_ms"] = median;
        result.Metrics["gflop_per_image"] = gflop;
        result.Metrics["gflops_per_second"] = gflop / (median / 1e3);
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W18 VGG16: {parameters:N0} parameters (Keras: {KerasParameterCount:N0}); batch-1 forward median {median:F1} ms over {runs} runs (min {times[0]:F1}), {gflop:F2} GFLOP → {gflop / (median / 1e3):F1} GFLOP/s; first call {first.TotalMilliseconds:F0} ms; softmax sums to {sum:F4}"),
            0, clock.Elapsed);
    }
}
