using NUnit.Framework;
using Nabla.Layers;
using Nabla.Samples;
using Nabla.Samples.Plots;
using SkiaSharp;

namespace Nabla.Tests.Samples;

/// <summary>
/// The workload samples that need no downloaded data (W4, W6), run in-process in --quick mode, and
/// the samples' plotting helpers. The MNIST / Fashion-MNIST samples are run by hand (README), not here:
/// they take minutes.
/// </summary>
public sealed class SamplesSmokeTests
{
    private string _out = null!;

    [SetUp]
    public void CreateOutputFolder() => _out = Directory.CreateTempSubdirectory("nabla-samples-").FullName;

    [TearDown]
    public void DeleteOutputFolder() => Directory.Delete(_out, recursive: true);

    [Test]
    public void W4QuickFitsTheLeastSquaresLine()
    {
        var result = W4LinearRegression.Run(new SampleOptions(W4LinearRegression.Name, Out: _out, Quick: true));

        // SGD on the MSE converges to the least-squares line of the 10 noisy points, which lies near y = 3x + 2.
        Assert.That(result.Metrics["w"], Is.EqualTo(result.Metrics["least_squares_w"]).Within(0.01));
        Assert.That(result.Metrics["b"], Is.EqualTo(result.Metrics["least_squares_b"]).Within(0.05));
        Assert.That(result.Metrics["w"], Is.EqualTo(W4LinearRegression.TrueW).Within(0.1));
        Assert.That(result.Metrics["b"], Is.EqualTo(W4LinearRegression.TrueB).Within(0.3));
        Assert.That(result.Epochs, Is.EqualTo(500));
        AssertPng(Path.Combine(_out, "loss.png"), 800, 500);
        AssertPng(Path.Combine(_out, "fit.png"), 700, 500);
        Assert.That(File.ReadLines(Path.Combine(_out, "history.csv")).Count(), Is.EqualTo(501), "a header and one row per epoch");
    }

    [Test]
    public void W6QuickReachesTheReconstructionErrorOfPca()
    {
        var result = W6PcaAutoencoder.Run(new SampleOptions(W6PcaAutoencoder.Name, Out: _out, Quick: true));

        // A rank-2 linear map cannot beat PCA (float32 rounding aside), and training should get close to it.
        var pca = result.Metrics["pca_mse"];
        Assert.That(pca, Is.GreaterThan(0));
        Assert.That(result.Metrics["mse"], Is.GreaterThanOrEqualTo(pca * 0.999));
        Assert.That(result.Metrics["mse"], Is.LessThan(pca * 1.5));
        AssertPng(Path.Combine(_out, "codings.png"), 600, 500);
        AssertPng(Path.Combine(_out, "loss.png"), 800, 500);
    }

    [Test]
    public void LeastSquaresAndPcaReferencesAreExactOnKnownData()
    {
        var (w, b) = W4LinearRegression.LeastSquares([0, 1, 2, 3], [1, 3, 5, 7]);
        Assert.That(w, Is.EqualTo(2).Within(1e-12));
        Assert.That(b, Is.EqualTo(1).Within(1e-12));

        // (±1, 0, ±0.1) and (0, ±2, ±0.1): uncorrelated axes with variances 0.5, 2 and 0.01 (1/N), so the
        // best plane leaves 0.01 per point, averaged over 3 coordinates.
        var pts = new float[] { 1, 0, 0.1f, 1, 0, -0.1f, -1, 0, 0.1f, -1, 0, -0.1f, 0, 2, 0.1f, 0, 2, -0.1f, 0, -2, 0.1f, 0, -2, -0.1f };
        Assert.That(W6PcaAutoencoder.PcaReconstructionMse(Tensor.FromArray(pts, 8, 3)), Is.EqualTo(0.01 / 3).Within(1e-7));
    }

    [Test]
    public void ImageGridDrawsEachImageScaledInItsCell()
    {
        var row = new float[2 * 4];
        row[0] = 1f;    // image 0, pixel (0, 0) white
        row[4 + 3] = 2f; // image 1, pixel (1, 1): clamped to white
        var path = ImageGrid.Save(Path.Combine(_out, "grid.png"), [Tensor.FromArray(row, 2, 2, 2)], scale: 3);

        using var bitmap = AssertPng(path, 2 * (2 * 3 + 2) + 2, 2 * 3 + 4);
        Assert.That(bitmap.GetPixel(2, 2).Red, Is.EqualTo(255), "image 0, pixel (0, 0) scaled 3×");
        Assert.That(bitmap.GetPixel(4, 4).Red, Is.EqualTo(255));
        Assert.That(bitmap.GetPixel(5, 5).Red, Is.EqualTo(0), "image 0, pixel (1, 1) is black");
        Assert.That(bitmap.GetPixel(10 + 3, 2 + 3).Red, Is.EqualTo(255), "image 1, pixel (1, 1)");
        Assert.That(bitmap.GetPixel(0, 0).Red, Is.EqualTo(90), "the gap between images is grey");
    }

    [Test]
    public void ImageGridRejectsWhatIsNotABatchOfImages()
    {
        Assert.Throws<ArgumentException>(() => ImageGrid.Save(Path.Combine(_out, "a.png"), []));
        Assert.Throws<ArgumentException>(() => ImageGrid.Save(Path.Combine(_out, "b.png"), [Tensor.Zeros(new Shape(2, 5))]));
        Assert.Throws<ArgumentException>(() => ImageGrid.Save(Path.Combine(_out, "c.png"), [Tensor.Zeros(new Shape(1, 2, 2)), Tensor.Zeros(new Shape(1, 3, 3))]));
    }

    [Test]
    public void LossCurveNeedsALoss() =>
        Assert.Throws<ArgumentException>(() => LossCurve.Save(new History(), Path.Combine(_out, "loss.png")));

    [Test]
    public void OptionsRejectNonPositiveEpochsAndBatchSizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SampleOptions("x", Epochs: 0).EpochsOr(10, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SampleOptions("x", BatchSize: -1).BatchSizeOr(32));
        Assert.That(new SampleOptions("x", Quick: true).EpochsOr(10, 2), Is.EqualTo(2));
        Assert.That(new SampleOptions("x", Epochs: 7, Quick: true).EpochsOr(10, 2), Is.EqualTo(7));
    }

    /// <summary>Checks the PNG signature and that the file decodes to the expected size; returns the decoded bitmap.</summary>
    private static SKBitmap AssertPng(string path, int width, int height)
    {
        Assert.That(File.Exists(path), Is.True, $"{path} was not written");
        var head = File.ReadAllBytes(path).Take(8).ToArray();
        Assert.That(head, Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }), $"{path} is not a PNG");
        var bitmap = SKBitmap.Decode(path);
        Assert.That(bitmap, Is.Not.Null, $"{path} does not decode");
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((width, height)));
        return bitmap;
    }
}
