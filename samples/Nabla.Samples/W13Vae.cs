using System.Diagnostics;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W13 (SEEDS.md §5): a variational autoencoder on Fashion-MNIST (Hands-On ML, ch. 17). The encoder
/// (functional: 784-150-100 SELU, then a mean and a log-variance head of 10 codings each) ends in a
/// custom <see cref="Vae.Sampling"/> layer; the decoder (functional) maps 10 codings back to 28×28; the
/// autoencoder is a subclassed model whose Call adds the KL divergence / 784 with AddLoss. Trained
/// with RMSprop on the binary cross-entropy, batch 128, 25 epochs. Writes images generated from
/// random codings and a semantic interpolation between encoded test images.
/// </summary>
internal static class W13Vae
{
    public const string Name = "w13-vae";
    public const string Description = "Fashion-MNIST variational autoencoder (codings 10, Sampling layer, KL via AddLoss), RMSprop; generated images and interpolation";

    public const int CodingsSize = 10;

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (train, valid, test, testLabels) = LoadData(options.Quick);
        var clock = Stopwatch.StartNew();
        var (encoder, decoder) = BuildEncoderDecoder();
        var vae = new Vae.VariationalAutoencoder(encoder, decoder);
        vae.Compile(new RMSprop(), new BinaryCrossentropy(), [new Autoencoders.RoundedAccuracy()]);
        var epochs = options.EpochsOr(full: 25, quick: 2);
        var history = vae.Fit(train, train, batchSize: options.BatchSizeOr(128), epochs: epochs, verbose: 1,
            validationData: (valid, valid), callbacks: [new CsvLogger(options.PathFor("history.csv"))]);
        encoder.Summary();
        decoder.Summary();

        var result = new SampleResult(Name);
        var reconstructions = Autoencoders.EvaluateOnTest(vae, test, result);
        var elapsed = clock.Elapsed;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W13 variational autoencoder: loss (binary CE + KL / 784)"));
        result.Files.Add(Autoencoders.SaveReconstructions(test, reconstructions, options.PathFor("reconstructions.png")));

        // New images: decode codings drawn from the prior N(0, I).
        var generated = decoder.Predict(Tensor.RandomNormal(new Shape(36, CodingsSize), seed: 3));
        result.Files.Add(ImageGrid.Save(options.PathFor("generated.png"),
            [SampleData.Rows(generated, 0, 12), SampleData.Rows(generated, 12, 12), SampleData.Rows(generated, 24, 12)]));
        result.Files.Add(SaveInterpolations(encoder, decoder, test, testLabels, options.PathFor("interpolation.png")));
        Console.WriteLine("interpolation.png rows: T-shirt/top → Dress, Sneaker → Ankle boot, Trouser → Bag (test images at both ends)");
        return result.Report($"W13 {Autoencoders.Scores(result)} (loss includes the KL term)", history.Epochs.Count, elapsed);
    }

    /// <summary>Fashion-MNIST images [N, 28, 28] in [0, 1] (55,000 / 5,000 / 10,000) and the test labels.</summary>
    private static (Tensor Train, Tensor Valid, Tensor Test, Tensor TestLabels) LoadData(bool quick) => SampleData.FashionImages(quick);

    private static (Model Encoder, Model Decoder) BuildEncoderDecoder()
    {
        var inputs = Keras.Input(28, 28);
        var z = new Flatten().Apply(inputs);
        z = new Dense(150, "selu").Apply(z);
        z = new Dense(100, "selu").Apply(z);
        var mean = new Dense(CodingsSize, name: "codings_mean").Apply(z);
        var logVar = new Dense(CodingsSize, name: "codings_log_var").Apply(z);
        var codings = new Vae.Sampling().Apply(mean, logVar);
        var encoder = new Model([inputs], [mean, logVar, codings], "variational_encoder");

        var decoderInputs = Keras.Input(CodingsSize);
        var x = new Dense(100, "selu").Apply(decoderInputs);
        x = new Dense(150, "selu").Apply(x);
        x = new Dense(28 * 28, "sigmoid").Apply(x);
        var outputs = new Reshape([28, 28]).Apply(x);
        return (encoder, new Model(decoderInputs, outputs, "variational_decoder"));
    }

    /// <summary>
    /// Semantic interpolation: the codings' means of two test images of different classes, mixed in
    /// nine steps and decoded; the original images stand at both ends of each row.
    /// </summary>
    private static string SaveInterpolations(Model encoder, Model decoder, Tensor test, Tensor testLabels, string path)
    {
        var labels = testLabels.ToArray<int>();
        var rows = new List<Tensor>();
        foreach (var (from, to) in new[] { (0, 3), (7, 9), (1, 8) })
        {
            var (a, b) = (Array.IndexOf(labels, from), Array.IndexOf(labels, to));
            if (a < 0 || b < 0) throw new InvalidOperationException($"the test images hold no {FashionMnist.ClassNames[a < 0 ? from : to]}");
            var ends = new[] { SampleData.Rows(test, a, 1), SampleData.Rows(test, b, 1) };
            var means = ends.Select(e => encoder.PredictMulti([e])[0].ToArray<float>()).ToArray();
            const int steps = 9;
            var mixed = new float[steps * CodingsSize];
            for (var s = 0; s < steps; s++)
            {
                var t = s / (double)(steps - 1);
                for (var k = 0; k < CodingsSize; k++) mixed[s * CodingsSize + k] = (float)((1 - t) * means[0][k] + t * means[1][k]);
            }
            var decoded = decoder.Predict(Tensor.FromArray(mixed, steps, CodingsSize)).ToArray<float>();
            rows.Add(Tensor.FromArray([.. ends[0].ToArray<float>(), .. decoded, .. ends[1].ToArray<float>()], steps + 2, 28, 28));
        }
        return ImageGrid.Save(path, rows);
    }
}
