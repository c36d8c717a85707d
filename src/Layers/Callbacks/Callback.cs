namespace Nabla.Layers;

/// <summary>
/// Hooks into <c>Model.Fit</c> (keras.callbacks.Callback). Logs map names ("loss", "accuracy",
/// "val_loss", …) to epoch or running means.
/// </summary>
public abstract class Callback
{
    /// <summary>The model being trained (set before <see cref="OnTrainBegin"/>).</summary>
    public Model Model { get; internal set; } = null!;

    /// <summary>Before the first epoch.</summary>
    public virtual void OnTrainBegin() { }

    /// <summary>After the last epoch (or an early stop).</summary>
    public virtual void OnTrainEnd() { }

    /// <summary>Before each epoch (0-based).</summary>
    public virtual void OnEpochBegin(int epoch) { }

    /// <summary>After each epoch, with the epoch's training means and validation results.</summary>
    public virtual void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) { }

    /// <summary>After each training batch, with running means over the epoch so far.</summary>
    public virtual void OnTrainBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) { }

    /// <summary>Whether this callback may write files: false on the non-chief workers of a multi-worker strategy (and true when used without a model).</summary>
    private protected bool WritesFiles => Model is null || Model.WritesFiles;
}

/// <summary>Calls a list of callbacks in order.</summary>
internal sealed class CallbackList
{
    private readonly Callback[] _callbacks;

    public CallbackList(Model model, Callback[] callbacks)
    {
        _callbacks = callbacks;
        foreach (var c in callbacks) c.Model = model;
    }

    public void TrainBegin() { foreach (var c in _callbacks) c.OnTrainBegin(); }

    public void TrainEnd() { foreach (var c in _callbacks) c.OnTrainEnd(); }

    public void EpochBegin(int epoch) { foreach (var c in _callbacks) c.OnEpochBegin(epoch); }

    public void EpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) { foreach (var c in _callbacks) c.OnEpochEnd(epoch, logs); }

    public void TrainBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) { foreach (var c in _callbacks) c.OnTrainBatchEnd(batch, logs); }
}

/// <summary>Every epoch's logs (keras History): <c>history.Values["loss"][epoch]</c>.</summary>
public sealed class History : Callback
{
    private readonly Dictionary<string, List<double>> _values = new(StringComparer.Ordinal);
    private readonly List<int> _epochs = [];

    /// <summary>Per name, one value per epoch run.</summary>
    public IReadOnlyDictionary<string, List<double>> Values => _values;

    /// <summary>The epoch indices run.</summary>
    public IReadOnlyList<int> Epochs => _epochs;

    /// <summary>The values logged under <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">Nothing was logged under that name; the message lists what was.</exception>
    public IReadOnlyList<double> this[string name] =>
        _values.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"no '{name}' in the history; logged: {string.Join(", ", _values.Keys)}");

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        _epochs.Add(epoch);
        foreach (var (k, v) in logs)
        {
            if (!_values.TryGetValue(k, out var list)) _values[k] = list = [];
            list.Add(v);
        }
    }
}
