using System.Globalization;
using Nabla.Layers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// Pieces the Fashion-MNIST autoencoder samples (W7, W10, W11, W13) share: the book's "rounded
/// accuracy" metric, the 784-pixel decoder, and the test evaluation with a reconstruction grid.
/// </summary>
internal static class Autoencoders
{
    /// <summary>
    /// Hands-On ML's rounded_accuracy: the fraction of pixels on the same side of 0.5 in the input and
    /// the reconstruction, a readable stand-in for "how close" the binary cross-entropy cannot give.
    /// </summary>
    internal sealed class RoundedAccuracy() : Metric("rounded_accuracy")
    {
        public override Output Call(Output yTrue, Output yPred)
        {
            var g = yPred.Graph;
            var half = g.Scalar(0.5, yPred.DType);
            var same = g.Equal(g.Greater(yTrue, half), g.Greater(yPred, half));
            return g.ReduceMean(g.Cast(same, DType.Float32), -1);
        }
    }

    /// <summary>Decoder of the stacked autoencoders: Dense(100, selu) → Dense(784, sigmoid) → Reshape(28, 28).</summary>
    public static Sequential Decoder(int codings, string name = "decoder") => new(
    [
        new Dense(100, "selu", inputShape: [codings]),
        new Dense(28 * 28, "sigmoid"),
        new Reshape([28, 28]),
    ], name);

    /// <summary>
    /// Evaluates an autoencoder on the test images (input = target), records the loss and rounded
    /// accuracy in <paramref name="result"/> under <paramref name="prefix"/>, and returns the
    /// reconstructions of the first <paramref name="shown"/> test images.
    /// </summary>
    public static Tensor EvaluateOnTest(Model autoencoder, Tensor test, SampleResult result, string prefix = "test", int shown = 10)
    {
        var scores = autoencoder.Evaluate(test, test, batchSize: 500);
        result.Metrics[$"{prefix}_loss"] = scores["loss"];
        if (scores.TryGetValue("rounded_accuracy", out var accuracy)) result.Metrics[$"{prefix}_rounded_accuracy"] = accuracy;
        return autoencoder.Predict(SampleData.Head(test, shown));
    }

    /// <summary>"test binary CE 0.2841, rounded accuracy 0.9312" from the figures <see cref="EvaluateOnTest"/> recorded.</summary>
    public static string Scores(SampleResult result, string prefix = "test") => string.Create(CultureInfo.InvariantCulture,
        $"{prefix.Replace('_', ' ')} binary CE {result.Metrics[$"{prefix}_loss"]:F4}, rounded accuracy {result.Metrics[$"{prefix}_rounded_accuracy"]:F4}");

    /// <summary>Writes the first test images (top row) above their reconstructions (bottom row).</summary>
    public static string SaveReconstructions(Tensor test, Tensor reconstructions, string path) =>
        ImageGrid.Save(path, [SampleData.Head(test, reconstructions.Shape[0]), reconstructions]);
}
