using SkiaSharp;

namespace Nabla.Samples.Plots;

/// <summary>A confusion matrix drawn as shaded cells with their counts (rows: true class, columns: predicted class).</summary>
internal static class ConfusionPlot
{
    /// <summary>Saves the matrix <paramref name="counts"/> [true, predicted] with class <paramref name="labels"/>; returns the full path.</summary>
    /// <exception cref="ArgumentException">The matrix is not square or does not match the labels.</exception>
    public static string Save(string path, string title, IReadOnlyList<string> labels, int[,] counts)
    {
        var n = labels.Count;
        if (counts.GetLength(0) != n || counts.GetLength(1) != n)
            throw new ArgumentException($"a {counts.GetLength(0)}×{counts.GetLength(1)} matrix for {n} labels", nameof(counts));
        const int cell = 140, left = 110, top = 80;
        using var bitmap = new SKBitmap(left + n * cell + 30, top + n * cell + 40, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 18);
        using var small = new SKFont(SKTypeface.Default, 15);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
        canvas.DrawText(title, 10, 26, SKTextAlign.Left, font, ink);
        canvas.DrawText("predicted →", left + n * cell / 2f, top - 28, SKTextAlign.Center, small, ink);
        var max = Math.Max(1, counts.Cast<int>().Max());
        for (var r = 0; r < n; r++)
        {
            canvas.DrawText(labels[r], left - 12, top + r * cell + cell / 2f + 6, SKTextAlign.Right, font, ink);
            for (var c = 0; c < n; c++)
            {
                if (r == 0) canvas.DrawText(labels[c], left + c * cell + cell / 2f, top - 8, SKTextAlign.Center, font, ink);
                var shade = (byte)(235 - 185 * counts[r, c] / max);
                using var fill = new SKPaint { Color = new SKColor(shade, shade, 255) };
                canvas.DrawRect(left + c * cell, top + r * cell, cell - 2, cell - 2, fill);
                canvas.DrawText(counts[r, c].ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                    left + c * cell + cell / 2f, top + r * cell + cell / 2f + 6, SKTextAlign.Center, font, shade < 140 ? white : ink);
            }
        }
        canvas.DrawText("true ↓", 10, top + n * cell + 25, SKTextAlign.Left, small, ink);
        return ImageGrid.SavePng(bitmap, path);
    }
}
