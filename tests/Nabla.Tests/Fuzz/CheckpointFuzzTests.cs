using System.Buffers.Binary;
using System.Text;
using Nabla.Layers;
using Nabla.Tests.Layers;
using NUnit.Framework;

namespace Nabla.Tests.Fuzz;

/// <summary>
/// Issue 9 §5: checkpoint loading under hostile input (every truncation, bit flips, hostile header
/// lengths and headers) and saving under a crash at every write boundary. Every load of a damaged file
/// must throw <see cref="CheckpointException"/>, leave the variables as they were, and allocate little.
/// </summary>
public sealed class CheckpointFuzzTests : KerasTestBase
{
    /// <summary>
    /// Bytes one failed load may allocate: the 64 KiB FileStream buffer, the header (≤ the file), the JSON
    /// document and the exception message. A load that trusted a hostile length would allocate megabytes to gigabytes.
    /// </summary>
    private const long AllocationBound = 1 << 20;

    private string _dir = "";

    [SetUp]
    public void TempDir() => _dir = Directory.CreateTempSubdirectory("nabla-ckptfuzz-").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>The checkpoint tests' small model (a float kernel, a float64 bias, an int64 counter and a bool mask: every dtype's byte layout), initialised on the CPU.</summary>
    private static (Session Session, Variable[] Vars) SmallModel(ulong seed)
    {
        var (g, vars) = Nabla.Tests.Engine.CheckpointVariablesTests.Model(seed);
        var s = new Session(g, Device.Cpu);
        s.Run([], null, g.GlobalVariablesInitializer());
        return (s, vars);
    }

    private static double[][] Snapshot(Session s, Variable[] vars) => vars.Select(v => s.ReadVariable(v).ToDoubleArray()).ToArray();

    /// <summary>Loads <paramref name="path"/> into fresh variables; returns the exception (null if it loaded) and the bytes allocated.</summary>
    private static (CheckpointException? Error, long Allocated, bool Unchanged) TryLoad(Session s, Variable[] vars, string path)
    {
        var before = Snapshot(s, vars);
        var allocated0 = GC.GetAllocatedBytesForCurrentThread();
        CheckpointException? error = null;
        try
        {
            Checkpoint.LoadVariables(s, vars, path);
        }
        catch (CheckpointException e)
        {
            error = e;
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocated0;
        var after = Snapshot(s, vars);
        var unchanged = before.Zip(after).All(p => p.First.SequenceEqual(p.Second));
        return (error, allocated, unchanged);
    }

    private byte[] SavedBytes(out double[][] saved)
    {
        var (source, vars) = SmallModel(7);
        using (source)
        {
            var path = PathOf("source.safetensors");
            Checkpoint.SaveVariables(source, vars, path);
            saved = Snapshot(source, vars);
            return File.ReadAllBytes(path);
        }
    }

    private static void AssertRejected((CheckpointException? Error, long Allocated, bool Unchanged) r, string path, string what)
    {
        Assert.That(r.Error, Is.Not.Null, $"{what}: loaded without error");
        Assert.That(r.Error!.FilePath, Is.EqualTo(path), what);
        Assert.That(r.Error.Message, Does.Contain(path), what);
        Assert.That(r.Unchanged, Is.True, $"{what}: variables changed by a failed load");
        Assert.That(r.Allocated, Is.LessThan(AllocationBound), $"{what}: a failed load allocated {r.Allocated} bytes");
    }

    [Test]
    public void TruncationAtEveryByteOffsetIsRejected()
    {
        var bytes = SavedBytes(out _);
        var (target, vars) = SmallModel(3);
        using var owned = target;
        var path = PathOf("cut.safetensors");
        for (var n = 0; n < bytes.Length; n++)
        {
            File.WriteAllBytes(path, bytes[..n]);
            AssertRejected(TryLoad(target, vars, path), path, $"truncated to {n} of {bytes.Length} bytes");
        }
        // The whole file loads: the loop above tested damage, not a file that never loads.
        File.WriteAllBytes(path, bytes);
        Assert.That(TryLoad(target, vars, path).Error, Is.Null);
    }

    /// <summary>One flipped bit in every byte (which bit: seeded): ~600 loads rather than 8× that, to keep the suite fast.</summary>
    [Test]
    public void ARandomBitFlippedInEveryByteIsRejected()
    {
        var bytes = SavedBytes(out var saved);
        var (target, vars) = SmallModel(3);
        using var owned = target;
        var path = PathOf("flip.safetensors");
        var rng = new Random(5);
        for (var at = 0; at < bytes.Length; at++)
        {
            var bit = rng.Next(8);
            var damaged = (byte[])bytes.Clone();
            damaged[at] ^= (byte)(1 << bit);
            File.WriteAllBytes(path, damaged);
            // Every single-bit flip of a Nabla file is caught: by the length prefix, the JSON, the layout,
            // the header checksum or the data checksum (a space of the padding never flips to JSON whitespace).
            AssertRejected(TryLoad(target, vars, path), path, $"bit {bit} of byte {at} flipped (seed 5)");
        }
        File.WriteAllBytes(path, bytes);
        Assert.That(TryLoad(target, vars, path).Error, Is.Null);
        Assert.That(Snapshot(target, vars), Is.EqualTo(saved));
    }

    [Test]
    public void RandomMultiByteCorruptionIsRejected()
    {
        var bytes = SavedBytes(out _);
        var (target, vars) = SmallModel(3);
        using var owned = target;
        var path = PathOf("noise.safetensors");
        var rng = new Random(9);
        for (var trial = 0; trial < 300; trial++)
        {
            var damaged = (byte[])bytes.Clone();
            var flips = rng.Next(2, 9);
            for (var k = 0; k < flips; k++) damaged[rng.Next(damaged.Length)] = (byte)rng.Next(256);
            if (damaged.AsSpan().SequenceEqual(bytes)) continue;
            File.WriteAllBytes(path, damaged);
            AssertRejected(TryLoad(target, vars, path), path, $"trial {trial}: {flips} random bytes (seed 9)");
        }
    }

    [TestCase(ulong.MaxValue, TestName = "HeaderLength_UInt64Max")]
    [TestCase(0x8000_0000_0000_0000UL, TestName = "HeaderLength_NegativeAsInt64")]
    [TestCase(0xFFFF_FFFF_FFFF_FFF8UL, TestName = "HeaderLength_Minus8AsInt64")]
    [TestCase((ulong)int.MaxValue + 1, TestName = "HeaderLength_Int32MaxPlus1")]
    [TestCase(100_000_001UL, TestName = "HeaderLength_JustOverTheLimit")]
    [TestCase(100_000_000UL, TestName = "HeaderLength_AtTheLimitButPastTheEnd")]
    [TestCase(0UL, TestName = "HeaderLength_Zero")]
    [TestCase(1UL, TestName = "HeaderLength_One")]
    public void HostileHeaderLengthIsRejectedWithoutAllocating(ulong length)
    {
        var bytes = SavedBytes(out _);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        var (target, vars) = SmallModel(3);
        using var owned = target;
        var path = PathOf("len.safetensors");
        File.WriteAllBytes(path, bytes);
        AssertRejected(TryLoad(target, vars, path), path, $"header length {length}");
    }

    [Test]
    public void HeaderLengthOffByAFewBytesEitherWayIsRejected()
    {
        var bytes = SavedBytes(out _);
        var actual = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var (target, vars) = SmallModel(3);
        using var owned = target;
        var path = PathOf("len.safetensors");
        foreach (var delta in new long[] { -9, -8, -1, 1, 7, 8, (long)bytes.Length - 8 - (long)actual, (long)bytes.Length - 8 - (long)actual + 1 })
        {
            var damaged = (byte[])bytes.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(damaged, (ulong)((long)actual + delta));
            File.WriteAllBytes(path, damaged);
            AssertRejected(TryLoad(target, vars, path), path, $"header length {actual}{delta:+0;-0}");
        }
    }

    /// <summary>Foreign-looking files (no Nabla checksums) whose header claims huge tensors: refused before any tensor is allocated.</summary>
    [TestCase("{\"dense/kernel\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,17179869184]}}", TestName = "HostileHeader_HugeShapeMatchingOffsets")]
    [TestCase("{\"dense/kernel\":{\"dtype\":\"F32\",\"shape\":[536870911],\"data_offsets\":[0,2147483644]}}", TestName = "HostileHeader_OffsetsPastTheEnd")]
    [TestCase("{\"dense/kernel\":{\"dtype\":\"F64\",\"shape\":[2147483647,2],\"data_offsets\":[0,34359738352]}}", TestName = "HostileHeader_MoreThanInt32Elements")]
    [TestCase("{\"dense/kernel\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", TestName = "HostileHeader_NegativeDim")]
    [TestCase("{\"dense/kernel\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", TestName = "HostileHeader_NegativeOffset")]
    [TestCase("{\"dense/kernel\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775804,9223372036854775807]}}", TestName = "HostileHeader_OffsetsNearInt64Max")]
    [TestCase("{\"dense/kernel\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", TestName = "HostileHeader_Overlap")]
    [TestCase("{\"__metadata__\":{\"nabla.format\":\"1\"},\"dense/kernel\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", TestName = "HostileHeader_PartialNablaMetadata")]
    [TestCase("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", TestName = "HostileHeader_DeepNesting")]
    public void HostileHeaderIsRejectedWithoutAllocating(string json)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + header.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        var (target, vars) = SmallModel(3);
        using var owned = target;
        var path = PathOf("hostile.safetensors");
        File.WriteAllBytes(path, file);
        AssertRejected(TryLoad(target, vars, path), path, json);
    }

    /// <summary>Model.LoadWeights goes through the same checks: a damaged file leaves the model's predictions unchanged.</summary>
    [Test]
    public void ModelLoadWeightsRejectsEveryTruncationAndLeavesTheModelUnchanged()
    {
        var model = Mlp();
        var path = PathOf("w.safetensors");
        model.SaveWeights(path);
        var bytes = File.ReadAllBytes(path);
        var target = Mlp();
        var x = Tensor.RandomNormal(new Shape(2, 4), seed: 5);
        var expected = target.Predict(x).ToArray<float>();
        var cut = PathOf("cut.safetensors");
        // Every offset up to the end of the header, then a stride through the data section: the data
        // path is the same code for every offset (covered byte by byte by the Checkpoint test above).
        var headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        for (var n = 0; n < bytes.Length; n += n < headerEnd + 16 ? 1 : 7)
        {
            File.WriteAllBytes(cut, bytes[..n]);
            var allocated0 = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<CheckpointException>(() => target.LoadWeights(cut), $"truncated to {n} of {bytes.Length} bytes")!;
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocated0;
            Assert.That(e.FilePath, Is.EqualTo(cut));
            Assert.That(allocated, Is.LessThan(AllocationBound), $"truncated to {n}: allocated {allocated} bytes");
        }
        Assert.That(target.Predict(x).ToArray<float>(), Is.EqualTo(expected));
    }

    private static Sequential Mlp() => new([new Dense(3, "relu", inputShape: [4]), new Dense(2)]);

    /// <summary>
    /// A crash simulated at every write and flush of SaveWeights (after writing half of that call's bytes)
    /// leaves the previous checkpoint in place and loadable, and no temporary file behind. Once the crash
    /// point is past the last write, the save completes and the new weights load.
    /// </summary>
    [Test]
    public void CrashAtEveryWriteBoundaryOfSaveWeightsLeavesThePreviousCheckpointLoadable()
    {
        var model = Mlp();
        var path = PathOf("w.safetensors");
        model.SaveWeights(path);
        var old = File.ReadAllBytes(path);
        var oldWeights = model.GetWeights().Select(w => w.ToArray<float>()).ToArray();
        model.SetWeights(model.GetWeights().Select(w => Tensor.FromArray(w.ToArray<float>().Select(v => v + 1).ToArray(), w.Shape.ToArray())).ToArray());
        var newWeights = model.GetWeights().Select(w => w.ToArray<float>()).ToArray();

        var boundaries = 0;
        for (var crashAt = 0; ; crashAt++)
        {
            CrashingStream? crashing = null;
            Checkpoint.WriteStreamWrapperForTests = s => crashing = new CrashingStream(s, crashAt);
            try
            {
                model.SaveWeights(path);
            }
            catch (IOException e) when (e.Message == CrashingStream.Message)
            {
                boundaries++;
                Assert.That(File.ReadAllBytes(path), Is.EqualTo(old), $"crash at write {crashAt} changed the previous file");
                Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }), $"crash at write {crashAt} left a temporary file");
                var reader = Mlp();
                reader.LoadWeights(path);
                Assert.That(reader.GetWeights().Select(w => w.ToArray<float>()), Is.EqualTo(oldWeights));
                continue;
            }
            finally
            {
                Checkpoint.WriteStreamWrapperForTests = null;
            }
            Assert.That(crashing!.Calls, Is.EqualTo(crashAt), "the save completed only once the crash point was past its last write");
            break;
        }
        // Length prefix, header, one write per tensor, and the final flush at least.
        Assert.That(boundaries, Is.GreaterThanOrEqualTo(4));
        var fresh = Mlp();
        fresh.LoadWeights(path);
        Assert.That(fresh.GetWeights().Select(w => w.ToArray<float>()), Is.EqualTo(newWeights));
    }

    /// <summary>Passes writes through until call number <c>crashAt</c>, which writes half its bytes and throws.</summary>
    private sealed class CrashingStream(Stream inner, int crashAt) : Stream
    {
        public const string Message = "simulated crash";

        public int Calls { get; private set; }

        private void Boundary(ReadOnlySpan<byte> bytes)
        {
            if (Calls++ != crashAt) return;
            inner.Write(bytes[..(bytes.Length / 2)]);
            throw new IOException(Message);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Boundary(buffer);
            inner.Write(buffer);
        }

        public override void Flush()
        {
            Boundary([]);
            inner.Flush();
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
