using System.Text.Json;
using System.Text.Unicode;

namespace Nabla;

/// <summary>
/// Reads a safetensors header and checks everything about it before any tensor data is touched:
/// JSON shape, dtypes, shapes, byte ranges (in bounds, contiguous, sized exactly by shape × element
/// size, covering the data section with no gap or overlap) and, for Nabla-written files, the format
/// version and the header checksum. Uses <see cref="JsonDocument"/> only: nothing in the file
/// chooses a .NET type.
/// </summary>
internal static class SafetensorsHeaderParser
{
    /// <summary>Validates the header <paramref name="json"/> of a file whose data section is <paramref name="dataLength"/> bytes.</summary>
    /// <exception cref="CheckpointException">Anything is wrong; names <paramref name="path"/>.</exception>
    public static SafetensorsHeader Parse(byte[] json, long dataLength, string path)
    {
        // The safetensors spec requires the header to start with '{' (no BOM, no leading whitespace).
        if (json.Length == 0 || json[0] != (byte)'{') throw Fail(path, "header does not start with '{'");
        if (!Utf8.IsValid(json)) throw Fail(path, "header is not valid UTF-8");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Fail(path, $"header is not well-formed JSON: {e.Message}", e);
        }

        var tensors = new List<TensorEntry>();
        var metadata = new List<KeyValuePair<string, string>>();
        using (doc)
        {
            try
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Fail(path, "header is not a JSON object");
                var keys = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in doc.RootElement.EnumerateObject())
                {
                    if (!keys.Add(property.Name)) throw Fail(path, $"header key '{property.Name}' appears twice");
                    if (property.Name == SafetensorsHeader.MetadataKey) ReadMetadata(property.Value, metadata, path);
                    else tensors.Add(ReadEntry(property.Name, property.Value, path));
                }
            }
            catch (InvalidOperationException e)
            {
                // System.Text.Json raises this for strings it cannot decode to UTF-16 (e.g. an escaped lone surrogate).
                throw Fail(path, $"header holds an undecodable string: {e.Message}", e);
            }
        }

        CheckLayout(tensors, dataLength, path);
        var header = new SafetensorsHeader(tensors, metadata);
        CheckNablaMetadata(header, path);
        return header;
    }

    private static void ReadMetadata(JsonElement value, List<KeyValuePair<string, string>> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Fail(path, $"'{SafetensorsHeader.MetadataKey}' is a JSON {Kind(value)}, not an object of strings");
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            if (!keys.Add(entry.Name)) throw Fail(path, $"metadata key '{entry.Name}' appears twice");
            if (entry.Value.ValueKind != JsonValueKind.String) throw Fail(path, $"metadata '{entry.Name}' is a JSON {Kind(entry.Value)}; safetensors metadata values must be strings");
            metadata.Add(new(entry.Name, entry.Value.GetString()!));
        }
    }

    private static TensorEntry ReadEntry(string name, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Fail(path, $"tensor '{name}': entry is a JSON {Kind(value)}, not an object");
        string? code = null;
        int[]? dims = null;
        long[]? offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when code is null:
                    code = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString()! : throw Fail(path, $"tensor '{name}': dtype is a JSON {Kind(field.Value)}, not a string");
                    break;
                case "shape" when dims is null:
                    dims = ReadIntegers(field.Value, name, "shape", path, -1).Select(d => d <= int.MaxValue ? (int)d : throw Fail(path, $"tensor '{name}': dimension {d} exceeds {int.MaxValue}")).ToArray();
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(field.Value, name, "data_offsets", path, 2);
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Fail(path, $"tensor '{name}': field '{field.Name}' appears twice");
                default:
                    throw Fail(path, $"tensor '{name}': unknown field '{field.Name}' (expected dtype, shape, data_offsets)");
            }
        }
        if (code is null || dims is null || offsets is null)
            throw Fail(path, $"tensor '{name}': missing field '{(code is null ? "dtype" : dims is null ? "shape" : "data_offsets")}'");
        var dtype = SafetensorsHeader.ParseDType(code)
            ?? throw Fail(path, $"tensor '{name}': dtype '{code}' is not supported (Nabla reads F32, F64, I32, I64 and BOOL)");
        var (begin, end) = (offsets[0], offsets[1]);
        if (end < begin) throw Fail(path, $"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");
        var count = ElementCount(dims, name, path);
        var expected = count * dtype.SizeOf();
        if (end - begin != expected)
            throw Fail(path, $"tensor '{name}': data_offsets [{begin}, {end}] span {end - begin} bytes, but {code} shape {new Shape(dims)} needs {expected}");
        return new TensorEntry(name, dtype, new Shape(dims), begin, end);
    }

    /// <summary>A JSON array of non-negative integers (of exactly <paramref name="length"/> items unless −1).</summary>
    private static long[] ReadIntegers(JsonElement value, string name, string field, string path, int length)
    {
        var what = length < 0 ? "an array of non-negative integers" : $"an array of {length} non-negative integers";
        if (value.ValueKind != JsonValueKind.Array || (length >= 0 && value.GetArrayLength() != length))
            throw Fail(path, $"tensor '{name}': {field} must be {what}, got {Snippet(value)}");
        var result = new long[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var n) || n < 0)
                throw Fail(path, $"tensor '{name}': {field} must be {what}, got {Snippet(value)}");
            result[i++] = n;
        }
        return result;
    }

    /// <summary>Element count, which a Nabla tensor needs to fit in an int.</summary>
    private static long ElementCount(int[] dims, string name, string path)
    {
        if (dims.Contains(0)) return 0;
        long count = 1;
        foreach (var d in dims)
        {
            // count ≤ int.MaxValue and d ≤ int.MaxValue before this product, so it cannot overflow a long.
            count *= d;
            if (count > int.MaxValue) throw Fail(path, $"tensor '{name}': shape {new Shape(dims)} has more than {int.MaxValue} elements");
        }
        return count;
    }

    /// <summary>The ranges, sorted, must tile the data section exactly: no gap (a hiding place for other content), no overlap, nothing past the end.</summary>
    private static void CheckLayout(List<TensorEntry> tensors, long dataLength, string path)
    {
        long cursor = 0;
        TensorEntry? previous = null;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin < cursor) throw Fail(path, $"tensor '{t.Name}' bytes [{t.Begin}, {t.End}) overlap tensor '{previous!.Name}' bytes [{previous.Begin}, {previous.End})");
            if (t.Begin > cursor) throw Fail(path, $"data section has a gap: bytes [{cursor}, {t.Begin}) belong to no tensor");
            cursor = t.End;
            previous = t;
        }
        if (cursor != dataLength)
            throw Fail(path, cursor > dataLength
                ? $"tensors need {cursor} data bytes but the file holds {dataLength} (truncated?)"
                : $"data section is {dataLength} bytes but the tensors cover only {cursor}");
    }

    /// <summary>
    /// Any <c>nabla.</c> metadata key marks a Nabla-written file, which must then carry exactly the
    /// format version and both checksums. A single corrupted byte therefore cannot make a Nabla file
    /// pass as a foreign one: renaming one reserved key leaves another present and this one missing.
    /// </summary>
    private static void CheckNablaMetadata(SafetensorsHeader header, string path)
    {
        var reserved = header.Metadata.Where(kv => kv.Key.StartsWith(SafetensorsHeader.ReservedPrefix, StringComparison.Ordinal)).ToDictionary();
        if (reserved.Count == 0) return;
        foreach (var key in reserved.Keys)
            if (key is not (SafetensorsHeader.FormatKey or SafetensorsHeader.DataChecksumKey or SafetensorsHeader.HeaderChecksumKey))
                throw Fail(path, $"unknown reserved metadata key '{key}'");
        foreach (var key in new[] { SafetensorsHeader.FormatKey, SafetensorsHeader.DataChecksumKey, SafetensorsHeader.HeaderChecksumKey })
            if (!reserved.ContainsKey(key)) throw Fail(path, $"metadata has Nabla entries but lacks '{key}'");
        var version = reserved[SafetensorsHeader.FormatKey];
        if (version != SafetensorsHeader.FormatVersion) throw Fail(path, $"format version '{version}' is not supported (this build reads '{SafetensorsHeader.FormatVersion}')");
        foreach (var key in new[] { SafetensorsHeader.DataChecksumKey, SafetensorsHeader.HeaderChecksumKey })
        {
            var hex = reserved[key];
            if (hex.Length != 64 || !hex.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c))) throw Fail(path, $"'{key}' is not 64 lower-case hex digits: '{hex}'");
        }
        var actual = SafetensorsHeader.HeaderDigest(header.Tensors, header.Metadata);
        if (actual != reserved[SafetensorsHeader.HeaderChecksumKey])
            throw Fail(path, $"header checksum mismatch (recorded {reserved[SafetensorsHeader.HeaderChecksumKey]}, computed {actual}): the header is corrupted or was edited");
    }

    /// <summary>The JSON text of a value, cut short: a hostile header may hold a 100 MB array.</summary>
    private static string Snippet(JsonElement e)
    {
        var text = e.GetRawText();
        return text.Length <= 80 ? text : text[..80] + "...";
    }

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    internal static CheckpointException Fail(string path, string problem, Exception? inner = null) => new(path, problem, inner);
}
