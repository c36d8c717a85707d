using System.Buffers.Binary;
using System.IO.Compression;

namespace Nabla.Data;

/// <summary>The contents of an IDX file of unsigned bytes: its dimensions and its data in row-major order.</summary>
public sealed class IdxArray
{
    /// <summary>Wraps dimensions and data (not copied).</summary>
    public IdxArray(int[] dimensions, byte[] data)
    {
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The dimensions from the header, e.g. [60000, 28, 28].</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The element bytes, row-major, exactly the product of <see cref="Dimensions"/> long.</summary>
    public byte[] Data { get; }
}

/// <summary>
/// Reads the IDX format of the MNIST files (LeCun et al., <c>yann.lecun.com/exdb/mnist</c>): a
/// big-endian magic number <c>0x0000TTRR</c> (TT = element type, only 0x08 = unsigned byte is
/// supported; RR = rank), RR big-endian int32 dimensions, then the elements. Files compressed with
/// gzip are recognised by their first two bytes (0x1F 0x8B) and decompressed, whatever their name.
/// </summary>
/// <remarks>
/// The reader is strict, because a damaged download should fail here rather than train on garbage:
/// every problem (bad magic number, unexpected rank or dimensions, a file shorter or longer than the
/// header plus the product of the dimensions) raises <see cref="InvalidDataException"/> naming the
/// file and what was wrong.
/// </remarks>
public static class IdxReader
{
    /// <summary>Magic number of a rank-1 unsigned-byte IDX file (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Magic number of a rank-3 unsigned-byte IDX file (images).</summary>
    public const int ImagesMagic = 0x00000803;

    private const byte UnsignedByteType = 0x08;

    /// <summary>
    /// Reads an unsigned-byte IDX file of any rank. When <paramref name="expectedDimensions"/> is
    /// given, the file's rank must equal its length and each non-negative entry must equal the file's
    /// dimension (−1 accepts any size).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX file of unsigned bytes, or its dimensions differ from the expected ones.</exception>
    public static IdxArray Read(string path, int[]? expectedDimensions = null)
    {
        using var stream = OpenDecompressed(path);
        var dims = ReadHeader(path, stream, null, expectedDimensions);
        var data = new byte[stream.Length - stream.Position];
        stream.ReadExactly(data);
        return new IdxArray(dims, data);
    }

    /// <summary>
    /// Reads the header and checks in the order length, magic (when <paramref name="requiredMagic"/> is
    /// given), header length, dimensions, data length, so that the first complaint is the most basic one.
    /// Leaves <paramref name="stream"/> at the first data byte.
    /// </summary>
    private static int[] ReadHeader(string path, Stream stream, (int Magic, string Kind)? requiredMagic, int[]? expectedDimensions)
    {
        var length = stream.Length;
        if (length < 4)
            throw new InvalidDataException($"{path}: {length} bytes is too short for an IDX header (4-byte magic number and dimensions)");
        Span<byte> word = stackalloc byte[4];
        stream.ReadExactly(word);
        var magic = BinaryPrimitives.ReadInt32BigEndian(word);
        var rank = magic & 0xFF;
        if ((magic >>> 16) != 0 || ((magic >> 8) & 0xFF) != UnsignedByteType || rank == 0)
            throw new InvalidDataException($"{path}: bad IDX magic number 0x{magic:X8}; expected 0x000008RR (unsigned bytes, rank RR ≥ 1), e.g. 0x{LabelsMagic:X8} for labels or 0x{ImagesMagic:X8} for images");
        if (requiredMagic is { } required && magic != required.Magic)
            throw new InvalidDataException($"{path}: bad IDX magic number 0x{magic:X8} (rank {rank}); {required.Kind} need 0x{required.Magic:X8} (unsigned bytes, rank {required.Magic & 0xFF})");
        var headerLength = 4 + 4 * rank;
        if (length < headerLength)
            throw new InvalidDataException($"{path}: truncated header: rank {rank} needs {headerLength} header bytes, the file has {length}");

        var dims = new int[rank];
        long expectedData = 1;
        for (var d = 0; d < rank; d++)
        {
            stream.ReadExactly(word);
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dims[d] < 0) throw new InvalidDataException($"{path}: dimension {d} is negative ({dims[d]})");
            expectedData *= dims[d];
            if (expectedData > Array.MaxLength) throw new InvalidDataException($"{path}: dimensions [{string.Join(", ", dims[..(d + 1)])}, ...] exceed the largest array .NET can hold");
        }
        var dataLength = length - headerLength;
        if (dataLength < expectedData)
            throw new InvalidDataException($"{path}: truncated: dimensions [{string.Join(", ", dims)}] need {expectedData} data bytes after the {headerLength}-byte header, the file has {dataLength}");
        if (dataLength > expectedData)
            throw new InvalidDataException($"{path}: {dataLength - expectedData} extra bytes after the {expectedData} data bytes that dimensions [{string.Join(", ", dims)}] need");
        if (expectedDimensions is not null && !DimensionsMatch(dims, expectedDimensions))
            throw new InvalidDataException($"{path}: dimensions [{string.Join(", ", dims)}] do not match the expected [{string.Join(", ", expectedDimensions.Select(e => e < 0 ? "?" : e.ToString()))}]");
        return dims;
    }

    /// <summary>
    /// Reads a rank-3 image file (magic 0x00000803) as float32 [N, rows, columns] holding the byte
    /// values 0..255 unscaled. <paramref name="expectedDimensions"/> as in <see cref="Read(string, int[])"/>, e.g. [60000, 28, 28].
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not an IDX image file or has other dimensions.</exception>
    public static Tensor ReadImages(string path, int[]? expectedDimensions = null) => ReadImages(path, expectedDimensions, 1f);

    /// <summary>
    /// Reads a rank-3 image file as float32 [N, rows, columns] holding each byte value times
    /// <paramref name="scale"/>, e.g. 1/255 for pixels in [0, 1] as Keras samples use them.
    /// </summary>
    /// <remarks>
    /// Scaling while converting saves a second float copy of the images (60,000 MNIST images are
    /// 188 MB as float32): <c>x / 255</c> on the loaded tensor would allocate a new one. The file
    /// is converted in 64 KB chunks, so the only large allocation is the result itself.
    /// </remarks>
    /// <exception cref="InvalidDataException">The file is not an IDX image file or has other dimensions.</exception>
    public static Tensor ReadImages(string path, int[]? expectedDimensions, float scale)
    {
        using var stream = OpenDecompressed(path);
        var dims = ReadHeader(path, stream, (ImagesMagic, "images"), expectedDimensions);
        var pixels = new float[stream.Length - stream.Position];
        var chunk = new byte[64 * 1024];
        for (var offset = 0; offset < pixels.Length;)
        {
            var n = Math.Min(chunk.Length, pixels.Length - offset);
            stream.ReadExactly(chunk, 0, n);
            for (var i = 0; i < n; i++) pixels[offset + i] = chunk[i] * scale;
            offset += n;
        }
        return new Tensor(pixels, new Shape(dims), DType.Float32);
    }

    /// <summary>Reads a rank-1 label file (magic 0x00000801) as int32 [N]; <paramref name="expectedCount"/> (when given) must equal N.</summary>
    /// <exception cref="InvalidDataException">The file is not an IDX label file or has another length.</exception>
    public static Tensor ReadLabels(string path, int? expectedCount = null)
    {
        using var stream = OpenDecompressed(path);
        ReadHeader(path, stream, (LabelsMagic, "labels"), expectedCount is { } n ? [n] : null);
        var bytes = new byte[stream.Length - stream.Position];
        stream.ReadExactly(bytes);
        var labels = new int[bytes.Length];
        for (var i = 0; i < labels.Length; i++) labels[i] = bytes[i];
        return new Tensor(labels, new Shape(labels.Length), DType.Int32);
    }

    private static bool DimensionsMatch(int[] actual, int[] expected)
    {
        if (actual.Length != expected.Length) return false;
        for (var d = 0; d < actual.Length; d++)
            if (expected[d] >= 0 && expected[d] != actual[d]) return false;
        return true;
    }

    /// <summary>
    /// The file as a seekable stream of known length: the file itself, or, when it starts with the gzip
    /// magic bytes 1F 8B, its decompressed contents in memory (the data-set caches hold files uncompressed,
    /// so the large files take the first path and are never held whole as bytes).
    /// </summary>
    private static Stream OpenDecompressed(string path)
    {
        var file = File.OpenRead(path);
        if (file.Length < 2 || file.ReadByte() != 0x1F || file.ReadByte() != 0x8B)
        {
            file.Position = 0;
            return file;
        }
        file.Position = 0;
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        var output = new MemoryStream();
        try
        {
            gzip.CopyTo(output);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: damaged gzip stream: {e.Message}", e);
        }
        output.Position = 0;
        return output;
    }
}
