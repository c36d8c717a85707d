using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels.Cuda;

/// <summary>
/// What the CUDA backend adds to the shared contract: its allocator (natural sizes, zeroed buffers, views, transfers of
/// every dtype, counters, double frees), batch norm composed from kernels, and AllReduce staged through the host.
/// Expected values are float64 definitions written here. One subclass per CUDA device.
/// </summary>
public abstract class CudaBackendTests
{
    private CudaBackend _be = null!;

    private protected abstract CudaBackend Create();

    [SetUp]
    public void SetUp() => _be = Create();

    [TearDown]
    public void TearDown() => _be?.Dispose();

    private IAllocator M => _be.Memory;

    private DeviceBuffer Upload(double[] values, DType dtype = DType.Float32)
    {
        var b = M.Allocate(dtype, values.Length);
        M.WriteFloat64(values, b);
        return b;
    }

    [Test]
    public void EveryDTypeRoundTripsInItsNaturalSize()
    {
        Assert.That(Enum.GetValues<DType>().Select(M.StorageBytes), Is.EqualTo(Enum.GetValues<DType>().Select(d => d.SizeOf())));
        Assert.That(Enum.GetValues<DType>().Select(M.ArenaOf).Distinct(), Is.EqualTo(new[] { 0 }), "one arena holds every dtype");
        Array[] hosts = [new[] { 1.5f, -2, float.NaN }, new[] { 1e300, -0.0, 3 }, new[] { int.MinValue, 0, 7 }, new[] { long.MaxValue, -1L, 5 }, new[] { true, false, true }];
        foreach (var host in hosts)
        {
            var dtype = Enum.GetValues<DType>().Single(d => d.ClrType() == host.GetType().GetElementType());
            var b = M.Allocate(dtype, host.Length);
            M.Upload(host, b);
            var back = dtype.NewArray(host.Length);
            M.Download(b, back);
            Assert.That(back, Is.EqualTo(host), dtype.Name());
            M.Free(b);
        }
    }

    [Test]
    public void AllocateZeroesAndReadFloat64KeepsInt64Precision()
    {
        foreach (var dtype in Enum.GetValues<DType>())
            Assert.That(M.ReadFloat64(M.Allocate(dtype, 5)), Is.All.EqualTo(0.0), dtype.Name());
        var big = M.Allocate(DType.Int64, 2);
        M.Upload(new[] { (1L << 53) + 1, -3L }, big);
        var back = new long[2];
        M.Download(big, back);
        Assert.That(back, Is.EqualTo(new[] { (1L << 53) + 1, -3L }));
    }

    [Test]
    public void UploadReadsTheHostArrayBeforeReturning()
    {
        var b = M.Allocate(DType.Float32, 4);
        var host = new[] { 1f, 2, 3, 4 };
        M.Upload(host, b);
        Array.Fill(host, -9f); // the contract lets the caller reuse the array at once
        Assert.That(M.ReadFloat64(b), Is.EqualTo(new[] { 1.0, 2, 3, 4 }));
    }

    [Test]
    public void ViewsSitAtTheirOffsetsOfOneArena()
    {
        var arena = M.AllocateArena(M.ArenaOf(DType.Float32), 4 * M.Alignment);
        var first = M.View(arena, 0, DType.Float32, 3);
        var second = M.View(arena, 2 * M.Alignment, DType.Int64, 2);
        M.WriteFloat64([1, 2, 3], first);
        M.WriteFloat64([40, 50], second);
        Assert.That(M.ReadFloat64(first), Is.EqualTo(new[] { 1.0, 2, 3 }));
        Assert.That(M.ReadFloat64(second), Is.EqualTo(new[] { 40.0, 50 }));
        Assert.Throws<ArgumentException>(() => M.View(arena, 4, DType.Float32, 1), "offsets are multiples of the alignment");
        Assert.Throws<ArgumentOutOfRangeException>(() => M.View(arena, 4 * M.Alignment, DType.Float32, 1), "past the end");
        Assert.Throws<InvalidOperationException>(() => M.Free(first), "a view owns nothing");
        M.Free(arena);
    }

    [Test]
    public void StatsCountAllocationsTransfersAndFrees()
    {
        var before = M.Stats;
        var b = M.Allocate(DType.Float64, 100);
        M.WriteFloat64(new double[100], b);
        M.ReadFloat64(b);
        M.Free(b);
        var after = M.Stats;
        Assert.That((after.Allocations - before.Allocations, after.Frees - before.Frees), Is.EqualTo((1L, 1L)));
        Assert.That((after.Uploads - before.Uploads, after.Downloads - before.Downloads), Is.EqualTo((1L, 1L)));
        Assert.That(after.BytesInUse, Is.EqualTo(before.BytesInUse));
        Assert.That(after.PeakBytesInUse, Is.GreaterThanOrEqualTo(before.BytesInUse + 800));
        Assert.Throws<InvalidOperationException>(() => M.Free(b), "double free");
    }

    [Test]
    public void FillWritesEveryDType()
    {
        foreach (var dtype in Enum.GetValues<DType>())
        {
            var b = M.Allocate(dtype, 37);
            _be.Fill(b, dtype == DType.Bool ? 1 : -3);
            Assert.That(M.ReadFloat64(b), Is.All.EqualTo(dtype == DType.Bool ? 1.0 : -3.0), dtype.Name());
        }
    }

    /// <summary>x [rows, channels] with per-channel offsets so channels differ in mean and spread.</summary>
    private static double[] BatchNormInput(int rows, int channels) =>
        Enumerable.Range(0, rows * channels).Select(i => Math.Sin(i * 0.7) * (1 + i % channels) + i % channels).ToArray();

    [TestCase(true), TestCase(false)]
    public void BatchNormMatchesItsDefinition(bool training)
    {
        const int rows = 6, channels = 3;
        const double eps = 1e-3;
        var x = BatchNormInput(rows, channels);
        double[] scale = [1.5, -0.5, 2], offset = [0.1, 0.2, -0.3], mean = [0.5, 1, -1], variance = [2, 0.5, 1];
        var y = M.Allocate(DType.Float32, rows * channels);
        DeviceBuffer bm = M.Allocate(DType.Float32, channels), bv = M.Allocate(DType.Float32, channels);
        _be.BatchNorm(Upload(x), Upload(scale), Upload(offset), Upload(mean), Upload(variance), eps, training, rows, channels, y, bm, bv);
        var mu = new double[channels];
        var sigma2 = new double[channels];
        for (var c = 0; c < channels; c++)
        {
            if (training)
            {
                mu[c] = Enumerable.Range(0, rows).Average(r => x[r * channels + c]);
                sigma2[c] = Enumerable.Range(0, rows).Average(r => Math.Pow(x[r * channels + c] - mu[c], 2));
            }
            else (mu[c], sigma2[c]) = (mean[c], variance[c]);
        }
        var expected = x.Select((v, i) => (v - mu[i % channels]) * scale[i % channels] / Math.Sqrt(sigma2[i % channels] + eps) + offset[i % channels]).ToArray();
        OpHarness.AssertClose(expected, M.ReadFloat64(y), 1e-6, 1e-6, "y");
        OpHarness.AssertClose(mu, M.ReadFloat64(bm), 1e-6, 1e-6, "batch mean");
        OpHarness.AssertClose(training ? sigma2.Select(v => v * rows / (rows - 1)).ToArray() : sigma2, M.ReadFloat64(bv), 1e-6, 1e-6, "batch variance (Bessel-corrected in training)");
    }

    [TestCase(true), TestCase(false)]
    public void BatchNormGradMatchesItsDefinition(bool training)
    {
        const int rows = 5, channels = 2;
        const double eps = 1e-2;
        var x = BatchNormInput(rows, channels);
        var dy = Enumerable.Range(0, rows * channels).Select(i => Math.Cos(i * 1.3)).ToArray();
        double[] scale = [0.7, -1.2], mean = [0.3, -0.2], variance = [1.5, 0.8];
        DeviceBuffer dx = M.Allocate(DType.Float32, rows * channels), ds = M.Allocate(DType.Float32, channels), db = M.Allocate(DType.Float32, channels);
        _be.BatchNormGrad(Upload(dy), Upload(x), Upload(scale), Upload(mean), Upload(variance), eps, training, rows, channels, dx, ds, db);
        var edx = new double[rows * channels];
        double[] eds = new double[channels], edb = new double[channels];
        for (var c = 0; c < channels; c++)
        {
            var mu = training ? Enumerable.Range(0, rows).Average(r => x[r * channels + c]) : mean[c];
            var s2 = training ? Enumerable.Range(0, rows).Average(r => Math.Pow(x[r * channels + c] - mu, 2)) : variance[c];
            var r_ = 1 / Math.Sqrt(s2 + eps);
            for (var r = 0; r < rows; r++)
            {
                edb[c] += dy[r * channels + c];
                eds[c] += dy[r * channels + c] * (x[r * channels + c] - mu) * r_;
            }
            for (var r = 0; r < rows; r++)
            {
                var xhat = (x[r * channels + c] - mu) * r_;
                edx[r * channels + c] = training
                    ? scale[c] * r_ * (dy[r * channels + c] - (edb[c] + xhat * eds[c]) / rows)
                    : scale[c] * r_ * dy[r * channels + c];
            }
        }
        OpHarness.AssertClose(edx, M.ReadFloat64(dx), 1e-5, 1e-6, "dx");
        OpHarness.AssertClose(eds, M.ReadFloat64(ds), 1e-5, 1e-6, "dscale");
        OpHarness.AssertClose(edb, M.ReadFloat64(db), 1e-5, 1e-6, "doffset");
    }

    /// <summary>A group of <see cref="Size"/> identical members: each sum is the value times the size.</summary>
    private sealed class MirrorGroup(int size) : IAllReduceGroup
    {
        public int Size => size;

        public void Sum(Span<float> data)
        {
            foreach (ref var v in data) v *= size;
        }

        public void Sum(Span<double> data)
        {
            foreach (ref var v in data) v *= size;
        }
    }

    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void AllReducePacksSumsAndUnpacksThroughTheHost(DType dtype)
    {
        DeviceBuffer a = Upload([1, 2, 3], dtype), b = Upload([10, 20], dtype);
        DeviceBuffer ya = M.Allocate(dtype, 3), yb = M.Allocate(dtype, 2), staging = M.Allocate(dtype, 5);
        _be.AllReduce(new MirrorGroup(3), [a, b], [ya, yb], staging);
        Assert.That(M.ReadFloat64(ya), Is.EqualTo(new[] { 3.0, 6, 9 }));
        Assert.That(M.ReadFloat64(yb), Is.EqualTo(new[] { 30.0, 60 }));
    }

    [Test]
    public void OptimizerScalarsMayBeFloat64ForAFloat32Variable()
    {
        // The engine's hyper-parameters are float64 rank-0 buffers whatever the variable's dtype (as IBackend allows).
        var w = Upload([1, 2, 3]);
        var grad = Upload([1, -1, 2]);
        var momentum = M.Allocate(DType.Float32, 3);
        DeviceBuffer[] scalars = [Upload([0.5], DType.Float64), Upload([0.25], DType.Float64)];
        _be.ApplyOptimizer(OptimizerKind.Momentum, false, scalars, w, grad, momentum, null, null, null);
        _be.ApplyOptimizer(OptimizerKind.Momentum, false, scalars, w, grad, momentum, null, null, null);
        // m ← m·μ − g·η; w ← w + m, twice from m = 0: m₁ = −η·g, m₂ = −η·g·(1 + μ), w = w₀ − η·g·(2 + μ).
        Assert.That(M.ReadFloat64(w), Is.EqualTo(new[] { 1 - 0.5 * 2.25, 2 + 0.5 * 2.25, 3 - 1 * 2.25 }));
        Assert.That(M.ReadFloat64(momentum), Is.EqualTo(new[] { -0.5 * 1.25, 0.5 * 1.25, -1 * 1.25 }));
    }

    [Test]
    public void MatMulKEqualsZeroGivesZeros()
    {
        var c = M.Allocate(DType.Float32, 6);
        _be.Fill(c, double.NaN);
        _be.MatMul(M.Allocate(DType.Float32, 0), M.Allocate(DType.Float32, 0), c, new MatMulArgs(1, 2, 3, 0, false, false, 0, 0));
        Assert.That(M.ReadFloat64(c), Is.All.EqualTo(0.0));
    }

    [Test]
    public void RecurrentKernelsSayTheyAreNotOnCuda()
    {
        var e = Assert.Throws<NotSupportedException>(() => _be.RnnWorkspace(RnnPass.Forward, new RnnArgs(RnnCell.Lstm, 2, 3, 4, 5, false, false, false), DType.Float32));
        Assert.That(e!.Message, Does.Contain("not on CUDA in this build"));
    }
}
