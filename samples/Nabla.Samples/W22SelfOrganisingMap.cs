using System.Diagnostics;
using System.Globalization;
using Nabla.Samples.Plots;
using ScottPlot;
using SkiaSharp;

namespace Nabla.Samples;

/// <summary>
/// W22 (SEEDS.md §5): a 30×30 self-organising map (Kohonen) trained on random RGB colours, written in
/// graph mode with tensor ops only. Each step finds every colour's best-matching unit (ArgMin over the
/// 900 units of the flattened grid), gathers that unit's (row, col) from the stacked grid coordinates,
/// weighs every unit by exp(−‖loc − loc_bmu‖² / σ²) and moves the map towards the colours with one
/// AssignAdd; the host only feeds batches and the epoch.
/// </summary>
/// <remarks>
/// Settings follow the TensorFlow 1.x SOM the tutorials build on (stack / slice / exp / argmin): the
/// map starts uniform in [0, 1]³, α₀ = 0.3, σ₀ = max(rows, cols) / 2 = 15, and both decay linearly per
/// epoch (iteration) by the factor 1 − epoch / epochs, with 400 epochs, one colour per update, in
/// the data's order. Where the seed is silent (it maps 15 named colours): 1,000 colours uniform in
/// [0, 1]³ (seeded; --quick: 300 colours, 30 epochs); a larger --batch-size applies the mean of the
/// batch's per-colour updates in one step. The neighbourhood is the seed's exp(−d²/σ²), without the
/// factor 2 of a Gaussian.
/// </remarks>
internal static class W22SelfOrganisingMap
{
    public const string Name = "w22-som";
    public const string Description = "Graph mode: a 30×30 self-organising map on random RGB colours (ArgMin, Stack, Gather, Exp, AssignAdd)";

    public const int Rows = 30, Cols = 30, Units = Rows * Cols;
    public const double Alpha0 = 0.3, Sigma0 = Rows / 2.0;

    /// <summary>Pixels per map unit in the PNGs.</summary>
    public const int Scale = 10;

    /// <summary>The graph of one SOM: its map, its inputs and the ops the host runs.</summary>
    private sealed record Som(Graph Graph, Variable Map, Output Colours, Output Epoch, Output Train, Output QuantisationError, Output Alpha, Output Sigma);

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var epochs = options.EpochsOr(full: 400, quick: 30);
        // Batch 1 is the seed's online rule: one colour per update.
        var batchSize = options.BatchSizeOr(1);
        var colours = Tensor.RandomUniform(new Shape(options.Quick ? 300 : 1000, 3), 0, 1, seed: 22);
        var n = colours.Shape[0];
        var clock = Stopwatch.StartNew();
        var som = Build(epochs);
        using var session = new Session(som.Graph, options.Device ?? Device.Cpu);
        session.Run(som.Graph.GlobalVariablesInitializer());
        var all = new Dictionary<Output, Tensor> { [som.Colours] = colours };
        var before = session.Run(som.Map.Value);
        var initialQe = session.Run(som.QuantisationError, all).ToScalar<float>();

        var batches = Enumerable.Range(0, (n + batchSize - 1) / batchSize)
            .Select(b => BatchOf(colours, b * batchSize, Math.Min(batchSize, n - b * batchSize))).ToArray();
        var log = new List<(int Epoch, double Qe, double Alpha, double Sigma)>();
        var csv = new StreamWriter(options.PathFor("history.csv"));
        csv.WriteLine("epoch,quantisation_error,learning_rate,radius");
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var epochFeed = Tensor.FromArray([(float)epoch], []);
            var rates = session.Run([som.Alpha, som.Sigma], new Dictionary<Output, Tensor> { [som.Epoch] = epochFeed });
            // The seed feeds the colours in their order, one pass per iteration; so do we.
            foreach (var batch in batches)
                session.Run([], new Dictionary<Output, Tensor> { [som.Colours] = batch, [som.Epoch] = epochFeed }, som.Train.Op);
            var qe = session.Run(som.QuantisationError, all).ToScalar<float>();
            log.Add((epoch + 1, qe, rates[0].ToScalar<float>(), rates[1].ToScalar<float>()));
            csv.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{epoch + 1},{qe:R},{log[^1].Alpha:R},{log[^1].Sigma:R}"));
            if (epoch == 0 || (epoch + 1) % Math.Max(1, epochs / 10) == 0 || epoch == epochs - 1)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1,4}/{epochs}  α {log[^1].Alpha:F4}  σ {log[^1].Sigma:F3}  quantisation error {qe:F4}"));
        }
        csv.Dispose();
        var after = session.Run(som.Map.Value);
        var elapsed = clock.Elapsed;

        var (neighbour, randomPair) = Topology(after.ToDoubleArray());
        var result = new SampleResult(Name);
        result.Metrics["initial_quantisation_error"] = initialQe;
        result.Metrics["first_quantisation_error"] = log[0].Qe;
        result.Metrics["quantisation_error"] = log[^1].Qe;
        result.Metrics["neighbour_distance"] = neighbour;
        result.Metrics["random_pair_distance"] = randomPair;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(SaveMap(before, options.PathFor("map_before.png")));
        result.Files.Add(SaveMap(after, options.PathFor("map_after.png")));
        result.Files.Add(SaveCurve(log.Select(l => (double)l.Epoch).ToArray(), log.Select(l => l.Qe).ToArray(), options.PathFor("quantisation_error.png")));
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W22 SOM {Rows}×{Cols} on {n} colours (batch {batchSize}): quantisation error {initialQe:F4} at start, {log[0].Qe:F4} after epoch 1, {log[^1].Qe:F4} after epoch {epochs}; adjacent units {neighbour:F4} apart vs {randomPair:F4} for random pairs"),
            epochs, elapsed);
    }

    /// <summary>
    /// Builds the SOM graph for a run of <paramref name="epochs"/> epochs: colours [B, 3] and the epoch
    /// (a float scalar, 0-based) are fed; Train moves the map once for the batch.
    /// </summary>
    private static Som Build(int epochs)
    {
        var g = new Graph { Seed = 22 };
        var map = g.Variable(new Shape(Units, 3), DType.Float32, Initializer.RandomUniform(0, 1, seed: 2), "map");
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3), "colours");
        var epoch = g.Placeholder(DType.Float32, Shape.Scalar, "epoch");

        // Grid coordinates of unit i = row·30 + col, stacked into [900, 2] (the seed's location vectors).
        var range = g.Constant(Tensor.Range(0, Rows, 1), "range");
        var rowOf = g.Reshape(g.Tile(g.Reshape(range, [Rows, 1]), [1, Cols]), [Units], "row_of_unit");
        var colOf = g.Reshape(g.Tile(g.Reshape(range, [1, Cols]), [Rows, 1]), [Units], "col_of_unit");
        var locations = g.Stack([rowOf, colOf], axis: 1, name: "locations");

        // Best-matching unit: ArgMin over the colour distances to all 900 units, [B, 900] → [B].
        var diff = g.ExpandDims(x, 1) - g.ExpandDims(map.Value, 0);                  // [B, 900, 3]
        var distance = g.Sqrt(g.ReduceSum(g.Square(diff), [2]), "distance");           // [B, 900]
        var bmu = g.ArgMin(distance, axis: 1, name: "bmu");                            // [B] int64
        var bmuLocation = g.Gather(locations, bmu, axis: 0, name: "bmu_location");      // [B, 2]

        // Linear decay per epoch, as the seed: factor 1 − epoch / epochs scales α and σ.
        var decay = 1.0 - epoch / epochs;
        var alpha = g.Identity(decay * Alpha0, "alpha");
        var sigma = g.Identity(decay * Sigma0, "sigma");
        var gridDistance2 = g.ReduceSum(g.Square(g.ExpandDims(bmuLocation, 1) - g.ExpandDims(locations, 0)), [2]); // [B, 900]
        var neighbourhood = g.Exp(-gridDistance2 / g.Square(sigma), "neighbourhood"); // [B, 900]

        // Each unit moves by α·h·(x − w), averaged over the batch.
        var delta = alpha * g.ReduceMean(g.ExpandDims(neighbourhood, 2) * diff, [0]);   // [900, 3]
        var train = map.AssignAdd(delta, "train");
        var qe = g.ReduceMean(g.ReduceMin(distance, [1]), name: "quantisation_error");
        return new Som(g, map, x, epoch, train, qe, alpha, sigma);
    }

    /// <summary>Rows [start, start + count) of a [n, 3] tensor, copied on the host (data feeding, not map updates).</summary>
    private static Tensor BatchOf(Tensor colours, int start, int count) =>
        Tensor.FromArray(colours.ToArray<float>().AsSpan(start * 3, count * 3).ToArray(), count, 3);

    /// <summary>
    /// Mean colour distance between grid-adjacent units (right and down neighbours) and between all
    /// pairs of units: an ordered map has the first far below the second.
    /// </summary>
    internal static (double Neighbour, double RandomPair) Topology(double[] map)
    {
        double Dist(int a, int b) =>
            Math.Sqrt(Enumerable.Range(0, 3).Sum(c => (map[a * 3 + c] - map[b * 3 + c]) * (map[a * 3 + c] - map[b * 3 + c])));
        double near = 0, all = 0;
        int nearCount = 0, allCount = 0;
        for (var r = 0; r < Rows; r++)
            for (var c = 0; c < Cols; c++)
            {
                var u = r * Cols + c;
                if (c + 1 < Cols) { near += Dist(u, u + 1); nearCount++; }
                if (r + 1 < Rows) { near += Dist(u, u + Cols); nearCount++; }
            }
        for (var a = 0; a < Units; a++)
            for (var b = a + 1; b < Units; b++) { all += Dist(a, b); allCount++; }
        return (near / nearCount, all / allCount);
    }

    /// <summary>The map [900, 3] as a 30×30 RGB image, each unit a <see cref="Scale"/>×<see cref="Scale"/> block.</summary>
    internal static string SaveMap(Tensor map, string path)
    {
        var rgb = map.ToDoubleArray();
        using var bitmap = new SKBitmap(Cols * Scale, Rows * Scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        static byte Byte(double v) => (byte)Math.Round(255 * (double.IsNaN(v) ? 0 : Math.Clamp(v, 0, 1)));
        for (var r = 0; r < Rows; r++)
            for (var c = 0; c < Cols; c++)
            {
                var u = (r * Cols + c) * 3;
                var colour = new SKColor(Byte(rgb[u]), Byte(rgb[u + 1]), Byte(rgb[u + 2]));
                for (var dy = 0; dy < Scale; dy++)
                    for (var dx = 0; dx < Scale; dx++)
                        bitmap.SetPixel(c * Scale + dx, r * Scale + dy, colour);
            }
        return ImageGrid.SavePng(bitmap, path);
    }

    private static string SaveCurve(double[] epochs, double[] qe, string path)
    {
        var plot = new Plot();
        var line = plot.Add.Scatter(epochs, qe);
        line.LegendText = "quantisation error";
        line.LineWidth = 2;
        line.MarkerSize = qe.Length <= 30 ? 5 : 0;
        plot.Title("W22 SOM: quantisation error (mean distance of a colour to its BMU)");
        plot.XLabel("epoch");
        plot.YLabel("quantisation error");
        plot.ShowLegend(Alignment.UpperRight);
        return LossCurve.SavePng(plot, path, 800, 500);
    }
}
