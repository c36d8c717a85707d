using NUnit.Framework;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Layers;

public sealed class WeightsTests : KerasTestBase
{
    private string _dir = "";

    [SetUp]
    public void TempDir() => _dir = Directory.CreateTempSubdirectory("nabla-weights-").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private static Sequential Mlp() => new([new Dense(8, "relu", inputShape: [5]), new Dropout(0.3), new Dense(3, "softmax")]);

    [Test]
    public void SaveThenLoadGivesIdenticalPredictions()
    {
        var (x, y) = Blobs(64, 5, 3);
        var model = Mlp();
        model.Compile(new SGD(0.1), new SparseCategoricalCrossentropy());
        model.Fit(x, y, epochs: 2, verbose: 0);
        var path = Path.Combine(_dir, "mlp.safetensors");
        model.SaveWeights(path);
        var expected = model.Predict(x).ToArray<float>();

        // A fresh graph: same architecture, new weights, then loaded.
        Keras.ClearSession();
        Keras.SetRandomSeed(99);
        var other = Mlp();
        Assert.That(other.Predict(x).ToArray<float>(), Is.Not.EqualTo(expected));
        other.LoadWeights(path);
        Assert.That(other.Predict(x).ToArray<float>(), Is.EqualTo(expected));
    }

    [Test]
    public void LoadsByPositionWhenLayerNamesDiffer()
    {
        var model = Mlp();
        var path = Path.Combine(_dir, "w.safetensors");
        model.SaveWeights(path);
        var x = Tensor.RandomNormal(new Shape(4, 5), seed: 3);
        var expected = model.Predict(x).ToArray<float>();
        var renamed = Mlp(); // same thread and graph: its layers are dense_2 / dense_3
        Assert.That(renamed.Layers[0].Name, Is.Not.EqualTo(model.Layers[0].Name));
        renamed.LoadWeights(path);
        Assert.That(renamed.Predict(x).ToArray<float>(), Is.EqualTo(expected));
    }

    [Test]
    public void CorruptedOrTruncatedFilesAreRejectedAndLeaveTheModelUnchanged()
    {
        var model = Mlp();
        var path = Path.Combine(_dir, "w.safetensors");
        model.SaveWeights(path);
        var target = Mlp();
        var x = Tensor.RandomNormal(new Shape(4, 5), seed: 3);
        var before = target.Predict(x).ToArray<float>();
        var bytes = File.ReadAllBytes(path);

        var truncated = Path.Combine(_dir, "truncated.safetensors");
        File.WriteAllBytes(truncated, bytes[..^7]);
        Assert.Throws<CheckpointException>(() => target.LoadWeights(truncated));

        var flipped = Path.Combine(_dir, "flipped.safetensors");
        var copy = (byte[])bytes.Clone();
        copy[^3] ^= 0x40;
        File.WriteAllBytes(flipped, copy);
        var e = Assert.Throws<CheckpointException>(() => target.LoadWeights(flipped))!;
        Assert.That(e.Message, Does.Contain("flipped.safetensors"));

        var wrongModel = new Sequential([new Dense(4, inputShape: [5])]);
        Assert.Throws<CheckpointException>(() => wrongModel.LoadWeights(path));
        Assert.That(target.Predict(x).ToArray<float>(), Is.EqualTo(before), "failed loads must not change any weight");
    }

    [Test]
    public void ModelCheckpointSavesOnlyImprovements()
    {
        var (x, y) = Blobs(64, 5, 3);
        var model = Mlp();
        model.Compile(new SGD(0.1), new SparseCategoricalCrossentropy(), "accuracy");
        var checkpoint = new ModelCheckpoint(Path.Combine(_dir, "best-{epoch:02d}.safetensors"), monitor: "loss", saveBestOnly: true);
        var all = new ModelCheckpoint(Path.Combine(_dir, "e{epoch}-{loss:.3f}.safetensors"), monitor: "loss");
        var h = model.Fit(x, y, epochs: 4, verbose: 0, callbacks: [checkpoint, all]);
        Assert.That(all.Saved, Has.Count.EqualTo(4));
        Assert.That(Path.GetFileName(all.Saved[0]), Is.EqualTo($"e1-{h["loss"][0].ToString("F3", System.Globalization.CultureInfo.InvariantCulture)}.safetensors"));
        var improving = Enumerable.Range(0, 4).Where(i => h["loss"][i] < h["loss"].Take(i).DefaultIfEmpty(double.PositiveInfinity).Min()).ToArray();
        Assert.That(checkpoint.Saved.Select(Path.GetFileName), Is.EqualTo(improving.Select(i => $"best-{i + 1:D2}.safetensors")));
        Assert.That(checkpoint.Best, Is.EqualTo(h["loss"].Min()));
    }

    [Test]
    public void GetAndSetWeightsRoundTrip()
    {
        var model = Mlp();
        var w = model.GetWeights();
        Assert.That(w.Select(t => t.Shape), Is.EqualTo(new[] { new Shape(5, 8), new Shape(8), new Shape(8, 3), new Shape(3) }));
        var zeros = w.Select(t => Tensor.Zeros(t.Shape)).ToArray();
        model.SetWeights(zeros);
        Assert.That(model.Predict(Tensor.Ones(new Shape(2, 5))).ToArray<float>(), Is.All.EqualTo(1f / 3).Within(1e-7));
        Assert.Throws<ArgumentException>(() => model.SetWeights(zeros.Take(3).ToArray()));
    }
}
