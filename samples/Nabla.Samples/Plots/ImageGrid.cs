using SkiaSharp;

namespace Nabla.Samples.Plots;

/// <summary>
/// Writes rows of grey images (originals above reconstructions, generated samples, an interpolation)
/// as one PNG. Drawn with SkiaSharp, ScottPlot's renderer, directly: a grid of small images is a
/// bitmap, not a chart.
/// </summary>
internal static class ImageGrid
{
    /// <summary>
    /// Saves <paramref name="rows"/> to <paramref name="path"/>: each row is a tensor [n, h, w] or
    /// [n, h·w] (square images) with values in [0, 1] (clamped), drawn white-on-black at
    /// <paramref name="scale"/>× with a 2-pixel gap.
    /// </summary>
    /// <exception cref="ArgumentException">No rows, a row that is not a batch of images, or rows of different image sizes.</exception>
    public static string Save(string path, IReadOnlyList<Tensor> rows, int scale = 3)
    {
        if (rows.Count == 0) throw new ArgumentException("an image grid needs at least one row", nameof(rows));
        var (h, w) = ImageSize(rows[0]);
        foreach (var r in rows)
            if (ImageSize(r) != (h, w)) throw new ArgumentException($"rows hold images of different sizes: {rows[0].Shape} and {r.Shape}", nameof(rows));
        const int gap = 2;
        var columns = rows.Max(r => r.Shape[0]);
        var width = columns * (w * scale + gap) + gap;
        var height = rows.Count * (h * scale + gap) + gap;

        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(90, 90, 90));
        for (var row = 0; row < rows.Count; row++)
        {
            var pixels = rows[row].ToDoubleArray();
            for (var n = 0; n < rows[row].Shape[0]; n++)
            {
                var left = gap + n * (w * scale + gap);
                var top = gap + row * (h * scale + gap);
                for (var y = 0; y < h; y++)
                    for (var x = 0; x < w; x++)
                    {
                        var v = pixels[(n * h + y) * w + x];
                        var grey = (byte)Math.Round(255 * (double.IsNaN(v) ? 0 : Math.Clamp(v, 0, 1)));
                        var colour = new SKColor(grey, grey, grey);
                        for (var dy = 0; dy < scale; dy++)
                            for (var dx = 0; dx < scale; dx++)
                                bitmap.SetPixel(left + x * scale + dx, top + y * scale + dy, colour);
                    }
            }
        }
        return SavePng(bitmap, path);
    }

    /// <summary>Writes a bitmap as a PNG, creating the folder; returns the full path.</summary>
    internal static string SavePng(SKBitmap bitmap, string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using (var image = SKImage.FromBitmap(bitmap))
        using (var data = image.Encode(SKEncodedImageFormat.Png, 100))
        using (var file = File.Create(full))
            data.SaveTo(file);
        return full;
    }

    private static (int H, int W) ImageSize(Tensor images)
    {
        var s = images.Shape;
        if (s.Rank == 3) return (s[1], s[2]);
        if (s.Rank == 2)
        {
            var side = (int)Math.Round(Math.Sqrt(s[1]));
            if (side * side == s[1]) return (side, side);
        }
        throw new ArgumentException($"expected images [n, h, w] or [n, h·w] with square images, got {s}", nameof(images));
    }
}
