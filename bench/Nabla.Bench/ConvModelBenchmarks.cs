using BenchmarkDotNet.Attributes;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples;

namespace Nabla.Bench;

/// <summary>
/// The convolutional models of issue 11 on the Cpu device, next to their PyTorch twins
/// (bench/peers/conv_models_torch.py; bench/run-conv-models.sh runs both and prints the ratios):
/// <list type="bullet">
/// <item>LeNet-5 (the W17 sample's network, 61,706 parameters): one training step, batch 128, sparse
/// categorical cross-entropy, Adam. Forward 235,200 + 480,000 + 117,840 = 833,040 FLOP per image (the two
/// convolutions and the dense layers, 2 per multiply-add); a step is 3× forward × 128 = 320 MFLOP.</item>
/// <item>The W12 denoising autoencoder (28,369 parameters): one training step, batch 128, binary
/// cross-entropy, Adam; 9.0 MFLOP forward per image, 3.47 GFLOP per step.</item>
/// <item>VGG16 with its top (138,357,544 parameters): inference at batch 1, 15.5 GFLOP.</item>
/// </list>
/// Jobs: all cores and one core (<see cref="W2Config"/>).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(W2Config))]
public class ConvModelBenchmarks
{
    private Sequential _model = null!;
    private Tensor _x = null!, _y = null!;

    /// <summary>Which model.</summary>
    [Params("lenet", "w12", "vgg16")]
    public string Model { get; set; } = "lenet";

    [GlobalSetup]
    public void Setup()
    {
        Keras.ClearSession();
        switch (Model)
        {
            case "lenet":
                _model = W17LeNet.LeNet();
                _model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: false));
                _x = Tensor.RandomUniform(new Shape(128, 28, 28, 1), 0, 1, seed: 1);
                _y = Tensor.FromArray(Enumerable.Range(0, 128).Select(i => i % 10).ToArray(), 128);
                _model.TrainOnBatch(_x, _y);
                break;
            case "w12":
                _model = W12DenoisingConvAutoencoder.Build();
                _model.Compile(new Adam(), new BinaryCrossentropy());
                _x = Tensor.RandomUniform(new Shape(128, 28, 28, 1), 0, 1, seed: 1);
                _y = Tensor.RandomUniform(new Shape(128, 28, 28, 1), 0, 1, seed: 2);
                _model.TrainOnBatch(_x, _y);
                break;
            case "vgg16":
                _model = W18Vgg16.Build();
                _x = Tensor.RandomUniform(new Shape(1, 224, 224, 3), 0, 1, seed: 1);
                _model.Predict(_x, batchSize: 1);
                break;
            default:
                throw new ArgumentException($"unknown model '{Model}'");
        }
    }

    /// <summary>The session the model runs in (for <see cref="ModelProfile"/>).</summary>
    internal Session Session => _model.Session;

    [GlobalCleanup]
    public void Cleanup() => _model.Session.Dispose();

    /// <summary>A training step (LeNet, W12) or a batch-1 forward pass (VGG16).</summary>
    [Benchmark]
    public object Step() => Model == "vgg16" ? _model.Predict(_x, batchSize: 1) : _model.TrainOnBatch(_x, _y);
}
