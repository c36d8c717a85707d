using System.Security.Cryptography;

namespace Nabla.Data;

/// <summary>
/// Where the data set loaders keep their files, and whether they may fetch missing ones. Both are read
/// from the environment on every call (not cached), so a process may change them between loads.
/// </summary>
/// <remarks>
/// Layout: one subfolder per data set under <see cref="DataDirectory"/>, e.g.
/// <c>~/.nabla/datasets/mnist/train-images-idx3-ubyte</c>. Every file is checked against a SHA-256
/// fixed in the source before it is used; a file that does not match is deleted and fetched again
/// once. To prefetch everything (e.g. in CI), run the tests in category "Data":
/// <c>dotnet test --project tests/Nabla.Tests -c Release -- --filter "TestCategory=Data"</c>.
/// </remarks>
public static class DatasetCache
{
    /// <summary>Environment variable naming the data directory.</summary>
    public const string DataDirectoryVariable = "NABLA_DATA";

    /// <summary>Environment variable that, set to <c>1</c> or <c>true</c>, forbids fetching: only files already in the cache (or placed there by hand) are used.</summary>
    public const string OfflineVariable = "NABLA_DATA_OFFLINE";

    /// <summary>The data directory: <c>$NABLA_DATA</c> when set and non-empty, otherwise <c>~/.nabla/datasets</c>.</summary>
    public static string DataDirectory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(DataDirectoryVariable);
            return string.IsNullOrWhiteSpace(configured)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nabla", "datasets")
                : Path.GetFullPath(configured);
        }
    }

    /// <summary>True when <c>$NABLA_DATA_OFFLINE</c> is <c>1</c> or <c>true</c> (any case).</summary>
    public static bool Offline
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(OfflineVariable)?.Trim();
            return value == "1" || string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The folder of one data set, created if missing.</summary>
    internal static string FolderFor(string dataDirectory, string dataset)
    {
        var folder = Path.Combine(dataDirectory, dataset);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>
    /// Moves a finished temporary file into place after checking its SHA-256, so that a reader never
    /// sees a half-written or wrong file, even with several processes fetching at once.
    /// </summary>
    /// <exception cref="InvalidDataException">The hash differs; the temporary file is deleted.</exception>
    internal static void VerifyAndPlace(string tempPath, string finalPath, string expectedSha256, string origin)
    {
        var actual = Sha256Of(tempPath);
        if (actual != expectedSha256)
        {
            File.Delete(tempPath);
            throw new InvalidDataException($"{Path.GetFileName(finalPath)} from {origin} has SHA-256 {actual}, expected {expectedSha256}");
        }
        File.Move(tempPath, finalPath, overwrite: true);
    }

    /// <summary>A unique temporary name next to <paramref name="finalPath"/> (same volume, so the final move is atomic).</summary>
    internal static string TempPathFor(string finalPath) => $"{finalPath}.{Guid.NewGuid():N}.partial";
}
