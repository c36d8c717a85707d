using System.Diagnostics;
using System.Globalization;
using Nabla.Layers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W23 (SEEDS.md §5): a restricted Boltzmann machine with Bernoulli visible and hidden units on
/// binarised MNIST, trained by contrastive divergence (CD-1; CD-k with <c>k</c>), written as a
/// TensorFlow-1.x graph: the Gibbs chain samples with the graph's seeded uniform draws
/// (<c>Cast(Less(RandomUniformLike(p), p))</c>) and the learning rule is three <c>AssignAdd</c> nodes,
/// no autodiff and no optimizer.
/// </summary>
/// <remarks>
/// The seed names the workload and "reconstructions" and no setting. Chosen here, after Hinton's
/// "A practical guide to training restricted Boltzmann machines" (UTML TR 2010-003) and the
/// deeplearning.net RBM tutorial (500 hidden units, rate 0.1): 500 hidden units, W drawn from
/// N(0, 0.01²), zero biases, learning rate 0.1 without momentum or weight decay, batches of 100
/// in file order, 10 epochs. Pixels are binarised once with the threshold 0.5. As the guide
/// advises, the data-driven hidden states are sampled, while the last reconstruction and the
/// hidden probabilities it drives are used as probabilities in the negative statistics.
/// The CSV's <c>loss</c> is the mean squared error between a batch and its one-step reconstruction
/// p(v | h₀ sampled), averaged over the epoch's batches; <c>val_loss</c> is the mean-field error
/// p(v | p(h | v)) on the test set after the epoch. Both are monitors, not the objective (CD
/// follows no loss's gradient), but they fall as the model learns.
/// </remarks>
internal static class W23Rbm
{
    public const string Name = "w23-rbm";
    public const string Description = "Binarised MNIST RBM: 784-500 Bernoulli units, CD-1, rate 0.1, batch 100, 10 epochs; filters and reconstructions";

    /// <summary>Hidden units.</summary>
    public const int Hidden = 500;

    /// <summary>Learning rate of the CD updates.</summary>
    public const double LearningRate = 0.1;

    private const int Pixels = 784;

    /// <summary>The graph of one RBM: its variables, the CD-k update and the monitors.</summary>
    private sealed record Rbm(Graph Graph, Output Visible, Variable Weights, Operation Train, Output TrainError, Output MeanFieldError, Output MeanField);

    public static SampleResult Run(SampleOptions options, int k = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        options.Begin();
        var (xTrain, _, xTest, _) = SampleData.MnistFlat(options.Quick);
        var train = Binarise(xTrain);
        var test = new Tensor(Binarise(xTest), xTest.Shape, DType.Float32);
        var epochs = options.EpochsOr(full: 10, quick: 3);
        var batch = options.BatchSizeOr(100);
        var batches = xTrain.Shape[0] / batch;
        if (batches == 0) throw new ArgumentOutOfRangeException(nameof(options), $"a batch of {batch} is more than the {xTrain.Shape[0]} training images");
        var clock = Stopwatch.StartNew();

        var rbm = Build(Hidden, LearningRate, k);
        using var session = new Session(rbm.Graph, options.Device ?? Device.Cpu);
        session.Run(rbm.Graph.GlobalVariablesInitializer());
        var testFeeds = new Dictionary<Output, Tensor> { [rbm.Visible] = test };
        var history = new History();
        var csv = new CsvLogger(options.PathFor("history.csv"));
        csv.OnTrainBegin();
        // One batch buffer for the whole run: Session.Run copies its feeds before it returns, so refilling it is safe,
        // and a fresh 314 KB array per batch would be large-object-heap churn (600 per epoch).
        var batchData = new float[batch * Pixels];
        var rows = new Tensor(batchData, new Shape(batch, Pixels), DType.Float32);
        var feeds = new Dictionary<Output, Tensor> { [rbm.Visible] = rows };
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var sum = 0.0;
            for (var i = 0; i < batches; i++)
            {
                train.AsSpan(i * batch * Pixels, batch * Pixels).CopyTo(batchData);
                sum += session.Run([rbm.TrainError], feeds, rbm.Train)[0].ToScalar<float>();
            }
            var logs = new Dictionary<string, double>
            {
                ["loss"] = sum / batches,
                ["val_loss"] = session.Run(rbm.MeanFieldError, testFeeds).ToScalar<float>(),
            };
            history.OnEpochEnd(epoch, logs);
            csv.OnEpochEnd(epoch, logs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Epoch {epoch + 1}/{epochs} - reconstruction error (train, CD-{k}): {logs["loss"]:F5} - test (mean field): {logs["val_loss"]:F5} - {clock.Elapsed.TotalSeconds:F1} s"));
        }
        var elapsed = clock.Elapsed;

        var result = new SampleResult(Name);
        result.Metrics["reconstruction_error"] = history["loss"][^1];
        result.Metrics["test_reconstruction_error"] = history["val_loss"][^1];
        result.Metrics["first_reconstruction_error"] = history["loss"][0];
        result.Files.Add(csv.Path);
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W23 RBM: reconstruction error (MSE) per epoch"));
        result.Files.Add(SaveFilters(session.Run(rbm.Weights.Value), options.PathFor("filters.png")));
        var originals = SampleData.Head(test, 10);
        var reconstructions = session.Run(rbm.MeanField, new Dictionary<Output, Tensor> { [rbm.Visible] = originals });
        result.Files.Add(ImageGrid.Save(options.PathFor("reconstructions.png"), [originals, reconstructions], scale: 3));
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W23 RBM {Pixels}-{Hidden} CD-{k}: reconstruction error {history["loss"][0]:F5} (epoch 1) -> {history["loss"][^1]:F5} (epoch {epochs}), test (mean field) {history["val_loss"][^1]:F5}"),
            epochs, elapsed);
    }

    /// <summary>
    /// The RBM's graph: energy E(v, h) = −v·b − h·c − vᵀWh, so p(h = 1 | v) = σ(vW + c) and
    /// p(v = 1 | h) = σ(hWᵀ + b); CD-k moves W by rate·(⟨v hᵀ⟩data − ⟨v hᵀ⟩k-step model) and the biases likewise.
    /// </summary>
    private static Rbm Build(int hidden, double rate, int k)
    {
        var g = new Graph { Seed = 42 };
        var v0 = g.Placeholder(DType.Float32, new Shape(-1, Pixels), "v");
        var w = g.Variable(new Shape(Pixels, hidden), DType.Float32, Initializer.RandomNormal(0, 0.01, seed: 1), "W");
        var visibleBias = g.Variable(new Shape(Pixels), DType.Float32, Initializer.Zeros, "visible_bias");
        var hiddenBias = g.Variable(new Shape(hidden), DType.Float32, Initializer.Zeros, "hidden_bias");
        Output HiddenGivenVisible(Output v) => g.Sigmoid(g.MatMul(v, w.Value) + hiddenBias.Value);
        Output VisibleGivenHidden(Output h) => g.Sigmoid(g.MatMul(h, w.Value, transposeB: true) + visibleBias.Value);
        // A Bernoulli draw with probability p: u < p for u uniform on [0, 1). Each run of the step draws afresh.
        Output Sample(Output p) => g.Cast(g.Less(g.RandomUniformLike(p), p), DType.Float32);

        var ph0 = HiddenGivenVisible(v0);
        var h = Sample(ph0);
        Output vk = default, phk = default, firstReconstruction = default;
        for (var step = 1; step <= k; step++)
        {
            var pv = VisibleGivenHidden(h);
            if (step == 1) firstReconstruction = pv;
            vk = step < k ? Sample(pv) : pv;
            phk = HiddenGivenVisible(vk);
            if (step < k) h = Sample(phk);
        }

        // Every read of W and the biases feeds phk, which every update needs, so the in-place updates
        // run after the last read of the step.
        var n = g.ReducedCount(v0, [0], DType.Float32, "batch_size");
        var positive = g.MatMul(v0, ph0, transposeA: true);
        var negative = g.MatMul(vk, phk, transposeA: true);
        var train = g.Group(
        [
            w.AssignAdd((positive - negative) * rate / n, "update_W").Op,
            visibleBias.AssignAdd(g.ReduceMean(v0 - vk, 0) * rate, "update_visible_bias").Op,
            hiddenBias.AssignAdd(g.ReduceMean(ph0 - phk, 0) * rate, "update_hidden_bias").Op,
        ], "cd_update");
        var trainError = g.ReduceMean(g.Square(v0 - firstReconstruction), name: "reconstruction_error");
        var meanField = VisibleGivenHidden(HiddenGivenVisible(v0));
        var meanFieldError = g.ReduceMean(g.Square(v0 - meanField), name: "mean_field_error");
        return new Rbm(g, v0, w, train, trainError, meanFieldError, meanField);
    }

    /// <summary>Pixels in [0, 1] → 0 or 1 at the threshold 0.5.</summary>
    private static float[] Binarise(Tensor images)
    {
        var data = images.ToArray<float>();
        for (var i = 0; i < data.Length; i++) data[i] = data[i] >= 0.5f ? 1f : 0f;
        return data;
    }

    /// <summary>The first 100 hidden units' weights (columns of W) as a 10×10 grid of 28×28 images, each min–max scaled.</summary>
    private static string SaveFilters(Tensor weights, string path)
    {
        var w = weights.ToArray<float>();
        var hidden = weights.Shape[1];
        var shown = Math.Min(100, hidden);
        var rows = new List<Tensor>();
        for (var r = 0; r * 10 < shown; r++)
        {
            var count = Math.Min(10, shown - r * 10);
            var images = new float[count * Pixels];
            for (var c = 0; c < count; c++)
            {
                var unit = r * 10 + c;
                var column = Enumerable.Range(0, Pixels).Select(p => w[p * hidden + unit]).ToArray();
                var (min, max) = (column.Min(), column.Max());
                for (var p = 0; p < Pixels; p++) images[c * Pixels + p] = max > min ? (column[p] - min) / (max - min) : 0.5f;
            }
            rows.Add(Tensor.FromArray(images, count, 28, 28));
        }
        return ImageGrid.Save(path, rows, scale: 2);
    }
}
