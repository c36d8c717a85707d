using Nabla.Optimizers;
using Nabla.Layers;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Layers;

/// <summary>
/// Recurrent layers and their helpers: parameter counts against Keras's model.summary(), the orthogonal initializer,
/// mask propagation from Embedding(mask_zero) through Sequential and functional models, Bidirectional's alignment and
/// merge modes, TimeDistributed / RepeatVector / Permute / Masking values, float64 layer gradients, and a small
/// training run that converges.
/// </summary>
public sealed class RecurrentLayerTests : KerasTestBase
{
    private static long Params(Layer layer, params int[] inputShape)
    {
        var model = new Sequential([layer]);
        model.Build(inputShape);
        return model.CountParams();
    }

    /// <summary>Keras 2.x summary() counts: LSTM 4(64·64 + 64·64 + 64), GRU 3(64·64 + 64·64 + 2·64), SimpleRNN 64·64 + 64·64 + 64.</summary>
    [Test]
    public void ParameterCountsMatchKeras()
    {
        Assert.That(Params(new LSTM(64), 10, 64), Is.EqualTo(33_024));
        Assert.That(Params(new GRU(64), 10, 64), Is.EqualTo(24_960));
        Assert.That(Params(new GRU(64, resetAfter: false), 10, 64), Is.EqualTo(24_768));
        Assert.That(Params(new SimpleRNN(64), 10, 64), Is.EqualTo(8_256));
    }

    /// <summary>W20 (Géron ch. 16's sentiment model): Embedding(5272, 64) → Bidirectional(LSTM(64)) → Dense(64) → Dense(1) has 411,777 parameters.</summary>
    [Test]
    public void W20SentimentModelHas411777Parameters()
    {
        var model = new Sequential([new Embedding(5272, 64, maskZero: true), new Bidirectional(new LSTM(64)), new Dense(64, "relu"), new Dense(1, "sigmoid")]);
        model.Build([20], DType.Int32);
        Assert.That(model.CountParams(), Is.EqualTo(411_777));
        Assert.That(model.Layers[1].CountParams(), Is.EqualTo(66_048));
    }

    [Test]
    public void RecurrentKernelIsOrthogonalAndForgetBiasIsOne()
    {
        var lstm = new LSTM(3);
        var model = new Sequential([lstm]);
        model.Build([4, 2]);
        var weights = model.GetWeights();
        Assert.That(weights.Select(w => w.Shape), Is.EqualTo(new[] { new Shape(2, 12), new Shape(3, 12), new Shape(12) }));
        var r = weights[1].ToDoubleArray();
        // [3, 12]: rows orthonormal (R·Rᵀ = I), as Keras's Orthogonal gives for a wide matrix.
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                Assert.That(Enumerable.Range(0, 12).Sum(k => r[i * 12 + k] * r[j * 12 + k]), Is.EqualTo(i == j ? 1 : 0).Within(1e-6));
        Assert.That(weights[2].ToDoubleArray(), Is.EqualTo(new double[] { 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0 }));
    }

    /// <summary>
    /// Functional model: ids [3, 5, 0, 0] with mask_zero. The LSTM skips the padded steps: its sequence output is 0 there
    /// and the final state is the output of the last real step.
    /// </summary>
    [Test]
    public void EmbeddingMaskReachesTheLstmInAFunctionalModel()
    {
        var input = Keras.Input([4], DType.Int32);
        var outs = new LSTM(3, returnSequences: true, returnState: true).ApplyMulti(new Embedding(10, 2, maskZero: true).Apply(input));
        var model = new Model([input], outs);
        var ys = model.PredictMulti([Tensor.FromArray(new[] { 3, 5, 0, 0, 1, 2, 3, 0 }, 2, 4)]);
        var seq = ys[0].ToDoubleArray();
        var h = ys[1].ToDoubleArray();
        Assert.That(seq.Skip(6).Take(6), Is.All.EqualTo(0.0), "padded steps of row 0");
        Assert.That(seq.Skip(21).Take(3), Is.All.EqualTo(0.0), "padded step of row 1");
        Assert.That(h.Take(3), Is.EqualTo(seq.Skip(3).Take(3)), "row 0's final state is step 1's output");
        Assert.That(h.Skip(3), Is.EqualTo(seq.Skip(18).Take(3)), "row 1's final state is step 2's output");
        Assert.That(seq.Skip(3).Take(3), Is.Not.All.EqualTo(0.0));
    }

    /// <summary>Sequential: the mask passes through Dropout and reaches a Bidirectional(GRU); TimeDistributed keeps it.</summary>
    [Test]
    public void MaskPassesThroughDropoutIntoBidirectionalInASequential()
    {
        var model = new Sequential([new Embedding(10, 3, maskZero: true, inputLength: 5), new Dropout(0.2),
            new Bidirectional(new GRU(2, returnSequences: true)), new TimeDistributed(new Dense(1))]);
        // A Sequential built from inputLength takes float32 ids (as Keras's default input dtype); Embedding casts them.
        var ids = Tensor.FromArray(new float[] { 4, 2, 7, 0, 0 }, 1, 5);
        var y = model.Predict(ids).ToDoubleArray();
        Assert.That(y, Has.Length.EqualTo(5));
        // Masked steps output 0 in both directions, so TimeDistributed(Dense) gives exactly its bias (0 at initialisation).
        Assert.That(y[3], Is.EqualTo(0.0));
        Assert.That(y[4], Is.EqualTo(0.0));
        // The backward direction starts at the last real step, so the real steps do not depend on how much padding follows.
        var shorter = new Sequential([new Embedding(10, 3, maskZero: true, inputLength: 3), new Dropout(0.2),
            new Bidirectional(new GRU(2, returnSequences: true)), new TimeDistributed(new Dense(1))]);
        shorter.SetWeights(model.GetWeights());
        var real = shorter.Predict(Tensor.FromArray(new float[] { 4, 2, 7 }, 1, 3)).ToDoubleArray();
        Assert.That(y.Take(3), Is.EqualTo(real).Within(1e-6));
    }

    /// <summary>A mask made inside a nested model leaves it with the model's output: the padded steps are still skipped after it.</summary>
    [Test]
    public void MaskLeavesANestedModel()
    {
        Sequential Make(int length) => new([new Sequential([new Embedding(10, 2, maskZero: true, inputLength: length)]), new SimpleRNN(3)]);
        var padded = Make(4);
        var y = padded.Predict(Tensor.FromArray(new float[] { 3, 5, 0, 0 }, 1, 4)).ToDoubleArray();
        var plain = Make(2);
        var ids = Tensor.FromArray(new float[] { 3, 5 }, 1, 2);
        plain.Predict(ids); // builds it (a nested first layer gives the outer Sequential no input shape)
        plain.SetWeights(padded.GetWeights());
        Assert.That(y, Is.EqualTo(plain.Predict(ids).ToDoubleArray()).Within(1e-6));
    }

    /// <summary>
    /// Bidirectional with sequences: the backward half at step t has seen x[t..]; so changing x[0] leaves the backward half
    /// of the last step unchanged while the forward half changes (the reversal back lines the steps up).
    /// </summary>
    [Test]
    public void BidirectionalAlignsTheBackwardSequence()
    {
        var model = new Sequential([new Bidirectional(new SimpleRNN(2, returnSequences: true), inputShape: [3, 1])]);
        var a = model.Predict(Tensor.FromArray(new float[] { 0.5f, -1, 2 }, 1, 3, 1)).ToDoubleArray();
        var b = model.Predict(Tensor.FromArray(new float[] { -1.5f, -1, 2 }, 1, 3, 1)).ToDoubleArray();
        // Layout [1, 3, 4]: step t = [fw0, fw1, bw0, bw1].
        Assert.That(b.Skip(10).Take(2), Is.EqualTo(a.Skip(10).Take(2)), "backward half of the last step");
        Assert.That(b.Skip(8).Take(2), Is.Not.EqualTo(a.Skip(8).Take(2)), "forward half of the last step");
        Assert.That(b.Skip(2).Take(2), Is.Not.EqualTo(a.Skip(2).Take(2)), "backward half of the first step");
    }

    [Test]
    public void BidirectionalMergeModes([Values("concat", "sum", "mul", "ave")] string mode)
    {
        var model = new Sequential([new Bidirectional(new LSTM(3), mode, inputShape: [4, 2])]);
        var y = model.Predict(OpHarness.ToFloat32(OpHarness.Uniform([2, 4, 2], -1, 1, 3)));
        Assert.That(y.Shape, Is.EqualTo(new Shape(2, mode == "concat" ? 6 : 3)));
        Assert.Throws<ArgumentException>(() => new Bidirectional(new LSTM(3), "max"));
    }

    [Test]
    public void RepeatVectorPermuteAndMaskingValues()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2);
        var rep = new Sequential([new RepeatVector(3, name: "rep")]).Predict(x);
        Assert.That(rep.Shape, Is.EqualTo(new Shape(2, 3, 2)));
        Assert.That(rep.ToDoubleArray(), Is.EqualTo(new double[] { 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4 }));
        var p = new Sequential([new Permute([2, 1])]).Predict(rep);
        Assert.That(p.Shape, Is.EqualTo(new Shape(2, 2, 3)));
        Assert.That(p.ToDoubleArray().Take(6), Is.EqualTo(new double[] { 1, 1, 1, 2, 2, 2 }));
        // Masking: a step [0, 0] is skipped, before or after the real one, so both give the state after the real step alone.
        var lstm = new LSTM(2);
        var masked = new Sequential([new Masking(0, name: "m"), lstm]);
        var seq = Tensor.FromArray(new float[] { 0.5f, -1, 0, 0 }, 1, 2, 2);
        var first = Tensor.FromArray(new float[] { 0, 0, 0.5f, -1 }, 1, 2, 2);
        Assert.That(masked.Predict(seq).ToDoubleArray(), Is.EqualTo(masked.Predict(first).ToDoubleArray()).Within(1e-6));
        Assert.Throws<ArgumentException>(() => new Permute([1, 3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatVector(0));
    }

    [Test]
    public void InitialStatesAndReturnState()
    {
        var x = Keras.Input(3, 2);
        var h0 = Keras.Input(4);
        var c0 = Keras.Input(4);
        var outs = new LSTM(4, returnState: true).ApplyMulti(x, h0, c0);
        Assert.That(outs, Has.Length.EqualTo(3));
        var model = new Model([x, h0, c0], outs);
        var xv = OpHarness.ToFloat32(OpHarness.Uniform([2, 3, 2], -1, 1, 4));
        var zero = Tensor.Fill(new Shape(2, 4), 0, DType.Float32);
        var one = Tensor.Fill(new Shape(2, 4), 0.5, DType.Float32);
        var withZeros = model.PredictMulti([xv, zero, zero]);
        var withOnes = model.PredictMulti([xv, one, one]);
        Assert.That(withZeros[0].ToDoubleArray(), Is.EqualTo(withZeros[1].ToDoubleArray()), "the output is the final h");
        Assert.That(withOnes[0].ToDoubleArray(), Is.Not.EqualTo(withZeros[0].ToDoubleArray()), "the initial state is used");
        Assert.Throws<NotSupportedException>(() => new GRU(2, stateful: true));
    }

    private static IEnumerable<TestCaseData> GradientCases()
    {
        yield return new TestCaseData((Func<Layer>)(() => new SimpleRNN(3)), new[] { 2, 3, 2 }).SetName("SimpleRNN");
        yield return new TestCaseData((Func<Layer>)(() => new LSTM(2, returnSequences: true)), new[] { 2, 3, 2 }).SetName("LSTM_sequences");
        yield return new TestCaseData((Func<Layer>)(() => new LSTM(1, goBackwards: true)), new[] { 1, 2, 1 }).SetName("LSTM_backwards_size1");
        yield return new TestCaseData((Func<Layer>)(() => new GRU(2)), new[] { 3, 2, 3 }).SetName("GRU_resetAfter");
        yield return new TestCaseData((Func<Layer>)(() => new GRU(2, resetAfter: false, returnSequences: true)), new[] { 2, 3, 1 }).SetName("GRU_resetBefore");
        yield return new TestCaseData((Func<Layer>)(() => new Bidirectional(new LSTM(2, returnSequences: true), "ave")), new[] { 2, 3, 2 }).SetName("Bidirectional_LSTM");
        yield return new TestCaseData((Func<Layer>)(() => new TimeDistributed(new Dense(2, "tanh"))), new[] { 2, 3, 2 }).SetName("TimeDistributed_Dense");
        yield return new TestCaseData((Func<Layer>)(() => new RepeatVector(2)), new[] { 2, 3 }).SetName("RepeatVector");
    }

    [TestCaseSource(nameof(GradientCases))]
    public void GradientsMatchCentralDifferences(Func<Layer> make, int[] shape) =>
        Assert.That(LayerGradientCheck.Run(make(), [new Shape(shape)], training: false), Is.LessThanOrEqualTo(1.0));

    /// <summary>An LSTM learns the sum of 6 numbers in [−1, 1] (a task needing memory over the whole sequence).</summary>
    [Test]
    public void LstmLearnsToSumASequence()
    {
        const int N = 256, T = 6;
        var x = OpHarness.Uniform([N, T, 1], -1, 1, 11).ToDoubleArray();
        var y = new float[N];
        for (var i = 0; i < N; i++) y[i] = (float)Enumerable.Range(0, T).Sum(t => x[i * T + t]);
        Tensor xs = Tensor.FromArray(x.Select(v => (float)v).ToArray(), N, T, 1), ys = Tensor.FromArray(y, N, 1);
        var model = new Sequential([new LSTM(16, inputShape: [T, 1]), new Dense(1)]);
        model.Compile(new Adam(0.02), new MeanSquaredError());
        var before = model.Evaluate(xs, ys)["loss"];
        model.Fit(xs, ys, batchSize: 32, epochs: 40, verbose: 0);
        var after = model.Evaluate(xs, ys)["loss"];
        Assert.That(after, Is.LessThan(before * 0.02), $"MSE {before} → {after}");
    }
}
