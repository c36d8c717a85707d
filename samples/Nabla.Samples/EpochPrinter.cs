using System.Globalization;
using Nabla.Layers;

namespace Nabla.Samples;

/// <summary>
/// Prints the logs of every <c>n</c>-th epoch and of the last one: the progress output for samples
/// that run hundreds of short epochs, where Keras's one line per epoch would bury the result.
/// </summary>
internal sealed class EpochPrinter(int epochs, int every) : Callback
{
    /// <summary>Prints about <paramref name="lines"/> lines over <paramref name="epochs"/> epochs.</summary>
    public static EpochPrinter About(int epochs, int lines) => new(epochs, Math.Max(1, epochs / Math.Max(1, lines)));

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if ((epoch + 1) % every != 0 && epoch + 1 != epochs && epoch != 0) return;
        var values = string.Join(" - ", logs.Select(kv => $"{kv.Key}: {kv.Value.ToString("0.0000", CultureInfo.InvariantCulture)}"));
        Console.WriteLine($"Epoch {epoch + 1}/{epochs} - {values}");
    }
}
