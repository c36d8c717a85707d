using System.Diagnostics;
using System.Globalization;
using System.Text;
using Spectre.Console;

namespace Nabla.Layers;

/// <summary>
/// Keras-style progress output for Fit: "Epoch 3/20", then a bar
/// <c>118/118 [==============================] - 2s 13ms/step - loss: 0.0812 - accuracy: 0.9750</c>
/// redrawn in place on a terminal. When output is not an interactive terminal (CI logs, pipes) or
/// verbose is 2, only the final line of each epoch is printed.
/// </summary>
public sealed class ProgressLogger : Callback
{
    private const int BarWidth = 30;
    private readonly int _epochs;
    private readonly int? _steps;
    private readonly bool _live;
    private readonly TextWriter _out;
    private readonly Stopwatch _clock = new();
    private long _lastDraw;

    /// <summary>Creates a logger writing to <paramref name="output"/> (default the console).</summary>
    /// <param name="epochs">Total epochs (for "Epoch i/N").</param>
    /// <param name="steps">Batches per epoch, when known.</param>
    /// <param name="live">Redraw a bar during the epoch; default: only on an interactive terminal.</param>
    /// <param name="output">Where to write.</param>
    public ProgressLogger(int epochs, int? steps, bool? live = null, TextWriter? output = null)
    {
        _epochs = epochs;
        _steps = steps;
        _out = output ?? Console.Out;
        _live = live ?? (output is null && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive);
    }

    /// <summary>The logger Fit adds for a verbosity level (none for 0).</summary>
    internal static Callback[] For(int verbose, int epochs, int? steps) => verbose switch
    {
        0 => [],
        1 => [new ProgressLogger(epochs, steps)],
        2 => [new ProgressLogger(epochs, steps, live: false)],
        _ => throw new ArgumentOutOfRangeException(nameof(verbose), verbose, "verbose must be 0, 1 or 2"),
    };

    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch)
    {
        _clock.Restart();
        _lastDraw = 0;
        if (_live) _out.WriteLine($"Epoch {epoch + 1}/{_epochs}");
    }

    /// <inheritdoc/>
    public override void OnTrainBatchEnd(int batch, IReadOnlyDictionary<string, double> logs)
    {
        if (!_live) return;
        var now = _clock.ElapsedMilliseconds;
        if (now - _lastDraw < 100 && batch + 1 != _steps) return;
        _lastDraw = now;
        _out.Write("\r" + Line(batch + 1, logs, final: false));
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (_live) _out.WriteLine("\r" + Line(_steps ?? 0, logs, final: true));
        else _out.WriteLine($"Epoch {epoch + 1}/{_epochs} - " + Line(_steps ?? 0, logs, final: true));
    }

    private string Line(int done, IReadOnlyDictionary<string, double> logs, bool final)
    {
        var sb = new StringBuilder();
        if (_steps is { } total)
        {
            var width = total.ToString(CultureInfo.InvariantCulture).Length;
            sb.Append(done.ToString(CultureInfo.InvariantCulture).PadLeft(width)).Append('/').Append(total);
            if (_live)
            {
                var filled = (int)((long)BarWidth * done / Math.Max(total, 1));
                sb.Append(" [").Append('=', Math.Max(filled - 1, 0)).Append(filled > 0 ? (done < total ? ">" : "=") : "").Append('.', BarWidth - filled).Append(']');
            }
        }
        var seconds = _clock.Elapsed.TotalSeconds;
        sb.Append(" - ").Append(seconds.ToString(seconds < 10 ? "0.0" : "0", CultureInfo.InvariantCulture)).Append('s');
        if (final && done > 0) sb.Append(' ').Append((seconds * 1000 / done).ToString("0", CultureInfo.InvariantCulture)).Append("ms/step");
        foreach (var (k, v) in logs) sb.Append(" - ").Append(k).Append(": ").Append(v.ToString("0.0000", CultureInfo.InvariantCulture));
        return sb.ToString();
    }
}
