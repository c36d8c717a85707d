using System.Diagnostics;
using System.Globalization;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;
using ScottPlot;

namespace Nabla.Samples;

/// <summary>
/// W4 (SEEDS.md §5): linear regression y = w·x + b on 10 points with a subclassed Keras model, trained
/// by SGD on the mean squared error; the fitted line is checked against the least-squares solution.
/// </summary>
internal static class W4LinearRegression
{
    public const string Name = "w4-linear-regression";
    public const string Description = "Subclassed model: fit y = 3x + 2 (+ noise) on 10 points with SGD and compare with least squares";

    /// <summary>The true line the points are drawn around.</summary>
    public const double TrueW = 3, TrueB = 2;

    /// <summary>The model as a class whose Call is the forward pass (Keras subclassing): one linear unit.</summary>
    private sealed class LinearModel : Model
    {
        public LinearModel() : base("linear_model")
        {
        }

        public Dense Linear { get; } = new(1, name: "linear");

        protected override Output Call(Output inputs, bool training) => Linear.Apply(inputs, training);
    }

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (x, y) = LoadData();
        var clock = Stopwatch.StartNew();
        var model = new LinearModel();
        // x spans 0..9, so the MSE's Hessian has eigenvalues up to ~60: a step of 0.02 is stable (< 2/60)
        // and still shrinks the slow (intercept) direction by ~1 % a step.
        model.Compile(new SGD(0.02), new MeanSquaredError());
        var epochs = options.EpochsOr(full: 1000, quick: 500);
        var history = model.Fit(x, y, batchSize: options.BatchSizeOr(10), epochs: epochs, verbose: 0, shuffle: false,
            callbacks: [EpochPrinter.About(epochs, 10), new CsvLogger(options.PathFor("history.csv"))]);
        model.Summary();
        var elapsed = clock.Elapsed;

        var w = model.Session.Run(model.Linear.Kernel.Value).ToArray<float>()[0];
        var b = model.Session.Run(model.Linear.Bias!.Value).ToArray<float>()[0];
        var (lsW, lsB) = LeastSquares(x.ToDoubleArray(), y.ToDoubleArray());
        var result = new SampleResult(Name);
        result.Metrics["w"] = w;
        result.Metrics["b"] = b;
        result.Metrics["least_squares_w"] = lsW;
        result.Metrics["least_squares_b"] = lsB;
        result.Metrics["loss"] = history["loss"][^1];
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W4 linear regression: training loss (MSE)"));
        result.Files.Add(SaveFitPlot(x, y, w, b, options.PathFor("fit.png")));
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W4 fitted y = {w:F4}·x + {b:F4} (least squares {lsW:F4}·x + {lsB:F4}; points drawn around {TrueW}·x + {TrueB}), final MSE {result.Metrics["loss"]:F4}"), history.Epochs.Count, elapsed);
    }

    /// <summary>Ten points x = 0..9 on y = 3x + 2 with Gaussian noise (σ = 0.3, fixed seed).</summary>
    private static (Tensor X, Tensor Y) LoadData()
    {
        var noise = Tensor.RandomNormal(new Shape(10), 0, 0.3, seed: 7).ToArray<float>();
        var xs = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();
        var ys = xs.Select((v, i) => (float)(TrueW * v + TrueB) + noise[i]).ToArray();
        return (Tensor.FromArray(xs, 10, 1), Tensor.FromArray(ys, 10, 1));
    }

    /// <summary>The closed-form ordinary least-squares line, the optimum SGD should approach.</summary>
    internal static (double W, double B) LeastSquares(double[] x, double[] y)
    {
        var mx = x.Average();
        var my = y.Average();
        var sxy = x.Zip(y, (a, c) => (a - mx) * (c - my)).Sum();
        var sxx = x.Sum(a => (a - mx) * (a - mx));
        var w = sxy / sxx;
        return (w, my - w * mx);
    }

    private static string SaveFitPlot(Tensor x, Tensor y, double w, double b, string path)
    {
        var xs = x.ToDoubleArray();
        var plot = new Plot();
        var points = plot.Add.ScatterPoints(xs, y.ToDoubleArray());
        points.LegendText = "data";
        points.MarkerSize = 8;
        var line = plot.Add.Line(xs.Min(), w * xs.Min() + b, xs.Max(), w * xs.Max() + b);
        line.LegendText = string.Create(CultureInfo.InvariantCulture, $"fit: y = {w:F3}x + {b:F3}");
        line.LineWidth = 2;
        plot.Title("W4 linear regression");
        plot.XLabel("x");
        plot.YLabel("y");
        plot.ShowLegend(Alignment.UpperLeft);
        return LossCurve.SavePng(plot, path, 700, 500);
    }
}
