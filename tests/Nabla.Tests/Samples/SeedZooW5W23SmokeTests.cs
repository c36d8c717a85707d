using NUnit.Framework;
using Nabla.Samples;
using SkiaSharp;

namespace Nabla.Tests.Samples;

/// <summary>
/// The W5 (logistic regression as a TF1 graph) and W23 (RBM by contrastive divergence) samples, run
/// in-process in --quick mode on the first 6,000 MNIST training and 1,000 test images. The floors are
/// far from what a run reaches and far from what a broken one would (chance, an untrained model).
/// </summary>
[Category("Data")]
public sealed class SeedZooW5W23SmokeTests
{
    private string _out = null!;

    [SetUp]
    public void CreateOutputFolder() => _out = Directory.CreateTempSubdirectory("nabla-w5w23-").FullName;

    [TearDown]
    public void DeleteOutputFolder() => Directory.Delete(_out, recursive: true);

    [Test]
    public void W5QuickLearnsAWellAboveChanceClassifierInTenSteps()
    {
        var result = W5LogisticRegression.Run(new SampleOptions(W5LogisticRegression.Name, Out: _out, Quick: true));

        // Ten full-batch steps on 6,000 images reach about 0.81 on the 1,000 test images; chance is 0.1,
        // and the zero-initialised model's loss is ln 10 ≈ 2.303.
        Assert.That(result.Epochs, Is.EqualTo(10));
        Assert.That(result.Metrics["test_accuracy"], Is.GreaterThan(0.7));
        Assert.That(result.Metrics["test_loss"], Is.LessThan(1.2));
        var rows = ReadCsv(Path.Combine(_out, "history.csv"), "epoch,loss,val_accuracy,val_loss", 10);
        Assert.That(rows[0]["loss"], Is.EqualTo(Math.Log(10)).Within(1e-4), "the first batch loss is that of W = 0, b = 0");
        Assert.That(rows[^1]["val_loss"], Is.LessThan(rows[0]["val_loss"]));
        AssertPng(Path.Combine(_out, "loss.png"), 800, 500);
        AssertPng(Path.Combine(_out, "weights.png"), 10 * (28 * 4 + 2) + 2, 28 * 4 + 4);
    }

    [Test]
    public void W23QuickReconstructionErrorFallsEveryEpoch()
    {
        var result = W23Rbm.Run(new SampleOptions(W23Rbm.Name, Out: _out, Quick: true));

        // Before training (W ≈ 0, zero biases) every pixel is reconstructed as 0.5: an error of 0.25.
        // Three CD-1 epochs on 6,000 images bring it to about 0.045 (training) and 0.042 (test).
        Assert.That(result.Epochs, Is.EqualTo(3));
        var rows = ReadCsv(Path.Combine(_out, "history.csv"), "epoch,loss,val_loss", 3);
        for (var e = 1; e < rows.Count; e++)
        {
            Assert.That(rows[e]["loss"], Is.LessThan(rows[e - 1]["loss"]), $"training reconstruction error, epoch {e + 1}");
            Assert.That(rows[e]["val_loss"], Is.LessThan(rows[e - 1]["val_loss"]), $"test reconstruction error, epoch {e + 1}");
        }
        Assert.That(result.Metrics["reconstruction_error"], Is.LessThan(0.07));
        Assert.That(result.Metrics["test_reconstruction_error"], Is.LessThan(0.07));
        AssertPng(Path.Combine(_out, "loss.png"), 800, 500);
        AssertPng(Path.Combine(_out, "filters.png"), 10 * (28 * 2 + 2) + 2, 10 * (28 * 2 + 2) + 2);
        AssertPng(Path.Combine(_out, "reconstructions.png"), 10 * (28 * 3 + 2) + 2, 2 * (28 * 3 + 2) + 2);
    }

    [Test]
    public void W23CdKIsSeededAndLearns()
    {
        // CD-2 for one epoch, twice: the graph's seeded draws make the runs identical.
        var options = new SampleOptions(W23Rbm.Name, Epochs: 1, Out: _out, Quick: true);
        var first = W23Rbm.Run(options, k: 2);
        var second = W23Rbm.Run(options, k: 2);
        Assert.That(second.Metrics["reconstruction_error"], Is.EqualTo(first.Metrics["reconstruction_error"]));
        Assert.That(first.Metrics["test_reconstruction_error"], Is.LessThan(0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => W23Rbm.Run(options, k: 0));
    }

    /// <summary>Reads a CSV log, checking its header and row count; one dictionary per row.</summary>
    private static List<Dictionary<string, double>> ReadCsv(string path, string header, int rows)
    {
        var lines = File.ReadAllLines(path);
        Assert.That(lines[0], Is.EqualTo(header));
        Assert.That(lines, Has.Length.EqualTo(rows + 1), "a header and one row per epoch");
        var names = header.Split(',');
        return lines.Skip(1).Select(l => names.Zip(l.Split(','), (n, v) => (n, double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)))
            .ToDictionary(p => p.n, p => p.Item2)).ToList();
    }

    private static void AssertPng(string path, int width, int height)
    {
        Assert.That(File.Exists(path), Is.True, $"{path} was not written");
        using var bitmap = SKBitmap.Decode(path);
        Assert.That(bitmap, Is.Not.Null, $"{path} does not decode");
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((width, height)), path);
    }
}
