using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;

namespace Nabla.Tests.Engine;

/// <summary>The safetensors file format: layout, round trips, and rejection of every kind of damage.</summary>
public class CheckpointTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("nabla-ckpt-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>A hand-built safetensors file, as another writer would make it.</summary>
    internal static byte[] Build(string json, byte[] data, bool pad = true)
    {
        var header = Encoding.UTF8.GetBytes(json);
        if (pad) header = [.. header, .. Enumerable.Repeat((byte)' ', (8 - header.Length % 8) % 8)];
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    private static Dictionary<string, Tensor> AllDTypes() => new()
    {
        ["f32"] = Tensor.FromArray([1.5f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon], 2, 3),
        ["f64"] = Tensor.FromArray([Math.PI, -0.0, BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_1234), double.MaxValue], 4),
        ["i32"] = Tensor.FromArray([int.MinValue, -1, 0, int.MaxValue], 2, 2),
        ["i64"] = Tensor.FromArray([long.MinValue, long.MaxValue, 42L], 3, 1),
        ["bool"] = Tensor.FromArray([true, false, false, true, true], 5),
        ["f32 scalar"] = Tensor.Scalar(-3.25f),
        ["f64 scalar"] = Tensor.Scalar(2.5),
        ["i32 scalar"] = Tensor.Scalar(7),
        ["i64 scalar"] = Tensor.Scalar(-9L),
        ["bool scalar"] = Tensor.Scalar(true),
        ["empty f32"] = Tensor.Zeros(new Shape(0), DType.Float32),
        ["empty i64"] = Tensor.Zeros(new Shape(3, 0, 2), DType.Int64),
        ["empty bool"] = Tensor.Zeros(new Shape(0, 4), DType.Bool),
        ["dense/kernel:0 ünïcode"] = Tensor.FromArray([1f, 2f], 2),
    };

    /// <summary>Bit-exact equality (NaN payloads and −0 included).</summary>
    private static void AssertIdentical(Tensor expected, Tensor actual, string name)
    {
        Assert.That(actual.DType, Is.EqualTo(expected.DType), name);
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), name);
        switch (expected.DType)
        {
            case DType.Float32:
                Assert.That(actual.ToArray<float>().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.ToArray<float>().Select(BitConverter.SingleToInt32Bits)), name);
                break;
            case DType.Float64:
                Assert.That(actual.ToArray<double>().Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(expected.ToArray<double>().Select(BitConverter.DoubleToInt64Bits)), name);
                break;
            case DType.Int32: Assert.That(actual.ToArray<int>(), Is.EqualTo(expected.ToArray<int>()), name); break;
            case DType.Int64: Assert.That(actual.ToArray<long>(), Is.EqualTo(expected.ToArray<long>()), name); break;
            default: Assert.That(actual.ToArray<bool>(), Is.EqualTo(expected.ToArray<bool>()), name); break;
        }
    }

    [Test]
    public void RoundTripsEveryDTypeScalarsAndEmptyTensorsBitExactly()
    {
        var tensors = AllDTypes();
        var path = PathOf("all.safetensors");
        Checkpoint.Save(path, tensors, new Dictionary<string, string> { ["epoch"] = "3", ["note"] = "héllo \"quoted\"" });

        var loaded = Checkpoint.Load(path, out var metadata);
        Assert.That(loaded.Keys, Is.EquivalentTo(tensors.Keys));
        foreach (var (name, t) in tensors) AssertIdentical(t, loaded[name], name);
        Assert.That(metadata["epoch"], Is.EqualTo("3"));
        Assert.That(metadata["note"], Is.EqualTo("héllo \"quoted\""));
        Assert.That(metadata["nabla.format"], Is.EqualTo(Checkpoint.FormatVersion));
        Assert.That(metadata["nabla.sha256"], Has.Length.EqualTo(64));
        Assert.That(Checkpoint.ReadMetadata(path), Is.EquivalentTo(metadata));
    }

    [Test]
    public void EmptyDictionaryRoundTrips()
    {
        var path = PathOf("none.safetensors");
        Checkpoint.Save(path, new Dictionary<string, Tensor>());
        Assert.That(Checkpoint.Load(path), Is.Empty);
    }

    /// <summary>
    /// The exact bytes of a tiny file, built by hand from the safetensors spec: the header length, the
    /// compact JSON (metadata first, tensors widest dtype first then by name), space padding to a multiple
    /// of 8, then the little-endian data. The two checksums are recomputed here from their documented definitions.
    /// </summary>
    [Test]
    public void FileLayoutIsExactlySafetensors()
    {
        var path = PathOf("tiny.safetensors");
        Checkpoint.Save(path, new Dictionary<string, Tensor>
        {
            ["w"] = Tensor.FromArray([1.5f, -2f], 2),
            ["b"] = Tensor.FromArray([true, false, true], 3),
            ["n"] = Tensor.Scalar(7L),
        }, new Dictionary<string, string> { ["author"] = "me" });

        byte[] data =
        [
            7, 0, 0, 0, 0, 0, 0, 0,     // n: int64 7
            0, 0, 0xC0, 0x3F,           // w[0]: 1.5f = 0x3FC00000
            0, 0, 0, 0xC0,              // w[1]: -2f  = 0xC0000000
            1, 0, 1,                    // b: bools as single bytes
        ];
        var dataSha = Convert.ToHexStringLower(SHA256.HashData(data));
        var headerSha = CanonicalHeaderDigest(
            [("author", "me"), ("nabla.format", "1")],
            [("b", "BOOL", [3], 16, 19), ("n", "I64", [], 0, 8), ("w", "F32", [2], 8, 16)]);
        var json = "{\"__metadata__\":{\"author\":\"me\",\"nabla.format\":\"1\",\"nabla.header_sha256\":\"" + headerSha + "\",\"nabla.sha256\":\"" + dataSha + "\"},"
            + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
            + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
            + "\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[16,19]}}";
        var expected = Build(json, data);

        var actual = File.ReadAllBytes(path);
        Assert.That((actual.Length - data.Length) % 8, Is.Zero, "data section starts 8-byte aligned");
        Assert.That(Encoding.UTF8.GetString(actual), Is.EqualTo(Encoding.UTF8.GetString(expected)));
        Assert.That(actual, Is.EqualTo(expected));
    }

    /// <summary>The header digest as documented on SafetensorsHeader.HeaderDigest, reimplemented independently.</summary>
    private static string CanonicalHeaderDigest((string Key, string Value)[] metadata, (string Name, string DType, long[] Dims, long Begin, long End)[] tensors)
    {
        var bytes = new List<byte>();
        void Int64(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); bytes.AddRange(b); }
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); Int64(b.Length); bytes.AddRange(b); }
        foreach (var (k, v) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) { bytes.Add((byte)'M'); Str(k); Str(v); }
        foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            bytes.Add((byte)'T');
            Str(t.Name);
            Str(t.DType);
            Int64(t.Dims.Length);
            foreach (var d in t.Dims) Int64(d);
            Int64(t.Begin);
            Int64(t.End);
        }
        return Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));
    }

    [Test]
    public void FilesFromOtherWritersLoadWithoutChecksums()
    {
        // As Python's safetensors writes (padded, "format": "pt"), and as MLX writes (no padding, no metadata).
        var data = new byte[12];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -1f);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(8), 123);
        var json = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"k\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[8,12]}}";
        foreach (var (file, fileJson, padded) in new[] { ("pt.safetensors", json, true), ("mlx.safetensors", json[(json.IndexOf(",\"a\"", StringComparison.Ordinal) + 1)..].Insert(0, "{"), false) })
        {
            var path = PathOf(file);
            File.WriteAllBytes(path, Build(fileJson, data, padded));
            var loaded = Checkpoint.Load(path, out var metadata);
            Assert.That(loaded["a"].ToArray<float>(), Is.EqualTo(new[] { 1f, -1f }), file);
            Assert.That(loaded["k"].ToScalar<int>(), Is.EqualTo(123), file);
            Assert.That(loaded["k"].Shape, Is.EqualTo(Shape.Scalar), file);
            Assert.That(metadata.ContainsKey("nabla.sha256"), Is.False, file);
            Assert.That(metadata.GetValueOrDefault("format"), Is.EqualTo(padded ? "pt" : null), file);
        }
    }

    /// <summary>
    /// Vectors from the reference implementation's own tests (huggingface/safetensors, safetensors/src/tensor.rs):
    /// the bytes its serializer produces for one F32 [1,1,2,3] tensor, a header padded with mixed JSON
    /// whitespace, and two headers it rejects.
    /// </summary>
    [Test]
    public void ReferenceImplementationVectors()
    {
        var json = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}";
        var serialized = new List<byte> { 72, 0, 0, 0, 0, 0, 0, 0 };
        serialized.AddRange(Encoding.ASCII.GetBytes(json + "       "));
        foreach (var f in new[] { 0f, 1f, 2f, 3f, 4f, 5f }) serialized.AddRange(BitConverter.GetBytes(f));
        var path = PathOf("reference.safetensors");
        File.WriteAllBytes(path, serialized.ToArray());
        var attn = Checkpoint.Load(path)["attn0"];
        Assert.That(attn.Shape, Is.EqualTo(new Shape(1, 1, 2, 3)));
        Assert.That(attn.ToArray<float>(), Is.EqualTo(new[] { 0f, 1f, 2f, 3f, 4f, 5f }));

        File.WriteAllBytes(path, [6, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}', 0x0D, 0x20, 0x09, 0x0A]);
        Assert.That(Checkpoint.Load(path), Is.Empty);

        Rejects(Build("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0, 4]}}", [], pad: false));
        Rejects(Build("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,18446744073709551614],\"data_offsets\":[0,16]}}", new byte[16]));
        Rejects(Build("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,9223372036854775807],\"data_offsets\":[0,16]}}", new byte[16]));
    }

    private byte[] SmallFile(out string path)
    {
        path = PathOf("small.safetensors");
        Checkpoint.Save(path, new Dictionary<string, Tensor>
        {
            ["a"] = Tensor.FromArray([1f, 2f, 3f], 3),
            ["b"] = Tensor.FromArray([true, false], 2),
            ["c"] = Tensor.FromArray([5L, -6L], 2),
        });
        return File.ReadAllBytes(path);
    }

    private static long HeaderEnd(byte[] file) => 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(file);

    private CheckpointException Rejects(byte[] file, string name = "bad.safetensors")
    {
        var path = PathOf(name);
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path))!;
        Assert.That(e.FilePath, Is.EqualTo(path));
        Assert.That(e.Message, Does.Contain(path));
        return e;
    }

    [Test]
    public void EveryTruncationAndAnyTrailingByteIsRejected()
    {
        var file = SmallFile(out _);
        for (var n = 0; n < file.Length; n++) Rejects(file[..n]);
        Assert.That(Rejects([.. file, 0]).Message, Does.Contain("tensors cover only"));
    }

    [Test]
    public void EveryFlippedDataByteFailsTheChecksum()
    {
        var file = SmallFile(out _);
        for (var i = (int)HeaderEnd(file); i < file.Length; i++)
        {
            var bad = (byte[])file.Clone();
            bad[i] ^= 0x01;
            Assert.That(Rejects(bad).Message, Does.Contain("data checksum mismatch"), $"byte {i}");
        }
    }

    [Test]
    public void EveryFlippedHeaderByteIsRejected()
    {
        // Including flips that keep the JSON valid (a name 'a' → '`', a dimension 3 → 2): the header checksum catches those.
        var file = SmallFile(out _);
        foreach (var mask in new byte[] { 0x01, 0x02, 0x20, 0x80 })
            for (var i = 0; i < HeaderEnd(file); i++)
            {
                var bad = (byte[])file.Clone();
                bad[i] ^= mask;
                Rejects(bad);
            }
    }

    [Test]
    public void EditedNameWithValidJsonFailsTheHeaderChecksum()
    {
        var file = SmallFile(out _);
        var text = Encoding.UTF8.GetString(file, 8, (int)HeaderEnd(file) - 8);
        var at = 8 + text.IndexOf("\"a\":", StringComparison.Ordinal) + 1;
        file[at] = (byte)'z';
        Assert.That(Rejects(file).Message, Does.Contain("header checksum mismatch"));
    }

    [Test]
    public void HugeOrOverlongHeaderLengthIsRejected()
    {
        var file = SmallFile(out _);
        foreach (var (n, expect) in new[] { (ulong.MaxValue, "limit"), (1UL << 40, "limit"), (100_000_001UL, "limit"), ((ulong)file.Length, "runs past the end"), ((ulong)file.Length - 7, "runs past the end") })
        {
            var bad = (byte[])file.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(bad, n);
            Assert.That(Rejects(bad).Message, Does.Contain(expect), $"N = {n}");
        }
    }

    private const string F32x2 = "\"dtype\":\"F32\",\"shape\":[2]";

    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + F32x2 + ",\"data_offsets\":[4,12]}}", 12, "overlap")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + F32x2 + ",\"data_offsets\":[0,8]}}", 8, "overlap")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + F32x2 + ",\"data_offsets\":[12,20]}}", 20, "gap")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]}}", 4, "truncated")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[8,16]}}", 16, "gap")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,12]}}", 12, "needs 8")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[8,0]}}", 8, "end before they begin")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,9223372036854775807]}}", 8, "needs 8")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,18446744073709551615]}}", 8, "non-negative integers")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0]}}", 8, "array of 2")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[-8,0]}}", 8, "non-negative")]
    [TestCase("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "dtype 'F16' is not supported")]
    [TestCase("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "dtype 'Q7' is not supported")]
    [TestCase("{\"a\":{\"dtype\":3,\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "not a string")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "non-negative")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "non-negative integers")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,8]}}", 8, "exceeds")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,8]}}", 8, "more than")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "shape must be")]
    [TestCase("{\"a\":{" + F32x2 + "}}", 8, "missing field 'data_offsets'")]
    [TestCase("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing field 'dtype'")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8],\"extra\":1}}", 8, "unknown field 'extra'")]
    [TestCase("{\"a\":{" + F32x2 + ",\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "appears twice")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]},\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]}}", 8, "appears twice")]
    [TestCase("{\"a\":[1,2]}", 0, "not an object")]
    [TestCase("{\"__metadata__\":{\"k\":1}}", 0, "must be strings")]
    [TestCase("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", 0, "appears twice")]
    [TestCase("{\"__metadata__\":[]}", 0, "not an object")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]}", 8, "not well-formed JSON")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8],}}", 8, "not well-formed JSON")]
    [TestCase("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]}} x", 8, "not well-formed JSON")]
    [TestCase(" {}", 0, "does not start with '{'")]
    [TestCase("", 0, "does not start with '{'")]
    [TestCase("{\"\\ud800\":{" + F32x2 + ",\"data_offsets\":[0,8]}}", 8, "undecodable")]
    [TestCase("{\"__metadata__\":{\"nabla.format\":\"2\",\"nabla.sha256\":\"x\",\"nabla.header_sha256\":\"y\"}}", 0, "format version '2' is not supported")]
    [TestCase("{\"__metadata__\":{\"nabla.format\":\"1\",\"nabla.sha256\":\"x\"}}", 0, "lacks 'nabla.header_sha256'")]
    [TestCase("{\"__metadata__\":{\"nabla.sha256\":\"x\"}}", 0, "lacks 'nabla.format'")]
    [TestCase("{\"__metadata__\":{\"nabla.other\":\"x\"}}", 0, "unknown reserved metadata key")]
    public void MalformedHeaderIsRejected(string json, int dataBytes, string expected)
    {
        var e = Rejects(Build(json, new byte[dataBytes]));
        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void InvalidUtf8HeaderAndNonBinaryBoolsAreRejected()
    {
        var header = Build("{\"a\":{" + F32x2 + ",\"data_offsets\":[0,8]}}", new byte[8]);
        header[10] = 0xFF; // inside the name "a"
        Assert.That(Rejects(header).Message, Does.Contain("not valid UTF-8"));
        var bools = Build("{\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", [1, 2, 0]);
        Assert.That(Rejects(bools).Message, Does.Contain("bool element 1 is byte 2"));
    }

    [Test]
    public void SaveReplacesAnExistingFileAndLeavesNoTemporaryFiles()
    {
        var path = PathOf("model.safetensors");
        Checkpoint.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1f, 2f], 2) });
        Checkpoint.Save(path, new Dictionary<string, Tensor> { ["y"] = Tensor.FromArray([3, 4, 5], 3) });
        Assert.That(Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName), Is.EqualTo(new[] { "model.safetensors" }));
        var loaded = Checkpoint.Load(path);
        Assert.That(loaded.Keys, Is.EqualTo(new[] { "y" }));
        Assert.That(loaded["y"].ToArray<int>(), Is.EqualTo(new[] { 3, 4, 5 }));
    }

    [Test]
    public void FailedSaveLeavesNoTemporaryFileAndTheOldFileIntact()
    {
        // The final rename fails (the target is a non-empty directory): the temporary file must go.
        var blocked = PathOf("blocked");
        Directory.CreateDirectory(blocked);
        File.WriteAllText(Path.Combine(blocked, "keep"), "x");
        Assert.That(() => Checkpoint.Save(blocked, new Dictionary<string, Tensor> { ["x"] = Tensor.Scalar(1f) }),
            Throws.InstanceOf<IOException>().Or.InstanceOf<UnauthorizedAccessException>());
        Assert.That(Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName), Is.EqualTo(new[] { "blocked" }));

        // Invalid arguments are rejected before anything touches the existing file.
        var path = PathOf("model.safetensors");
        Checkpoint.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Scalar(1f) });
        var before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Scalar(1f) }));
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, new Dictionary<string, Tensor> { ["x"] = null! }));
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["nabla.sha256"] = "0" }));
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(path + Path.DirectorySeparatorChar, new Dictionary<string, Tensor>()));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName), Is.EquivalentTo(new[] { "blocked", "model.safetensors" }));
    }

    [Test]
    public void MissingFileIsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(PathOf("absent.safetensors")));
}
