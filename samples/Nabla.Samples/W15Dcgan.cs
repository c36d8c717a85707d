using System.Diagnostics;
using System.Globalization;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W15 (SEEDS.md §5): a DCGAN on Fashion-MNIST, in the Keras pattern of Hands-On ML (ch. 17): a
/// generator from 100-d Gaussian noise (Dense 7·7·128 → Reshape → BatchNorm → LeakyReLU →
/// Conv2DTranspose 64 (5×5, stride 2) → BatchNorm → LeakyReLU → Conv2DTranspose 1 (stride 2, tanh)),
/// a discriminator of strided convolutions (Conv 64 (5×5, stride 2) → LeakyReLU(0.2) → Conv 128
/// (stride 2) → BatchNorm → LeakyReLU(0.2) → Flatten → Dense 1 sigmoid), both Adam(2e-4, β₁ 0.5).
/// Training alternates: the discriminator's own step on real and generated images, then the combined
/// model's step with the discriminator frozen (its weights, and its BatchNorm in inference mode, as in
/// TF2). Images are scaled to [−1, 1] for the tanh output. Writes a grid of images from fixed noise
/// after every epoch and both losses per epoch in the CSV.
/// </summary>
internal static class W15Dcgan
{
    public const string Name = "w15-dcgan";
    public const string Description = "Fashion-MNIST DCGAN (BatchNorm, LeakyReLU, Conv2DTranspose, Adam(2e-4, beta1 0.5), frozen discriminator); image grids per epoch";

    public const int Codings = 100;

    public static (Sequential Generator, Sequential Discriminator) Build() => (
        new Sequential(
        [
            new Dense(7 * 7 * 128, inputShape: [Codings]),
            new Reshape([7, 7, 128]),
            new BatchNormalization(),
            new LeakyReLU(0.2),
            new Conv2DTranspose(64, 5, strides: [2, 2], padding: "same"),
            new BatchNormalization(),
            new LeakyReLU(0.2),
            new Conv2DTranspose(1, 5, strides: [2, 2], padding: "same", activation: "tanh"),
        ], "generator"),
        new Sequential(
        [
            new Conv2D(64, 5, strides: [2, 2], padding: "same", inputShape: [28, 28, 1]),
            new LeakyReLU(0.2),
            new Conv2D(128, 5, strides: [2, 2], padding: "same"),
            new BatchNormalization(),
            new LeakyReLU(0.2),
            new Flatten(),
            new Dense(1, "sigmoid"),
        ], "discriminator"));

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (train, _, _, _) = SampleData.FashionImages(options.Quick);
        var images = ToTanhRange(train);
        var clock = Stopwatch.StartNew();
        var (generator, discriminator) = Build();
        generator.Summary();
        discriminator.Summary();
        discriminator.Compile(new Adam(2e-4, beta1: 0.5), new BinaryCrossentropy());
        discriminator.Trainable = false;
        var noiseInput = Keras.Input(Codings);
        var gan = new Model(noiseInput, discriminator.Apply(generator.Apply(noiseInput)), "dcgan");
        gan.Compile(new Adam(2e-4, beta1: 0.5), new BinaryCrossentropy());

        var batch = options.BatchSizeOr(128);
        var epochs = options.EpochsOr(full: 5, quick: 1);
        var steps = images.Shape[0] / batch;
        var fixedNoise = Tensor.RandomNormal(new Shape(30, Codings), seed: 99);
        var realAndFakeLabels = Tensor.Concat([Tensor.Ones(new Shape(batch, 1)), Tensor.Zeros(new Shape(batch, 1))], 0);
        var ones = Tensor.Ones(new Shape(batch, 1));
        var result = new SampleResult(Name);
        var csv = new List<string> { "epoch,d_loss,g_loss,seconds" };
        var order = Enumerable.Range(0, images.Shape[0]).ToArray();
        var random = new Random(42);
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            double dSum = 0, gSum = 0;
            for (var s = 0; s < steps; s++)
            {
                var noise = Tensor.RandomNormal(new Shape(batch, Codings), seed: (ulong)(epoch * 100_003 + s * 2 + 1));
                var real = Gather(images, order.AsSpan(s * batch, batch));
                var fake = generator.Predict(noise, batchSize: batch);
                dSum += discriminator.TrainOnBatch(Tensor.Concat([real, fake], 0), realAndFakeLabels)["loss"];
                var noise2 = Tensor.RandomNormal(new Shape(batch, Codings), seed: (ulong)(epoch * 100_003 + s * 2 + 2));
                gSum += gan.TrainOnBatch(noise2, ones)["loss"];
            }
            var (d, g) = (dSum / steps, gSum / steps);
            csv.Add(string.Create(CultureInfo.InvariantCulture, $"{epoch + 1},{d:G6},{g:G6},{clock.Elapsed.TotalSeconds:F1}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{epochs}: d_loss {d:F4}, g_loss {g:F4} ({clock.Elapsed.TotalSeconds:F0} s)"));
            result.Files.Add(SaveGrid(generator, fixedNoise, options.PathFor($"generated-epoch{epoch + 1:D2}.png")));
            result.Metrics["d_loss"] = d;
            result.Metrics["g_loss"] = g;
        }
        File.WriteAllLines(options.PathFor("history.csv"), csv);
        result.Files.Add(options.PathFor("history.csv"));
        var elapsed = clock.Elapsed;
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W15 DCGAN after {epochs} epochs of {steps} steps: d_loss {result.Metrics["d_loss"]:F4}, g_loss {result.Metrics["g_loss"]:F4}; images in generated-epochNN.png"), epochs, elapsed);
    }

    /// <summary>[N, 28, 28] in [0, 1] → [N, 28, 28, 1] in [−1, 1].</summary>
    private static Tensor ToTanhRange(Tensor images)
    {
        var x = images.AsSpan<float>();
        var y = new float[x.Length];
        for (var i = 0; i < y.Length; i++) y[i] = 2 * x[i] - 1;
        return new Tensor(y, new Shape(images.Shape[0], 28, 28, 1), DType.Float32);
    }

    private static Tensor Gather(Tensor images, ReadOnlySpan<int> rows)
    {
        var x = images.AsSpan<float>();
        var y = new float[rows.Length * 784];
        for (var i = 0; i < rows.Length; i++) x.Slice(rows[i] * 784, 784).CopyTo(y.AsSpan(i * 784));
        return new Tensor(y, new Shape(rows.Length, 28, 28, 1), DType.Float32);
    }

    private static string SaveGrid(Sequential generator, Tensor noise, string path)
    {
        var images = generator.Predict(noise).ToArray<float>().Select(v => (v + 1) / 2).ToArray();
        var rows = Enumerable.Range(0, 3).Select(r => Tensor.FromArray(images[(r * 10 * 784)..((r + 1) * 10 * 784)], 10, 28, 28)).ToList();
        return ImageGrid.Save(path, rows);
    }
}
