using Nabla.Layers;
using Nabla.Samples;

namespace Nabla.Tests.Onnx;

/// <summary>One exportable model: how to build it (in a fresh Keras graph) and its per-sample input shapes.</summary>
public sealed record OnnxCase(string Name, Func<Model> Build, int[][] InputShapes)
{
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
        new(name, () =>
        {
            var xs = inputs.Select(s => Keras.Input(s)).ToArray();
            return new Model(xs, [body(xs)]);
        }, inputs);

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

    public static IEnumerable<OnnxCase> All() => Layers().Concat(Samples());
}
