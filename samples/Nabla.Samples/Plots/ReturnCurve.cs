using ScottPlot;

namespace Nabla.Samples.Plots;

/// <summary>Draws a reinforcement-learning curve: the return of each episode, its moving average and the target.</summary>
internal static class ReturnCurve
{
    /// <summary>Saves the curve to <paramref name="path"/> and returns the full path.</summary>
    /// <param name="returns">Return of each episode, in order.</param>
    /// <param name="average">The moving average at each episode.</param>
    /// <param name="averageLabel">Legend of the average ("100-episode average").</param>
    /// <param name="target">A horizontal line for the bar to reach, or null for none.</param>
    public static string Save(string path, IReadOnlyList<double> returns, IReadOnlyList<double> average, string averageLabel, double? target, string title)
    {
        if (returns.Count == 0) throw new ArgumentException("no episodes to plot", nameof(returns));
        var episodes = Enumerable.Range(1, returns.Count).Select(e => (double)e).ToArray();
        var plot = new Plot();
        var raw = plot.Add.Scatter(episodes, returns.ToArray());
        raw.LegendText = "return per episode";
        raw.LineWidth = 1;
        raw.MarkerSize = 0;
        raw.Color = Colors.SteelBlue.WithAlpha(0.5);
        var mean = plot.Add.Scatter(episodes, average.ToArray());
        mean.LegendText = averageLabel;
        mean.LineWidth = 2.5f;
        mean.MarkerSize = 0;
        mean.Color = Colors.OrangeRed;
        if (target is { } t)
        {
            var line = plot.Add.HorizontalLine(t);
            line.LegendText = $"target {t}";
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Black;
        }
        plot.Title(title);
        plot.XLabel("episode");
        plot.YLabel("return");
        plot.ShowLegend(Alignment.UpperLeft);
        return LossCurve.SavePng(plot, path, 900, 500);
    }
}
