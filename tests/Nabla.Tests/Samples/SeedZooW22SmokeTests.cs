using System.Globalization;
using NUnit.Framework;
using Nabla.Samples;
using SkiaSharp;

namespace Nabla.Tests.Samples;

/// <summary>
/// W22, the self-organising map, run in-process in --quick mode (300 colours, 30 epochs, one colour per
/// update: a few seconds): the map must quantise the colours better as it trains, end up ordered
/// (adjacent units of similar colour), and write its PNGs and CSV.
/// </summary>
public sealed class SeedZooW22SmokeTests
{
    private string _out = null!;

    [SetUp]
    public void CreateOutputFolder() => _out = Directory.CreateTempSubdirectory("nabla-w22-").FullName;

    [TearDown]
    public void DeleteOutputFolder() => Directory.Delete(_out, recursive: true);

    [Test]
    public void QuickRunOrdersTheMapAndLowersTheQuantisationError()
    {
        var result = W22SelfOrganisingMap.Run(new SampleOptions(W22SelfOrganisingMap.Name, Out: _out, Quick: true));
        var m = result.Metrics;

        // Epoch 1 (σ = 15) pulls the whole map towards the mean colour (error ≈ 0.3, the mean distance
        // of uniform colours to their centre is ≈ 0.48); as σ shrinks the units spread over the colours
        // again. The quick run ends near 0.08; half of epoch 1's figure leaves room for seeds and rounding.
        Assert.That(result.Epochs, Is.EqualTo(30));
        Assert.That(m["first_quantisation_error"], Is.InRange(0.15, 0.45));
        Assert.That(m["quantisation_error"], Is.LessThan(0.5 * m["first_quantisation_error"]));

        // Ordered: adjacent units are close in colour, far closer than two units picked at random
        // (≈ 0.05 against ≈ 0.57 in the quick run). An unordered map has the two about equal.
        Assert.That(m["random_pair_distance"], Is.GreaterThan(0.3));
        Assert.That(m["neighbour_distance"], Is.LessThan(0.25 * m["random_pair_distance"]));

        var rows = File.ReadAllLines(Path.Combine(_out, "history.csv"));
        Assert.That(rows[0], Is.EqualTo("epoch,quantisation_error,learning_rate,radius"));
        Assert.That(rows, Has.Length.EqualTo(31), "a header and one row per epoch");
        var last = rows[^1].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.That(last[0], Is.EqualTo(30));
        Assert.That(last[1], Is.EqualTo(m["quantisation_error"]).Within(1e-6));
        // Linear decay by 1 − epoch/epochs, read at the start of the last epoch (epoch index 29).
        Assert.That(last[2], Is.EqualTo(W22SelfOrganisingMap.Alpha0 / 30).Within(1e-6));
        Assert.That(last[3], Is.EqualTo(W22SelfOrganisingMap.Sigma0 / 30).Within(1e-5));

        // The PNGs hold the maps: sampled block by block, the trained map is as ordered as its metric
        // says (bytes round each channel by ≤ 1/510), and the random initial map is not ordered.
        var side = W22SelfOrganisingMap.Rows * W22SelfOrganisingMap.Scale;
        var (afterNear, afterAll) = W22SelfOrganisingMap.Topology(ReadMap(Path.Combine(_out, "map_after.png"), side));
        Assert.That(afterNear, Is.EqualTo(m["neighbour_distance"]).Within(0.005));
        Assert.That(afterAll, Is.EqualTo(m["random_pair_distance"]).Within(0.005));
        var (beforeNear, beforeAll) = W22SelfOrganisingMap.Topology(ReadMap(Path.Combine(_out, "map_before.png"), side));
        Assert.That(beforeNear, Is.GreaterThan(0.8 * beforeAll), "the initial map is uniform noise");
        using var curve = SKBitmap.Decode(Path.Combine(_out, "quantisation_error.png"));
        Assert.That((curve.Width, curve.Height), Is.EqualTo((800, 500)));
    }

    [Test]
    public void CpuAndReferenceBackendsTrainTheSameMap()
    {
        // Five quick epochs on each device: the same float32 ops on the same feeds should pick the same
        // BMUs, so the figures agree up to float32 summation order (1e-4 is ~100× the spread seen).
        var cpu = W22SelfOrganisingMap.Run(new SampleOptions(W22SelfOrganisingMap.Name, Epochs: 5, Out: Path.Combine(_out, "cpu"), Quick: true, Device: Device.Cpu));
        var reference = W22SelfOrganisingMap.Run(new SampleOptions(W22SelfOrganisingMap.Name, Epochs: 5, Out: Path.Combine(_out, "reference"), Quick: true, Device: Device.Reference));
        foreach (var key in new[] { "first_quantisation_error", "quantisation_error", "neighbour_distance", "random_pair_distance" })
            Assert.That(cpu.Metrics[key], Is.EqualTo(reference.Metrics[key]).Within(1e-4), key);
    }

    [Test]
    public void TopologyOfAConstantMapIsZeroAndOfAGradientIsOneStep()
    {
        var constant = Enumerable.Repeat(0.5, W22SelfOrganisingMap.Units * 3).ToArray();
        Assert.That(W22SelfOrganisingMap.Topology(constant), Is.EqualTo((0.0, 0.0)));

        // Red rises by 1/29 per column: horizontal neighbours differ by 1/29, vertical ones by 0.
        var ramp = new double[W22SelfOrganisingMap.Units * 3];
        for (var u = 0; u < W22SelfOrganisingMap.Units; u++) ramp[u * 3] = u % W22SelfOrganisingMap.Cols / 29.0;
        var (near, _) = W22SelfOrganisingMap.Topology(ramp);
        Assert.That(near, Is.EqualTo(0.5 / 29).Within(1e-12), "30·29 horizontal pairs at 1/29 and as many vertical at 0");
    }

    /// <summary>The centre pixel of each unit's block, as [900 · 3] values in [0, 1].</summary>
    private static double[] ReadMap(string path, int side)
    {
        Assert.That(File.Exists(path), Is.True, $"{path} was not written");
        using var bitmap = SKBitmap.Decode(path);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((side, side)));
        var s = W22SelfOrganisingMap.Scale;
        var map = new double[W22SelfOrganisingMap.Units * 3];
        for (var r = 0; r < W22SelfOrganisingMap.Rows; r++)
            for (var c = 0; c < W22SelfOrganisingMap.Cols; c++)
            {
                var p = bitmap.GetPixel(c * s + s / 2, r * s + s / 2);
                var u = (r * W22SelfOrganisingMap.Cols + c) * 3;
                (map[u], map[u + 1], map[u + 2]) = (p.Red / 255.0, p.Green / 255.0, p.Blue / 255.0);
            }
        return map;
    }
}
