using Nabla.Layers;
using Nabla.Samples;

namespace Nabla.Tests.Onnx;

/// <summary>
/// One exportable model: how to build it (in a fresh Keras graph), its per-sample input shapes and, where random
/// normal floats will not do (token ids, masked steps), how to make input <c>index</c> at a batch size from a seed.
/// </summary>
public sealed record OnnxCase(string Name, Func<Model> Build, int[][] InputShapes, Func<int, int, ulong, Tensor>? MakeInput = null)
{
    /// <summary>Input <paramref name="index"/> of the case at <paramref name="batch"/>.</summary>
    public Tensor Input(int batch, int index, ulong seed) =>
        MakeInput?.Invoke(batch, index, seed) ?? OnnxTestSupport.Input(batch, InputShapes[index], seed);

    /// <summary>All inputs at <paramref name="batch"/> (seeds 100·batch + i).</summary>
    public Tensor[] Inputs(int batch) => InputShapes.Select((_, i) => Input(batch, i, (ulong)(100 * batch + i))).ToArray();

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>
/// Every layer type that exists on main, each in a small model (and its notable settings), plus the sample models
/// W2, W7, W8, W12 and LeNet (W17). The export, round-trip and checker tests all run over this table.
/// </summary>
internal static class OnnxCases
{
    private static OnnxCase Seq(string name, int[] input, params Func<Layer>[] layers) =>
        new(name, () => new Sequential([new InputLayer(input), .. layers.Select(l => l())], name.Replace(' ', '_')), [input]);

    private static OnnxCase Functional(string name, int[][] inputs, Func<KerasTensor[], KerasTensor> body) =>
        FunctionalMulti(name, inputs, xs => [body(xs)]);

    private static OnnxCase FunctionalMulti(string name, int[][] inputs, Func<KerasTensor[], KerasTensor[]> body) =>
        new(name, () =>
        {
            var xs = inputs.Select(s => Keras.Input(s)).ToArray();
            return new Model(xs, body(xs));
        }, inputs);

    /// <summary>
    /// Token ids [batch, steps] in 1..vocabulary−1 with 0 (padding, masked by Embedding(maskZero)) placed so every
    /// kind of mask occurs: row 0 padded at the front (Keras's default), row 1 at the back, row 2 with holes inside,
    /// row 3 fully padded, row 4 not padded, then random again.
    /// </summary>
    public static Tensor TokenIds(int batch, int steps, int vocabulary, ulong seed)
    {
        var rng = new Random((int)seed);
        var ids = new int[batch * steps];
        for (var b = 0; b < batch; b++)
            for (var t = 0; t < steps; t++)
            {
                var pad = (b % 6) switch
                {
                    0 => t < steps / 2,
                    1 => t >= steps - 2,
                    2 => t % 3 == 1,
                    3 => true,
                    4 => false,
                    _ => rng.Next(3) == 0,
                };
                ids[b * steps + t] = pad ? 0 : rng.Next(1, vocabulary);
            }
        return Tensor.FromArray(ids, batch, steps);
    }

    /// <summary>Random features [batch, steps, features] whose masked steps (same pattern as <see cref="TokenIds"/>) are all 0, for Masking.</summary>
    private static Tensor MaskedFeatures(int batch, int steps, int features, ulong seed)
    {
        var ids = TokenIds(batch, steps, 2, seed).ToArray<int>();
        var x = Tensor.RandomNormal(new Shape(batch, steps, features), 0, 1, seed).ToArray<float>();
        for (var i = 0; i < x.Length; i++)
            if (ids[i / features] == 0) x[i] = 0;
        return Tensor.FromArray(x, batch, steps, features);
    }

    private static OnnxCase Tokens(string name, int steps, int vocabulary, params Func<Layer>[] layers) =>
        new(name, () => new Sequential([new InputLayer([steps], DType.Int32), .. layers.Select(l => l())], name.Replace(' ', '_')),
            [[steps]], (batch, _, seed) => TokenIds(batch, steps, vocabulary, seed));

    /// <summary>The recurrent layers and their wrappers: one ONNX RNN/LSTM/GRU node each without a mask, unrolled with one.</summary>
    public static IEnumerable<OnnxCase> Recurrent()
    {
        yield return Seq("SimpleRNN last", [6, 3], () => new SimpleRNN(4));
        yield return Seq("SimpleRNN sequences go_backwards", [6, 3], () => new SimpleRNN(4, returnSequences: true, goBackwards: true));
        yield return Seq("LSTM last", [6, 3], () => new LSTM(5));
        yield return Seq("LSTM sequences no bias", [5, 3], () => new LSTM(4, returnSequences: true, useBias: false));
        yield return Seq("LSTM go_backwards sequences", [6, 2], () => new LSTM(3, returnSequences: true, goBackwards: true));
        yield return FunctionalMulti("LSTM return_state", [[6, 3]], xs => new LSTM(4, returnState: true).ApplyMulti(xs[0]));
        yield return Functional("LSTM initial state", [[6, 3], [4], [4]], xs => new LSTM(4, returnSequences: true).Apply(xs));
        yield return Seq("GRU reset_after", [6, 3], () => new GRU(4));
        yield return Seq("GRU reset_before sequences", [6, 3], () => new GRU(4, returnSequences: true, resetAfter: false));
        yield return Seq("GRU go_backwards reset_before", [5, 2], () => new GRU(3, goBackwards: true, resetAfter: false));
        yield return Functional("GRU initial state go_backwards", [[6, 3], [4]], xs => new GRU(4, goBackwards: true).Apply(xs));
        yield return Seq("Bidirectional LSTM concat sequences", [6, 3], () => new Bidirectional(new LSTM(4, returnSequences: true)));
        yield return Seq("Bidirectional GRU sum", [6, 3], () => new Bidirectional(new GRU(4), "sum"));
        yield return Seq("Stacked LSTM TimeDistributed", [6, 3], () => new LSTM(5, returnSequences: true), () => new LSTM(4, returnSequences: true), () => new TimeDistributed(new Dense(2, "sigmoid")));
        yield return Seq("RepeatVector SimpleRNN", [4], () => new RepeatVector(3), () => new SimpleRNN(2, returnSequences: true));
        yield return Seq("Permute", [3, 4, 2], () => new Permute([2, 3, 1]));
        yield return Tokens("Embedding", 5, 9, () => new Embedding(9, 4));
        yield return Tokens("Embedding masked LSTM", 7, 11, () => new Embedding(11, 4, maskZero: true), () => new LSTM(3));
        yield return Tokens("Embedding masked LSTM sequences go_backwards", 7, 11, () => new Embedding(11, 4, maskZero: true), () => new LSTM(3, returnSequences: true, goBackwards: true));
        yield return Tokens("Embedding masked GRU reset_after", 6, 11, () => new Embedding(11, 4, maskZero: true), () => new GRU(3, returnSequences: true));
        yield return Tokens("Embedding masked GRU reset_before go_backwards", 6, 11, () => new Embedding(11, 4, maskZero: true), () => new GRU(3, goBackwards: true, resetAfter: false));
        yield return Tokens("Embedding masked SimpleRNN", 6, 11, () => new Embedding(11, 4, maskZero: true), () => new SimpleRNN(3, returnSequences: true));
        yield return Tokens("Embedding masked Bidirectional LSTM", 6, 11, () => new Embedding(11, 4, maskZero: true), () => new Bidirectional(new LSTM(3, returnSequences: true)), () => new LSTM(2));
        yield return new("Masking GRU", () => new Sequential([new InputLayer([6, 3]), new Masking(), new GRU(4, returnSequences: true)], "masking_gru"),
            [[6, 3]], (batch, _, seed) => MaskedFeatures(batch, 6, 3, seed));
    }

    public static IEnumerable<OnnxCase> Layers()
    {
        foreach (var a in Activations.Names.Order(StringComparer.Ordinal))
            yield return Seq($"Dense {a}", [5], () => new Dense(4, a));
        yield return Seq("Dense no bias rank 3", [3, 5], () => new Dense(4, useBias: false));
        yield return Seq("Activation tanh", [6], () => new Activation("tanh"));
        yield return Seq("LeakyReLU", [6], () => new LeakyReLU(0.1));
        yield return Seq("ReLU default", [6], () => new ReLU());
        yield return Seq("ReLU max threshold slope", [6], () => new ReLU(maxValue: 0.7, negativeSlope: 0.1, threshold: 0.2));
        yield return Seq("ReLU threshold", [6], () => new ReLU(threshold: 0.3));
        yield return Seq("ELU", [6], () => new ELU(0.7));
        yield return Seq("Softmax last", [3, 4], () => new Softmax());
        yield return Seq("Softmax axis 1", [3, 4], () => new Softmax(axis: 1));
        yield return Seq("Flatten", [2, 3, 2], () => new Flatten());
        yield return Seq("Reshape", [12], () => new Reshape([3, -1]));
        yield return Seq("Dropout GaussianNoise ActivityRegularization", [6], () => new Dropout(0.5), () => new GaussianNoise(0.3), () => new ActivityRegularization(0.1, 0.1), () => new Dense(3));
        yield return Seq("SpatialDropout2D", [4, 4, 3], () => new SpatialDropout2D(0.5), () => new Conv2D(2, 3));
        yield return Seq("Lambda", [6], () => new Lambda(x => x.Graph.Sqrt(x.Graph.Square(x) + 1.0)));
        yield return Functional("Add", [[5], [5], [5]], xs => new Nabla.Layers.Add().Apply(xs));
        yield return Functional("Concatenate", [[3, 2], [3, 4]], xs => new Concatenate().Apply(xs));
        yield return Functional("Concatenate axis 1", [[3, 2], [1, 2]], xs => new Concatenate(axis: 1).Apply(xs));
        yield return Seq("Conv1D valid", [9, 3], () => new Conv1D(4, 3));
        yield return Seq("Conv1D same stride 2", [9, 3], () => new Conv1D(4, 3, strides: 2, padding: "same", activation: "relu"));
        yield return Seq("Conv1D causal dilation 2", [9, 3], () => new Conv1D(2, 3, padding: "causal", dilationRate: 2));
        yield return Seq("Conv2D valid", [7, 6, 3], () => new Conv2D(4, 3));
        yield return Seq("Conv2D same stride 2", [7, 6, 2], () => new Conv2D(3, [3, 2], strides: [2, 2], padding: "same", activation: "relu"));
        yield return Seq("Conv2D dilation 2", [9, 8, 2], () => new Conv2D(3, 3, dilationRate: [2, 2], padding: "same"));
        yield return Seq("Conv2D 1x1 no bias", [4, 4, 5], () => new Conv2D(2, 1, useBias: false));
        yield return Seq("Conv2DTranspose valid stride 2", [3, 4, 2], () => new Conv2DTranspose(3, 3, strides: [2, 2]));
        yield return Seq("Conv2DTranspose same stride 2", [3, 4, 2], () => new Conv2DTranspose(3, 3, strides: [2, 2], padding: "same", activation: "relu"));
        yield return Seq("Conv2DTranspose output padding", [3, 3, 2], () => new Conv2DTranspose(2, 3, strides: [2, 2], outputPadding: [1, 1]));
        yield return Seq("Conv2DTranspose stride 1", [4, 4, 2], () => new Conv2DTranspose(2, [2, 3], padding: "same"));
        yield return Seq("MaxPooling2D valid", [5, 6, 2], () => new MaxPooling2D());
        yield return Seq("MaxPooling2D same odd", [5, 7, 2], () => new MaxPooling2D([3, 3], [2, 2], "same"));
        yield return Seq("AveragePooling2D valid", [6, 6, 2], () => new AveragePooling2D([3, 2]));
        yield return Seq("AveragePooling2D same odd", [5, 7, 2], () => new AveragePooling2D([3, 3], [2, 2], "same"));
        yield return Seq("MaxPooling1D", [7, 3], () => new MaxPooling1D(2));
        yield return Seq("AveragePooling1D same", [7, 3], () => new AveragePooling1D(3, 2, "same"));
        yield return Seq("GlobalAveragePooling2D", [4, 5, 3], () => new GlobalAveragePooling2D());
        yield return Seq("GlobalMaxPooling2D keepdims", [4, 5, 3], () => new GlobalMaxPooling2D(keepDims: true));
        yield return Seq("GlobalAveragePooling1D", [6, 3], () => new GlobalAveragePooling1D());
        yield return Seq("GlobalMaxPooling1D", [6, 3], () => new GlobalMaxPooling1D());
        yield return Seq("BatchNormalization rank 2", [5], () => new BatchNormalization());
        yield return Seq("BatchNormalization rank 4", [3, 4, 3], () => new BatchNormalization(epsilon: 1e-2));
        yield return Seq("BatchNormalization rank 3 no center scale", [4, 3], () => new BatchNormalization(center: false, scale: false));
        yield return Seq("UpSampling2D", [3, 2, 2], () => new UpSampling2D([2, 3]));
        yield return Seq("ZeroPadding2D", [3, 4, 2], () => new ZeroPadding2D([1, 2, 0, 3]));
        yield return Seq("Cropping2D", [6, 5, 2], () => new Cropping2D([1, 2, 0, 1]));
    }

    public static IEnumerable<OnnxCase> Samples()
    {
        yield return new("W2 MNIST MLP", () => new Sequential(
        [
            new Dense(128, "relu", inputShape: [784]),
            new Dropout(0.3),
            new Dense(128, "relu"),
            new Dropout(0.3),
            new Dense(10, "softmax"),
        ], "mnist_mlp"), [[784]]);
        yield return new("W7 stacked autoencoder", () =>
        {
            var encoder = new Sequential([new Flatten(inputShape: [28, 28]), new Dense(100, "selu"), new Dense(30, "selu")], "encoder");
            var model = new Sequential([encoder, Autoencoders.Decoder(30)], "stacked_autoencoder");
            model.Build([28, 28]);
            return model;
        }, [[28, 28]]);
        yield return new("W8 conv autoencoder", () =>
        {
            var (encoder, decoder) = W8ConvAutoencoder.Build();
            var model = new Sequential([encoder, decoder], "conv_autoencoder");
            model.Build([28, 28]);
            return model;
        }, [[28, 28]]);
        yield return new("W12 denoising conv autoencoder", () => W12DenoisingConvAutoencoder.Build(), [[28, 28, 1]]);
        yield return new("W17 LeNet", () => W17LeNet.LeNet(), [[28, 28, 1]]);
    }

    /// <summary>The recurrent sample models W9 and W20 (kept out of <see cref="Samples"/>, whose gradient check they would slow down).</summary>
    public static IEnumerable<OnnxCase> RecurrentSamples()
    {
        yield return new("W9 recurrent autoencoder", () =>
        {
            var model = W9RecurrentAutoencoder.Build();
            model.Build([28, 28]);
            return model;
        }, [[28, 28]]);
        yield return new("W20 spam BiLSTM", () => W20SpamBiLstm.Build(), [[W20SpamBiLstm.Length]],
            (batch, _, seed) => TokenIds(batch, W20SpamBiLstm.Length, W20SpamBiLstm.Vocabulary, seed));
    }

    public static IEnumerable<OnnxCase> All() => Layers().Concat(Recurrent()).Concat(Samples()).Concat(RecurrentSamples());
}
