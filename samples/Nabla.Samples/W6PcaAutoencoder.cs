using System.Diagnostics;
using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;
using ScottPlot;

namespace Nabla.Samples;

/// <summary>
/// W6 (SEEDS.md §5): PCA with an undercomplete linear autoencoder (Hands-On ML, ch. 17): 3-D points
/// near a plane are encoded to 2-D by Dense(2) and decoded by Dense(3), trained with SGD(0.5) on the
/// MSE for 500 epochs. A linear autoencoder trained on the MSE spans the same plane as the top two
/// principal components, so its reconstruction error should match PCA's, computed here exactly.
/// </summary>
internal static class W6PcaAutoencoder
{
    public const string Name = "w6-pca-autoencoder";
    public const string Description = "Linear autoencoder 3-D → 2-D (PCA) on generated data; plots the 2-D codings";

    /// <summary>Points in the training set (as the book's 60).</summary>
    public const int Points = 60;

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var x = LoadData();
        var clock = Stopwatch.StartNew();
        var encoder = new Sequential([new Dense(2, inputShape: [3])], "encoder");
        var decoder = new Sequential([new Dense(3, inputShape: [2])], "decoder");
        var autoencoder = new Sequential([encoder, decoder], "autoencoder");
        autoencoder.Compile(new SGD(0.5), new MeanSquaredError());
        var epochs = options.EpochsOr(full: 500, quick: 200);
        var history = autoencoder.Fit(x, x, batchSize: options.BatchSizeOr(32), epochs: epochs, verbose: 0,
            callbacks: [EpochPrinter.About(epochs, 10), new CsvLogger(options.PathFor("history.csv"))]);
        autoencoder.Summary();

        var mse = autoencoder.Evaluate(x, x)["loss"];
        var pcaMse = PcaReconstructionMse(x);
        var codings = encoder.Predict(x);
        var elapsed = clock.Elapsed;
        var result = new SampleResult(Name);
        result.Metrics["mse"] = mse;
        result.Metrics["pca_mse"] = pcaMse;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W6 linear autoencoder: training loss (MSE)"));
        result.Files.Add(SaveCodings(codings, options.PathFor("codings.png")));
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W6 reconstruction MSE: {mse:F5} (PCA with 2 components: {pcaMse:F5})"), history.Epochs.Count, elapsed);
    }

    /// <summary>
    /// 60 noisy points near a tilted plane in 3-D, centred (the book's generate_3d_data: an arc of
    /// angles, x₂ a linear function of x₀ and x₁ plus noise), from fixed seeds.
    /// </summary>
    private static Tensor LoadData()
    {
        var angles = Tensor.RandomUniform(new Shape(Points), 0, 1, seed: 4).ToDoubleArray()
            .Select(u => u * 3 * Math.PI / 2 - 0.5).ToArray();
        var noise = Tensor.RandomNormal(new Shape(3, Points), 0, 1, seed: 5).ToDoubleArray();
        const double w1 = 0.1, w2 = 0.3, sigma = 0.1;
        var data = new double[Points, 3];
        for (var i = 0; i < Points; i++)
        {
            data[i, 0] = Math.Cos(angles[i]) + Math.Sin(angles[i]) / 2 + sigma * noise[i] / 2;
            data[i, 1] = Math.Sin(angles[i]) * 0.7 + sigma * noise[Points + i] / 2;
            data[i, 2] = data[i, 0] * w1 + data[i, 1] * w2 + sigma * noise[2 * Points + i];
        }
        var flat = new float[Points * 3];
        for (var j = 0; j < 3; j++)
        {
            var mean = Enumerable.Range(0, Points).Average(i => data[i, j]);
            for (var i = 0; i < Points; i++) flat[i * 3 + j] = (float)(data[i, j] - mean);
        }
        return Tensor.FromArray(flat, Points, 3);
    }

    /// <summary>
    /// The least MSE any rank-2 affine reconstruction can reach: the variance left in the smallest
    /// principal direction (the smallest eigenvalue of the covariance, with 1/N), averaged over the 3
    /// coordinates as Keras's MSE averages over the last axis.
    /// </summary>
    internal static double PcaReconstructionMse(Tensor x)
    {
        var n = x.Shape[0];
        var values = x.ToDoubleArray();
        var m = Matrix<double>.Build.Dense(n, 3, (i, j) => values[i * 3 + j]);
        var means = m.ColumnSums() / n;
        var centred = Matrix<double>.Build.Dense(n, 3, (i, j) => m[i, j] - means[j]);
        var covariance = centred.TransposeThisAndMultiply(centred) / n;
        var eigenvalues = covariance.Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).Order().ToArray();
        return eigenvalues[0] / 3;
    }

    private static string SaveCodings(Tensor codings, string path)
    {
        var c = codings.ToDoubleArray();
        var plot = new Plot();
        var points = plot.Add.ScatterPoints(
            Enumerable.Range(0, codings.Shape[0]).Select(i => c[2 * i]).ToArray(),
            Enumerable.Range(0, codings.Shape[0]).Select(i => c[2 * i + 1]).ToArray());
        points.MarkerSize = 7;
        plot.Title("W6 linear autoencoder: 2-D codings of the 3-D points");
        plot.XLabel("z₁");
        plot.YLabel("z₂");
        return LossCurve.SavePng(plot, path, 600, 500);
    }
}
