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
        var (dims, bytes, headerLength) = ReadChecked(path, null, expectedDimensions);
        return new IdxArray(dims, bytes[headerLength..]);
    }

    /// <summary>Reads and checks in the order header, magic (when <paramref name="requiredMagic"/> is given), length, dimensions, so that the first complaint is the most basic one.</summary>
    private static (int[] Dims, byte[] Bytes, int HeaderLength) ReadChecked(string path, (int Magic, string Kind)? requiredMagic, int[]? expectedDimensions)
    {
        var bytes = ReadAllBytesDecompressed(path);
        if (bytes.Length < 4)
            throw new InvalidDataException($"{path}: {bytes.Length} bytes is too short for an IDX header (4-byte magic number and dimensions)");
        var magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        var rank = magic & 0xFF;
        if ((magic >>> 16) != 0 || ((magic >> 8) & 0xFF) != UnsignedByteType || rank == 0)
            throw new InvalidDataException($"{path}: bad IDX magic number 0x{magic:X8}; expected 0x000008RR (unsigned bytes, rank RR ≥ 1), e.g. 0x{LabelsMagic:X8} for labels or 0x{ImagesMagic:X8} for images");
        if (requiredMagic is { } required && magic != required.Magic)
            throw new InvalidDataException($"{path}: bad IDX magic number 0x{magic:X8} (rank {rank}); {required.Kind} need 0x{required.Magic:X8} (unsigned bytes, rank {required.Magic & 0xFF})");
        var headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength)
            throw new InvalidDataException($"{path}: truncated header: rank {rank} needs {headerLength} header bytes, the file has {bytes.Length}");

        var dims = new int[rank];
        long expectedData = 1;
        for (var d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (dims[d] < 0) throw new InvalidDataException($"{path}: dimension {d} is negative ({dims[d]})");
            expectedData *= dims[d];
            if (expectedData > Array.MaxLength) throw new InvalidDataException($"{path}: dimensions [{string.Join(", ", dims[..(d + 1)])}, ...] exceed the largest array .NET can hold");
        }
        var dataLength = bytes.Length - headerLength;
        if (dataLength < expectedData)
            throw new InvalidDataException($"{path}: truncated: dimensions [{string.Join(", ", dims)}] need {expectedData} data bytes after the {headerLength}-byte header, the file has {dataLength}");
        if (dataLength > expectedData)
            throw new InvalidDataException($"{path}: {dataLength - expectedData} extra bytes after the {expectedData} data bytes that dimensions [{string.Join(", ", dims)}] need");
        if (expectedDimensions is not null && !DimensionsMatch(dims, expectedDimensions))
            throw new InvalidDataException($"{path}: dimensions [{string.Join(", ", dims)}] do not match the expected [{string.Join(", ", expectedDimensions.Select(e => e < 0 ? "?" : e.ToString()))}]");
        return (dims, bytes, headerLength);
    }

    /// <summary>
    /// Reads a rank-3 image file (magic 0x00000803) as float32 [N, rows, columns] holding the byte
    /// values 0..255 unscaled. <paramref name="expectedDimensions"/> as in <see cref="Read(string, int[])"/>, e.g. [60000, 28, 28].
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not an IDX image file or has other dimensions.</exception>
    public static Tensor ReadImages(string path, int[]? expectedDimensions = null)
    {
        var (dims, bytes, headerLength) = ReadChecked(path, (ImagesMagic, "images"), expectedDimensions);
        var pixels = new float[bytes.Length - headerLength];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = bytes[headerLength + i];
        return new Tensor(pixels, new Shape(dims), DType.Float32);
    }

    /// <summary>Reads a rank-1 label file (magic 0x00000801) as int32 [N]; <paramref name="expectedCount"/> (when given) must equal N.</summary>
    /// <exception cref="InvalidDataException">The file is not an IDX label file or has another length.</exception>
    public static Tensor ReadLabels(string path, int? expectedCount = null)
    {
        var (_, bytes, headerLength) = ReadChecked(path, (LabelsMagic, "labels"), expectedCount is { } n ? [n] : null);
        var labels = new int[bytes.Length - headerLength];
        for (var i = 0; i < labels.Length; i++) labels[i] = bytes[headerLength + i];
        return new Tensor(labels, new Shape(labels.Length), DType.Int32);
    }

    private static bool DimensionsMatch(int[] actual, int[] expected)
    {
        if (actual.Length != expected.Length) return false;
        for (var d = 0; d < actual.Length; d++)
            if (expected[d] >= 0 && expected[d] != actual[d]) return false;
        return true;
    }

    /// <summary>The file's bytes, gunzipped when it starts with the gzip magic bytes 1F 8B.</summary>
    private static byte[] ReadAllBytesDecompressed(string path)
    {
        var raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B) return raw;
        using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
        using var output = new MemoryStream();
        try
        {
            gzip.CopyTo(output);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: damaged gzip stream: {e.Message}", e);
        }
        return output.ToArray();
    }
}
