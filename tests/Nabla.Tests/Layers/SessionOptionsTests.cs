using NUnit.Framework;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Layers;

/// <summary>Keras.SessionOptions reach the session that runs the models (CheckNumerics in a Fit, deterministic training).</summary>
public sealed class SessionOptionsTests : KerasTestBase
{
    [TearDown]
    public void RestoreOptions() => Keras.SessionOptions = SessionOptions.Default;

    [Test]
    public void CheckNumericsStopsAFitAtTheFirstNaN()
    {
        Keras.SessionOptions = new SessionOptions { CheckNumerics = true };
        var (x, y) = Blobs(32, 4, 2);
        var bad = x.ToArray<float>();
        bad[5] = float.NaN;
        var model = new Sequential([new Dense(8, "relu", inputShape: [4]), new Dense(2, "softmax")]);
        model.Compile(new Adam(), new SparseCategoricalCrossentropy());
        Assert.That(model.Session.Options.CheckNumerics);
        var before = model.GetWeights().Select(w => w.ToArray<float>()).ToArray();
        var e = Assert.Throws<InvalidArgumentException>(() => model.Fit(Tensor.FromArray(bad, 32, 4), y, batchSize: 32, epochs: 1, verbose: 0, shuffle: false));
        Assert.That(e!.Message, Does.Contain("CheckNumerics found NaN"));
        Assert.That(e.Message, Does.StartWith("MatMul"), "the first op that turned the NaN input into a NaN output is the first layer's product");
        // The optimizer updates come after the failing check, so the step was aborted.
        Assert.That(model.GetWeights().Select(w => w.ToArray<float>()).ToArray(), Is.EqualTo(before));
    }

    [Test]
    public void DeterministicTrainingRepeatsBitForBit()
    {
        float[][] Train()
        {
            Keras.ClearSession();
            Keras.SetRandomSeed(3);
            Keras.SessionOptions = new SessionOptions { Deterministic = true };
            var (x, y) = Blobs(256, 16, 3);
            var model = new Sequential([new Dense(64, "tanh", inputShape: [16]), new Dropout(0.2), new Dense(3, "softmax")]);
            model.Compile(new Adam(), new SparseCategoricalCrossentropy());
            model.Fit(x, y, batchSize: 64, epochs: 3, verbose: 0);
            return model.GetWeights().Select(w => w.ToArray<float>()).ToArray();
        }
        var a = Train();
        var b = Train();
        for (var i = 0; i < a.Length; i++)
            Assert.That(b[i].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(a[i].Select(BitConverter.SingleToInt32Bits)), $"weight {i}");
    }
}
