using Nabla.Data;
using ScottPlot;

namespace Nabla.Samples.Plots;

/// <summary>A 2-D map of word vectors: their projection on the two leading principal components, labelled.</summary>
internal static class WordMap
{
    /// <summary>Projects the unit vectors of the <paramref name="words"/> that have one and saves the labelled scatter plot.</summary>
    /// <exception cref="ArgumentException">Fewer than three of the words have vectors.</exception>
    public static string Save(WordVectors vectors, IEnumerable<string> words, string path, string title)
    {
        var present = words.Where(vectors.Contains).ToArray();
        if (present.Length < 3) throw new ArgumentException($"a PCA map needs at least three words with vectors; got {present.Length}", nameof(words));
        var points = Project(present.Select(vectors.UnitVector).ToArray());
        var plot = new Plot();
        for (var i = 0; i < present.Length; i++)
        {
            var marker = plot.Add.Marker(points[i].X, points[i].Y);
            marker.MarkerSize = 6;
            var label = plot.Add.Text(present[i], points[i].X, points[i].Y);
            label.LabelFontSize = 13;
        }
        plot.Title(title);
        plot.XLabel("principal component 1");
        plot.YLabel("principal component 2");
        return LossCurve.SavePng(plot, path, 900, 700);
    }

    /// <summary>
    /// Coordinates of the centred rows on the two leading eigenvectors of their covariance, found by power
    /// iteration with deflation (the matrix is D × D with D ≈ 100, so this is exact enough and instant).
    /// </summary>
    internal static (double X, double Y)[] Project(double[][] rows)
    {
        var n = rows.Length;
        var d = rows[0].Length;
        var mean = new double[d];
        foreach (var r in rows) for (var j = 0; j < d; j++) mean[j] += r[j] / n;
        var centred = rows.Select(r => r.Select((x, j) => x - mean[j]).ToArray()).ToArray();
        var cov = new double[d, d];
        foreach (var r in centred)
            for (var a = 0; a < d; a++)
                for (var b = 0; b < d; b++) cov[a, b] += r[a] * r[b];
        var pc1 = LeadingEigenvector(cov, d);
        var lambda = Quadratic(cov, pc1, d);
        for (var a = 0; a < d; a++)
            for (var b = 0; b < d; b++) cov[a, b] -= lambda * pc1[a] * pc1[b];
        var pc2 = LeadingEigenvector(cov, d);
        return centred.Select(r => (Dot(r, pc1), Dot(r, pc2))).ToArray();
    }

    private static double[] LeadingEigenvector(double[,] m, int d)
    {
        var v = Enumerable.Range(0, d).Select(i => 1.0 + 0.01 * i).ToArray(); // deterministic start, not orthogonal to anything in practice
        for (var iter = 0; iter < 500; iter++)
        {
            var next = new double[d];
            for (var a = 0; a < d; a++)
                for (var b = 0; b < d; b++) next[a] += m[a, b] * v[b];
            var norm = Math.Sqrt(Dot(next, next));
            if (norm == 0) return v;
            for (var a = 0; a < d; a++) next[a] /= norm;
            v = next;
        }
        return v;
    }

    private static double Quadratic(double[,] m, double[] v, int d)
    {
        var s = 0.0;
        for (var a = 0; a < d; a++)
            for (var b = 0; b < d; b++) s += v[a] * m[a, b] * v[b];
        return s;
    }

    private static double Dot(double[] a, double[] b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
