using NUnit.Framework;
using Nabla.Samples;

namespace Nabla.Tests.Distribute;

/// <summary>The W3 sample (--quick: 65,536 rows, one epoch, global batch 1,024) under MirroredStrategy and without a strategy.</summary>
[NonParallelizable]
public sealed class W3SampleTests
{
    private string _out = null!;

    [SetUp]
    public void CreateOutputFolder() => _out = Directory.CreateTempSubdirectory("nabla-w3-").FullName;

    [TearDown]
    public void DeleteOutputFolder() => Directory.Delete(_out, recursive: true);

    [Test]
    public void MirroredW3Has193ParamsLearnsAndMatchesOneProcess()
    {
        var options = new SampleOptions(W3DistributedLogistic.Name, Out: _out, Quick: true);
        var mirrored = W3DistributedLogistic.Run(options, "mirrored", replicas: 2);
        var plain = W3DistributedLogistic.Run(options, "none", replicas: 1);
        Assert.That(mirrored.Metrics["params"], Is.EqualTo(W3DistributedLogistic.SeedParams));
        // ln 2 ≈ 0.693 is the loss of guessing; the labels are a linear rule, so one epoch must do better.
        Assert.That(mirrored.Metrics["loss"], Is.LessThan(0.6));
        Assert.That(mirrored.Metrics["accuracy"], Is.GreaterThan(0.75));
        Assert.That(mirrored.Metrics["loss"], Is.EqualTo(plain.Metrics["loss"]).Within(1e-5), "2 replicas and 1 process see the same global batches");
        // 193 parameters, summed where they lie in the arena: the 1-float output bias is padded to 16 floats (64 bytes);
        // the step's logs (loss, accuracy, rows) travel in the same call, padded to 16 floats.
        Assert.That(mirrored.Metrics["allreduce_bytes_per_step"], Is.EqualTo((193 + 15 + 16) * sizeof(float)));
        Assert.That(File.ReadAllLines(Path.Combine(_out, "log.csv")), Has.Length.EqualTo(2));
    }

    [Test]
    public void AnUnknownStrategyIsRejected()
    {
        var options = new SampleOptions(W3DistributedLogistic.Name, Out: _out, Quick: true);
        Assert.That(() => W3DistributedLogistic.Run(options, "parameter-server", 2), Throws.ArgumentException.With.Message.Contains("unknown strategy 'parameter-server'"));
    }
}
