using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Nabla;

/// <summary>
/// Saves and loads named tensors in the <a href="https://github.com/huggingface/safetensors">safetensors</a>
/// format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// (<c>{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}</c>,
/// space-padded to a multiple of 8), then the raw little-endian, row-major data. Nothing in a file
/// names a .NET type or runs code, and other safetensors readers (Python, Rust) read these files.
/// </summary>
/// <remarks>
/// <para>Nabla adds three <c>__metadata__</c> entries: <c>nabla.format</c> (<c>"1"</c>), <c>nabla.sha256</c>
/// (SHA-256 of the data section, lower-case hex) and <c>nabla.header_sha256</c> (SHA-256 of the header's
/// content in a canonical form, so a corrupted name, shape or metadata value is caught too). Loading
/// verifies them; files from other writers carry none and load unverified. The <c>nabla.</c> prefix is
/// reserved: caller metadata may not use it.</para>
/// <para>Data is laid out widest dtype first, then by name, so each tensor is aligned to its element size.</para>
/// <para>Supported dtypes: F32, F64, I32, I64, BOOL (one byte, 0 or 1). Values are stored bit-exactly,
/// NaN payloads and ±0 included.</para>
/// </remarks>
public static partial class Checkpoint
{
    /// <summary>The format version written to <c>nabla.format</c>.</summary>
    public const string FormatVersion = SafetensorsHeader.FormatVersion;

    /// <summary>
    /// Writes <paramref name="tensors"/> (and string <paramref name="metadata"/>) to <paramref name="path"/>,
    /// replacing any existing file atomically: the bytes go to a temporary file in the same directory,
    /// which is flushed to disk and then renamed over <paramref name="path"/>, so a crash leaves either
    /// the old file or the complete new one, never a partial one.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor is null or named <c>__metadata__</c>; a metadata key starts with <c>nabla.</c> or a value is null; <paramref name="path"/> names a directory.</exception>
    /// <exception cref="IOException">The file could not be written (the temporary file is removed).</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        TensorBytes.RequireLittleEndian();
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var meta = CheckArguments(tensors, metadata);

        // Widest elements first (then by name, for a deterministic file): the data section starts 8-byte
        // aligned, so every tensor then starts at a multiple of its element size and can be mapped in place.
        var ordered = tensors.OrderByDescending(kv => kv.Value.DType.SizeOf()).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var entries = new List<TensorEntry>(ordered.Count);
        long offset = 0;
        foreach (var (name, t) in ordered)
        {
            var bytes = (long)t.Size * t.DType.SizeOf();
            entries.Add(new TensorEntry(name, t.DType, t.Shape, offset, offset + bytes));
            offset += bytes;
        }

        // The checksums go in the header, which precedes the data, so hash the data in a first pass.
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            foreach (var (_, t) in ordered) TensorBytes.Write(t, null, hash);
            meta[SafetensorsHeader.DataChecksumKey] = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        meta[SafetensorsHeader.FormatKey] = SafetensorsHeader.FormatVersion;
        meta[SafetensorsHeader.HeaderChecksumKey] = SafetensorsHeader.HeaderDigest(entries, meta);
        var header = new SafetensorsHeader(entries, meta.ToList()).Encode();

        WriteAtomically(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var (_, t) in ordered) TensorBytes.Write(t, stream, null);
        });
    }

    /// <summary>Reads every tensor of a safetensors file, validating the whole file first (see <see cref="Load(string, out IReadOnlyDictionary{string, string})"/>).</summary>
    /// <exception cref="CheckpointException">The file is malformed, truncated, or fails its checksum.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static IReadOnlyDictionary<string, Tensor> Load(string path) => Load(path, out _);

    /// <summary>
    /// Reads every tensor of a safetensors file, in header order, and its <c>__metadata__</c> (empty when
    /// absent). Nothing is returned unless all of it checks out: the header length is at most 100 MB and
    /// within the file; the header is well-formed UTF-8 JSON with only known dtypes; each tensor's byte
    /// range matches its shape × element size; the ranges tile the data section exactly (in bounds, no
    /// overlap, no gap, no trailing bytes); bools are 0 or 1; and, in a Nabla-written file, the format
    /// version is known and both checksums match.
    /// </summary>
    /// <exception cref="CheckpointException">Any check fails; the message names the file and the problem.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static IReadOnlyDictionary<string, Tensor> Load(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        TensorBytes.RequireLittleEndian();
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var header = ReadHeader(stream, path);
        using var hash = header.DataChecksum is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        var arrays = new Dictionary<TensorEntry, Array>(ReferenceEqualityComparer.Instance);
        string? problem = null;
        try
        {
            // The layout check guarantees the ranges tile the data section, so reading in offset order is sequential.
            foreach (var t in header.Tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
            {
                var data = t.DType.NewArray(t.Shape.Size);
                if (TensorBytes.Read(stream, data, hash) is { } p) problem ??= $"tensor '{t.Name}': {p}";
                arrays[t] = data;
            }
        }
        catch (EndOfStreamException e)
        {
            throw SafetensorsHeaderParser.Fail(path, "file ended inside the data section (was it changed while being read?)", e);
        }
        if (hash is not null)
        {
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != header.DataChecksum)
                throw SafetensorsHeaderParser.Fail(path, $"data checksum mismatch (recorded {header.DataChecksum}, computed {actual}): the tensor data is corrupted");
        }
        if (problem is not null) throw SafetensorsHeaderParser.Fail(path, problem);

        metadata = ToDictionary(header.Metadata);
        var result = new Dictionary<string, Tensor>(header.Tensors.Count, StringComparer.Ordinal);
        foreach (var t in header.Tensors) result[t.Name] = new Tensor(arrays[t], t.Shape, t.DType);
        return result;
    }

    /// <summary>
    /// Reads a file's <c>__metadata__</c> (including the <c>nabla.</c> entries) without reading the tensor
    /// data. The header is fully validated, and its checksum verified in a Nabla-written file, but the
    /// data checksum is not: use <see cref="Load(string)"/> for that.
    /// </summary>
    /// <exception cref="CheckpointException">The header is malformed or inconsistent with the file's length.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ToDictionary(ReadHeader(stream, path).Metadata);
    }

    private static SafetensorsHeader ReadHeader(FileStream stream, string path)
    {
        var fileLength = stream.Length;
        if (fileLength < 8) throw SafetensorsHeaderParser.Fail(path, $"file is {fileLength} bytes, too short for the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        var n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > SafetensorsHeader.MaxHeaderBytes) throw SafetensorsHeaderParser.Fail(path, $"header length {n} exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte limit");
        if (n > (ulong)(fileLength - 8)) throw SafetensorsHeaderParser.Fail(path, $"header length {n} runs past the end of the {fileLength}-byte file");
        var json = new byte[n];
        try
        {
            stream.ReadExactly(json);
        }
        catch (EndOfStreamException e)
        {
            throw SafetensorsHeaderParser.Fail(path, "file ended inside the header (was it changed while being read?)", e);
        }
        return SafetensorsHeaderParser.Parse(json, fileLength - 8 - (long)n, path);
    }

    /// <summary>Checks names and values; returns the caller's metadata as a key-sorted map to which the Nabla entries are added.</summary>
    private static SortedDictionary<string, string> CheckArguments(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        foreach (var (name, t) in tensors)
        {
            if (t is null) throw new ArgumentException($"tensor '{name}' is null", nameof(tensors));
            if (name == SafetensorsHeader.MetadataKey) throw new ArgumentException($"'{SafetensorsHeader.MetadataKey}' is reserved by safetensors and cannot name a tensor", nameof(tensors));
        }
        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            if (key.StartsWith(SafetensorsHeader.ReservedPrefix, StringComparison.Ordinal))
                throw new ArgumentException($"metadata key '{key}': the '{SafetensorsHeader.ReservedPrefix}' prefix is reserved for Nabla's own entries", nameof(metadata));
            meta[key] = value ?? throw new ArgumentException($"metadata '{key}' is null", nameof(metadata));
        }
        return meta;
    }

    /// <summary>
    /// Test seam: when set (per thread), wraps the temporary file's stream, so a test can make a write or
    /// flush fail part-way and check that the previous file survives. Null in production.
    /// </summary>
    [ThreadStatic]
    internal static Func<Stream, Stream>? WriteStreamWrapperForTests;

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var name = Path.GetFileName(full);
        if (name.Length == 0) throw new ArgumentException($"'{path}' names a directory, not a file", nameof(path));
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var stream = WriteStreamWrapperForTests?.Invoke(file) ?? file;
                write(stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
            }
            // rename(2) replaces the target atomically on POSIX, MoveFileEx does on Windows.
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static Dictionary<string, string> ToDictionary(IEnumerable<KeyValuePair<string, string>> entries) =>
        entries.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
}
