using System.Globalization;
using System.Text.RegularExpressions;

namespace Nabla.Layers;

/// <summary>
/// Saves the model's weights after each epoch (keras.callbacks.ModelCheckpoint with save_weights_only).
/// With <c>saveBestOnly</c>, only when the monitored value improves on the best so far. The path may use
/// Keras placeholders: <c>{epoch}</c> / <c>{epoch:02d}</c> (1-based) and log values such as <c>{val_loss:.4f}</c>.
/// </summary>
public sealed partial class ModelCheckpoint : Callback
{
    private readonly bool _maximize;
    private double _best;

    /// <summary>Creates the callback.</summary>
    public ModelCheckpoint(string filepath, string monitor = "val_loss", bool saveBestOnly = false, string mode = "auto")
    {
        FilePath = filepath;
        Monitor = monitor;
        SaveBestOnly = saveBestOnly;
        _maximize = MonitorMode.Maximize(monitor, mode);
    }

    /// <summary>Path template.</summary>
    public string FilePath { get; }

    /// <summary>Monitored log name (for <see cref="SaveBestOnly"/>).</summary>
    public string Monitor { get; }

    /// <summary>Save only on improvement.</summary>
    public bool SaveBestOnly { get; }

    /// <summary>The best monitored value seen.</summary>
    public double Best => _best;

    /// <summary>Files written, in order.</summary>
    public List<string> Saved { get; } = [];

    /// <inheritdoc/>
    public override void OnTrainBegin() => _best = _maximize ? double.NegativeInfinity : double.PositiveInfinity;

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (SaveBestOnly)
        {
            var value = MonitorMode.Value(logs, Monitor, nameof(ModelCheckpoint));
            if (!(_maximize ? value > _best : value < _best)) return;
            _best = value;
        }
        var path = Format(FilePath, epoch, logs);
        Model.SaveWeights(path);
        Saved.Add(path);
    }

    /// <summary>Expands {epoch}, {epoch:02d}, {name}, {name:.4f} like Python's str.format in Keras.</summary>
    internal static string Format(string template, int epoch, IReadOnlyDictionary<string, double> logs) =>
        Placeholder().Replace(template, m =>
        {
            var key = m.Groups["key"].Value;
            var spec = m.Groups["spec"].Value;
            if (key == "epoch")
            {
                var width = spec.EndsWith('d') && int.TryParse(spec.AsSpan(0, spec.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var w) ? w : 0;
                return (epoch + 1).ToString(CultureInfo.InvariantCulture).PadLeft(width, '0');
            }
            if (!logs.TryGetValue(key, out var v)) throw new InvalidOperationException($"ModelCheckpoint: '{{{key}}}' in \"{template}\" is not in the logs ({string.Join(", ", logs.Keys)})");
            var digits = spec.StartsWith('.') && spec.EndsWith('f') && int.TryParse(spec.AsSpan(1, spec.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : 6;
            return v.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        });

    [GeneratedRegex(@"\{(?<key>[A-Za-z_][A-Za-z0-9_]*)(:(?<spec>[^}]*))?\}")]
    private static partial Regex Placeholder();
}
