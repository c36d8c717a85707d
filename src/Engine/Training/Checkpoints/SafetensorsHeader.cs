using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Nabla;

/// <summary>One tensor's header entry: dtype, shape and its byte range within the data section.</summary>
internal sealed record TensorEntry(string Name, DType DType, Shape Shape, long Begin, long End);

/// <summary>
/// The JSON header of a safetensors file: the tensor index plus the optional <c>__metadata__</c>
/// string map. Writing lives here; reading and validation in <see cref="SafetensorsHeaderParser"/>.
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>Largest header accepted, as the reference safetensors implementation (MAX_HEADER_SIZE).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The reserved header key of the metadata map.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>Metadata keys with this prefix are written by Nabla and rejected from callers.</summary>
    public const string ReservedPrefix = "nabla.";

    /// <summary>Metadata key of the format version.</summary>
    public const string FormatKey = "nabla.format";

    /// <summary>Metadata key of the lower-case hex SHA-256 of the data section.</summary>
    public const string DataChecksumKey = "nabla.sha256";

    /// <summary>Metadata key of the lower-case hex SHA-256 of the header's content (see <see cref="HeaderDigest"/>).</summary>
    public const string HeaderChecksumKey = "nabla.header_sha256";

    /// <summary>The format version this code writes and reads.</summary>
    public const string FormatVersion = "1";

    public SafetensorsHeader(IReadOnlyList<TensorEntry> tensors, IReadOnlyList<KeyValuePair<string, string>> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<TensorEntry> Tensors { get; }

    /// <summary>The <c>__metadata__</c> entries in header order (empty when absent).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; }

    /// <summary>The recorded data checksum of a Nabla-written file; null for files from other writers.</summary>
    public string? DataChecksum => Metadata.FirstOrDefault(kv => kv.Key == DataChecksumKey).Value;

    /// <summary>safetensors' dtype code.</summary>
    public static string DTypeCode(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int32 => "I32",
        DType.Int64 => "I64",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no safetensors code"),
    };

    /// <summary>The dtype of a safetensors code, if Nabla has one.</summary>
    public static DType? ParseDType(string code) => code switch
    {
        "F32" => DType.Float32,
        "F64" => DType.Float64,
        "I32" => DType.Int32,
        "I64" => DType.Int64,
        "BOOL" => DType.Bool,
        _ => null,
    };

    /// <summary>
    /// The UTF-8 JSON header, compact, padded with spaces to a multiple of 8 bytes so that the data
    /// section (which starts after the 8-byte length) is 8-byte aligned, as the reference writer does.
    /// </summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable; the output is still strict JSON (quotes,
        // backslashes and control characters are escaped). The "unsafe" is about embedding in HTML.
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (Metadata.Count > 0)
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (key, value) in Metadata) w.WriteString(key, value);
                w.WriteEndObject();
            }
            foreach (var t in Tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", DTypeCode(t.DType));
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(t.Begin);
                w.WriteNumberValue(t.End);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        var padded = new byte[(buffer.WrittenCount + 7) / 8 * 8];
        buffer.WrittenSpan.CopyTo(padded);
        padded.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return padded;
    }

    /// <summary>
    /// SHA-256 (lower-case hex) of the header's content in a canonical binary form, independent of
    /// JSON spelling, so that a corrupted name, shape, offset or metadata value is caught even where
    /// the JSON stays well-formed. The bytes hashed are, with str(s) = int64 LE UTF-8 length then
    /// the UTF-8 bytes and every integer int64 LE:
    /// for each metadata entry except the two checksums, by ordinal key order: 'M', str(key), str(value);
    /// then for each tensor by ordinal name order: 'T', str(name), str(dtype code), rank, each dim, begin, end.
    /// </summary>
    public static string HeaderDigest(IEnumerable<TensorEntry> tensors, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, value) in metadata.Where(kv => kv.Key is not (DataChecksumKey or HeaderChecksumKey)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            hash.AppendData("M"u8);
            AppendString(hash, key);
            AppendString(hash, value);
        }
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            hash.AppendData("T"u8);
            AppendString(hash, t.Name);
            AppendString(hash, DTypeCode(t.DType));
            AppendInt64(hash, t.Shape.Rank);
            foreach (var d in t.Shape) AppendInt64(hash, d);
            AppendInt64(hash, t.Begin);
            AppendInt64(hash, t.End);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void AppendString(IncrementalHash hash, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        AppendInt64(hash, bytes.Length);
        hash.AppendData(bytes);
    }

    private static void AppendInt64(IncrementalHash hash, long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        hash.AppendData(b);
    }
}
