using System.Diagnostics;
using System.Globalization;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W14 (SEEDS.md §5): a convolutional variational autoencoder on binarised MNIST (pixels > 0.5 → 1),
/// after TensorFlow's CVAE tutorial, with a 2-D latent space. Encoder: Conv 32 (3×3, stride 2) → Conv
/// 64 (stride 2) → Flatten → Dense(2·latent), split into the mean and log-variance; the
/// reparameterisation z = μ + e^{log σ²/2}·ε. Decoder: Dense(7·7·32) → Reshape → Conv2DTranspose 64
/// (stride 2, same) → Conv2DTranspose 32 (stride 2, same) → Conv2DTranspose 1 (logits). Loss: the
/// negative ELBO per pixel, the binary cross-entropy on the logits plus the closed-form KL / 784 (the
/// tutorial samples the KL term once instead; the expectation is the same). Adam(1e-4), batch 100.
/// Writes a 20×20 grid of digits decoded from a lattice of latent points (Normal quantiles).
/// </summary>
internal static class W14ConvVae
{
    public const string Name = "w14-conv-vae";
    public const string Description = "Binarised MNIST convolutional VAE, latent 2 (split, reparameterisation), Adam(1e-4), batch 100; grid of generated digits";

    public const int Latent = 2;

    public static (Model Encoder, Model Decoder) Build()
    {
        var image = Keras.Input(28, 28, 1);
        var h = new Conv2D(32, 3, strides: [2, 2], activation: "relu").Apply(image);
        h = new Conv2D(64, 3, strides: [2, 2], activation: "relu").Apply(h);
        h = new Flatten().Apply(h);
        var stats = new Dense(2 * Latent, name: "mean_and_log_var").Apply(h);
        var mean = new SplitHalf(0, "mean").Apply(stats);
        var logVar = new SplitHalf(1, "log_var").Apply(stats);
        var z = new Vae.Sampling().Apply(mean, logVar);
        var encoder = new Model([image], [mean, logVar, z], "conv_vae_encoder");

        var code = Keras.Input(Latent);
        var x = new Dense(7 * 7 * 32, "relu").Apply(code);
        x = new Reshape([7, 7, 32]).Apply(x);
        x = new Conv2DTranspose(64, 3, strides: [2, 2], padding: "same", activation: "relu").Apply(x);
        x = new Conv2DTranspose(32, 3, strides: [2, 2], padding: "same", activation: "relu").Apply(x);
        var logits = new Conv2DTranspose(1, 3, strides: [1, 1], padding: "same").Apply(x);
        return (encoder, new Model(code, logits, "conv_vae_decoder"));
    }

    /// <summary>One half of the last axis (tf.split(x, 2, axis=-1)[index]).</summary>
    private sealed class SplitHalf(int index, string name) : Layer(name)
    {
        protected override Output[] Call(Output[] inputs, bool training) => [inputs[0].Graph.Split(inputs[0], 2, -1)[index]];
    }

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (train, _, test, _) = SampleData.MnistImages(options.Quick);
        var (bTrain, bTest) = (Binarise(train), Binarise(test));
        var clock = Stopwatch.StartNew();
        var (encoder, decoder) = Build();
        var vae = new Vae.VariationalAutoencoder(encoder, decoder, "conv_vae");
        vae.Compile(new Adam(1e-4), new BinaryCrossentropy(fromLogits: true));
        var epochs = options.EpochsOr(full: 10, quick: 1);
        var history = vae.Fit(bTrain, bTrain, batchSize: options.BatchSizeOr(100), epochs: epochs, verbose: 1,
            validationData: (bTest, bTest), callbacks: [new CsvLogger(options.PathFor("history.csv"))]);
        encoder.Summary();
        decoder.Summary();
        var elapsed = clock.Elapsed;
        var valLoss = history["val_loss"][^1];

        var result = new SampleResult(Name);
        result.Metrics["val_loss_per_pixel"] = valLoss;
        result.Metrics["test_negative_elbo_nats"] = valLoss * 784;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W14 convolutional VAE: negative ELBO per pixel"));
        result.Files.Add(SaveLatentGrid(decoder, options.PathFor("generated.png")));
        Console.WriteLine("generated.png: digits decoded from a 20×20 lattice of latent points (Normal quantiles 0.05..0.95)");
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W14 test negative ELBO {valLoss * 784:F1} nats per image ({valLoss:F4} per pixel) after {history.Epochs.Count} epochs"), history.Epochs.Count, elapsed);
    }

    private static Tensor Binarise(Tensor images)
    {
        var x = images.AsSpan<float>();
        var y = new float[x.Length];
        for (var i = 0; i < y.Length; i++) y[i] = x[i] > 0.5f ? 1f : 0f;
        return new Tensor(y, images.Shape, DType.Float32);
    }

    /// <summary>Decodes a 20×20 lattice of latent points at Normal quantiles and writes the sigmoid of the logits.</summary>
    private static string SaveLatentGrid(Model decoder, string path)
    {
        const int n = 20;
        var points = new float[n * n * Latent];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                points[(i * n + j) * Latent] = (float)NormalQuantile(0.05 + 0.9 * i / (n - 1));
                points[(i * n + j) * Latent + 1] = (float)NormalQuantile(0.05 + 0.9 * j / (n - 1));
            }
        var logits = decoder.Predict(Tensor.FromArray(points, n * n, Latent)).ToArray<float>();
        var images = logits.Select(v => 1f / (1f + MathF.Exp(-v))).ToArray();
        var rows = Enumerable.Range(0, n).Select(i => Tensor.FromArray(images[(i * n * 784)..((i + 1) * n * 784)], n, 28, 28)).ToList();
        return ImageGrid.Save(path, rows, scale: 1);
    }

    /// <summary>The standard Normal quantile by bisection on erf (40 calls in all, so speed does not matter).</summary>
    private static double NormalQuantile(double p)
    {
        double lo = -10, hi = 10;
        for (var k = 0; k < 80; k++)
        {
            var mid = 0.5 * (lo + hi);
            if (0.5 * (1 + Erf(mid / Math.Sqrt(2))) < p) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>erf: its Maclaurin series for |x| &lt; 3 (the quantiles used lie within ±1.65), the leading asymptotic terms beyond (only there to steer the bisection).</summary>
    private static double Erf(double x)
    {
        if (Math.Abs(x) < 3)
        {
            // Maclaurin series: erf x = 2/√π Σ (−1)^n x^{2n+1} / (n! (2n+1)).
            double sum = 0, term = x;
            for (var n = 0; n < 100; n++)
            {
                sum += term / (2 * n + 1);
                term *= -x * x / (n + 1);
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        return Math.Sign(x) * (1 - Math.Exp(-x * x) / (Math.Abs(x) * Math.Sqrt(Math.PI)) * (1 - 1 / (2 * x * x) + 3 / (4 * x * x * x * x)));
    }
}
