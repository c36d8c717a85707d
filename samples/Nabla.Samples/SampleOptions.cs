using System.Globalization;
using Nabla.Layers;

namespace Nabla.Samples;

/// <summary>Options every workload sample takes on the command line.</summary>
/// <param name="Name">The sample's command name (also the default output folder's name).</param>
/// <param name="Epochs">Epochs to train; null for the sample's default (its SEEDS.md figure, or a few with <paramref name="Quick"/>).</param>
/// <param name="BatchSize">Batch size; null for the sample's default.</param>
/// <param name="Out">Folder for PNGs and logs; null for <c>samples-output/NAME</c>.</param>
/// <param name="Quick">Few epochs on a subset of the data: a smoke test, not a result.</param>
/// <param name="Device">The device models run on.</param>
internal sealed record SampleOptions(string Name, int? Epochs = null, int? BatchSize = null, string? Out = null, bool Quick = false, Device? Device = null)
{
    /// <summary>The output folder, created on first use.</summary>
    public string OutDir
    {
        get
        {
            var dir = Path.GetFullPath(Out ?? Path.Combine("samples-output", Name));
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>The epochs to run: the option, else <paramref name="full"/> or, quick, <paramref name="quick"/>.</summary>
    public int EpochsOr(int full, int quick) => Positive(Epochs ?? (Quick ? quick : full), "--epochs");

    /// <summary>The batch size to use: the option, else <paramref name="fallback"/>.</summary>
    public int BatchSizeOr(int fallback) => Positive(BatchSize ?? fallback, "--batch-size");

    /// <summary>A path in the output folder.</summary>
    public string PathFor(string file) => Path.Combine(OutDir, file);

    /// <summary>
    /// Starts a sample: a fresh Keras graph with a fixed seed on the chosen device, so a run is
    /// repeatable and samples run one after another in one process do not share layers.
    /// </summary>
    public void Begin(ulong seed = 42)
    {
        Keras.ClearSession();
        Keras.Device = Device ?? Nabla.Device.Cpu;
        Keras.SetRandomSeed(seed);
        Console.WriteLine($"{Name}: device {Keras.Device}, output {OutDir}{(Quick ? " (quick smoke run: not a result)" : "")}");
    }

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(option, value, $"{option} must be positive");
}

/// <summary>What a sample run produced: its headline figures, the files it wrote, how long it took.</summary>
internal sealed class SampleResult(string name)
{
    /// <summary>The sample's command name.</summary>
    public string Name { get; } = name;

    /// <summary>Epochs run (set by <see cref="Report"/>).</summary>
    public int Epochs { get; private set; }

    /// <summary>Wall time of building, training and evaluating the model, data loading excluded (set by <see cref="Report"/>).</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>Final figures by name ("test_accuracy", "w", …).</summary>
    public Dictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);

    /// <summary>Files written (PNGs, logs, weights).</summary>
    public List<string> Files { get; } = [];

    /// <summary>Records the epochs run and the wall time, and prints them after <paramref name="headline"/>, then the files written.</summary>
    public SampleResult Report(string headline, int epochs, TimeSpan elapsed)
    {
        Epochs = epochs;
        Elapsed = elapsed;
        Console.WriteLine($"{headline} ({Epochs} epochs, {Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s)");
        foreach (var f in Files) Console.WriteLine($"  wrote {f}");
        return this;
    }
}
