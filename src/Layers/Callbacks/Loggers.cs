using System.Globalization;
using System.Text;

namespace Nabla.Layers;

/// <summary>Appends one CSV row per epoch: epoch, then the logs in a fixed column order (keras.callbacks.CSVLogger).</summary>
public sealed class CsvLogger(string path, char separator = ',', bool append = false) : Callback
{
    private string[]? _columns;

    /// <summary>The file written.</summary>
    public string Path { get; } = path;

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        _columns = null;
        if (!WritesFiles) return;
        if (append && File.Exists(Path))
        {
            var header = File.ReadLines(Path).FirstOrDefault();
            if (header is not null) _columns = header.Split(separator).Skip(1).ToArray();
        }
        else File.WriteAllText(Path, "");
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (!WritesFiles) return;
        var sb = new StringBuilder();
        if (_columns is null)
        {
            _columns = logs.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
            sb.Append("epoch").Append(separator).AppendJoin(separator, _columns).Append('\n');
        }
        sb.Append(epoch.ToString(CultureInfo.InvariantCulture));
        foreach (var c in _columns)
            sb.Append(separator).Append(logs.TryGetValue(c, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "NA");
        sb.Append('\n');
        File.AppendAllText(Path, sb.ToString());
    }
}

/// <summary>
/// Appends one JSON object per epoch ({"epoch": 0, "loss": …, "time_s": …}) to a JSON-lines file: a
/// plain-text training log in the spirit of TensorBoard's scalars, readable by any tool.
/// </summary>
public sealed class JsonLogger(string path, bool append = false) : Callback
{
    private System.Diagnostics.Stopwatch _clock = new();

    /// <summary>The file written.</summary>
    public string Path { get; } = path;

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        if (!append && WritesFiles) File.WriteAllText(Path, "");
        _clock = System.Diagnostics.Stopwatch.StartNew();
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (!WritesFiles) return;
        using var buffer = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("epoch", epoch);
            foreach (var (k, v) in logs)
            {
                // JSON has no NaN/Infinity literals: write them as strings rather than produce an unreadable file.
                if (double.IsFinite(v)) w.WriteNumber(k, v);
                else w.WriteString(k, v.ToString(CultureInfo.InvariantCulture));
            }
            w.WriteNumber("time_s", _clock.Elapsed.TotalSeconds);
            w.WriteEndObject();
        }
        File.AppendAllText(Path, Encoding.UTF8.GetString(buffer.ToArray()) + "\n");
    }
}
