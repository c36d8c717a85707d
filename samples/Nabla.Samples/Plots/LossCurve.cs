using Nabla.Layers;
using ScottPlot;

namespace Nabla.Samples.Plots;

/// <summary>Draws the loss curves of a <see cref="History"/> (training and validation) as a PNG.</summary>
internal static class LossCurve
{
    /// <summary>
    /// Plots every logged loss ("loss", "val_loss") against the epoch (1-based, as Keras prints it)
    /// and saves the figure to <paramref name="path"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The history holds no loss (Fit ran no epoch).</exception>
    public static string Save(History history, string path, string? title = null, int width = 800, int height = 500)
    {
        var series = history.Values.Where(kv => kv.Key is "loss" or "val_loss").OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        if (series.Count == 0 || series.All(s => s.Value.Count == 0))
            throw new ArgumentException($"the history has no loss to plot (logged: {string.Join(", ", history.Values.Keys)})", nameof(history));

        // A loss that falls over more than two decades (a regression from a random start) is
        // unreadable on a linear axis: plot log10 of it, with ticks labelled in loss units.
        var all = series.SelectMany(s => s.Value).ToList();
        var logScale = all.All(v => v > 0 && double.IsFinite(v)) && all.Max() / all.Min() > 100;
        var plot = new Plot();
        foreach (var (name, values) in series)
        {
            var epochs = Enumerable.Range(0, values.Count).Select(i => (double)history.Epochs[i] + 1).ToArray();
            var line = plot.Add.Scatter(epochs, values.Select(v => logScale ? Math.Log10(v) : v).ToArray());
            line.LegendText = name == "loss" ? "training loss" : "validation loss";
            line.LineWidth = 2;
            // Markers only help when there are few epochs; with hundreds they blur the line.
            line.MarkerSize = values.Count <= 30 ? 5 : 0;
        }
        plot.Title(title ?? "Loss");
        plot.XLabel("epoch");
        plot.YLabel(logScale ? "loss (log scale)" : "loss");
        if (logScale)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
            };
        }
        plot.ShowLegend(Alignment.UpperRight);
        return SavePng(plot, path, width, height);
    }

    /// <summary>Saves a ScottPlot figure, creating the folder, and returns the full path.</summary>
    internal static string SavePng(Plot plot, string path, int width, int height)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        plot.SavePng(full, width, height);
        return full;
    }
}
