namespace Nabla.Layers;

/// <summary>Whether a monitored value improves by going down ("min") or up ("max").</summary>
internal static class MonitorMode
{
    /// <summary>Keras's "auto": accuracy-like names ("acc", "accuracy", "auc") are maximised, everything else minimised.</summary>
    public static bool Maximize(string monitor, string mode) => mode switch
    {
        "min" => false,
        "max" => true,
        "auto" => monitor.Contains("acc", StringComparison.Ordinal) || monitor.EndsWith("auc", StringComparison.Ordinal),
        _ => throw new ArgumentException($"mode must be \"auto\", \"min\" or \"max\", got \"{mode}\"", nameof(mode)),
    };

    public static double Value(IReadOnlyDictionary<string, double> logs, string monitor, string who) =>
        logs.TryGetValue(monitor, out var v) ? v
        : throw new InvalidOperationException($"{who}: the monitored value '{monitor}' is not in the logs ({string.Join(", ", logs.Keys)}); validation values need validation data");
}

/// <summary>
/// Stops training when a monitored value has not improved by more than <c>minDelta</c> for
/// <c>patience</c> epochs (keras.callbacks.EarlyStopping), optionally restoring the best weights.
/// </summary>
public sealed class EarlyStopping : Callback
{
    private readonly bool _maximize;
    private double _best;
    private int _wait;
    private Tensor[]? _bestWeights;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">Log name to watch.</param>
    /// <param name="minDelta">Smallest change that counts as an improvement.</param>
    /// <param name="patience">Epochs without improvement before stopping.</param>
    /// <param name="mode">"auto", "min" or "max".</param>
    /// <param name="restoreBestWeights">Put back the weights of the best epoch when stopping or at the end.</param>
    public EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, string mode = "auto", bool restoreBestWeights = false)
    {
        Monitor = monitor;
        MinDelta = Math.Abs(minDelta);
        Patience = patience;
        RestoreBestWeights = restoreBestWeights;
        _maximize = MonitorMode.Maximize(monitor, mode);
    }

    /// <summary>Watched log name.</summary>
    public string Monitor { get; }

    /// <summary>Minimum improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Epochs to wait.</summary>
    public int Patience { get; }

    /// <summary>Whether the best weights are restored.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>The epoch training stopped at (−1 if it ran to the end).</summary>
    public int StoppedEpoch { get; private set; } = -1;

    /// <summary>The best epoch so far.</summary>
    public int BestEpoch { get; private set; } = -1;

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        _best = _maximize ? double.NegativeInfinity : double.PositiveInfinity;
        _wait = 0;
        StoppedEpoch = BestEpoch = -1;
        _bestWeights = null;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        var value = MonitorMode.Value(logs, Monitor, nameof(EarlyStopping));
        var improved = _maximize ? value - MinDelta > _best : value + MinDelta < _best;
        if (improved)
        {
            _best = value;
            BestEpoch = epoch;
            _wait = 0;
            if (RestoreBestWeights) _bestWeights = Model.GetWeights();
            return;
        }
        // Keras counts the epoch, then stops once `patience` epochs in a row failed to improve.
        if (++_wait >= Patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            Model.StopTraining = true;
        }
    }

    /// <inheritdoc/>
    public override void OnTrainEnd()
    {
        if (RestoreBestWeights && _bestWeights is not null) Model.SetWeights(_bestWeights);
    }
}
