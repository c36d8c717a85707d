using System.Text.RegularExpressions;
using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// Ready-made checks for the first machine with an NVIDIA GPU: driver initialisation, device queries,
/// memory round trips through the caching allocator, every PTX module loading, each PTX kernel against
/// its CPU twin (bit for bit: all of them are exactly rounded), and one call each into cuBLAS and cuDNN.
/// Ignored, with the probe's reason, where there is no driver or no device.
/// </summary>
[TestFixture, Category("Gpu"), NonParallelizable]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "OneTimeTearDown disposes the context and pool, which must outlive every test")]
public unsafe class CudaDeviceTests
{
    private CudaContext? _context;
    private CachingDeviceAllocator? _pool;

    private CudaContext Context => _context!;
    private CachingDeviceAllocator Pool => _pool!;

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        var info = CudaDriver.Probe();
        if (!info.Available) Assert.Ignore($"no GPU: {info.Reason}");
        _context = CudaContext.Create(0);
        _pool = new CachingDeviceAllocator(new DriverDeviceMemory());
    }

    [SetUp]
    public void SetUp() => Context.MakeCurrent();

    [OneTimeTearDown]
    public void OneTimeTearDown()
    {
        if (_context is null) return;
        _context.MakeCurrent();
        _pool!.Dispose();
        _context.Dispose();
    }

    private ulong Upload<T>(T[] data) where T : unmanaged
    {
        var bytes = (ulong)(data.Length * sizeof(T));
        var device = Pool.Allocate(bytes);
        fixed (T* p = data)
        {
            CuDriver.Check(CuDriver.cuMemcpyHtoDAsync_v2(device, p, (nuint)bytes, Context.Stream), nameof(CuDriver.cuMemcpyHtoDAsync_v2));
            Context.Synchronize(); // the host array is pinned only inside this block
        }
        return device;
    }

    private T[] Download<T>(ulong device, int length) where T : unmanaged
    {
        var host = new T[length];
        fixed (T* p = host)
        {
            CuDriver.Check(CuDriver.cuMemcpyDtoHAsync_v2(p, device, (nuint)(length * sizeof(T)), Context.Stream), nameof(CuDriver.cuMemcpyDtoHAsync_v2));
            Context.Synchronize();
        }
        return host;
    }

    /// <summary>Launches a kernel whose parameters are all 8 bytes (pointers and the uint64 count).</summary>
    private void Launch(CudaModule module, string entry, long n, params ulong[] args)
    {
        var values = stackalloc ulong[args.Length];
        var pointers = stackalloc void*[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            values[i] = args[i];
            pointers[i] = &values[i];
        }
        CudaModule.Launch(module.Function(entry), CudaModule.GridFor(n), 256, Context.Stream, pointers);
        Context.Synchronize();
    }

    private void RequirePtxTarget()
    {
        var (major, minor) = CudaDriver.ComputeCapability(Context.Device);
        if (major * 10 + minor < 75) Assert.Ignore($"GPU too old: the PTX targets {PtxModules.Target}, device 0 is sm_{major}{minor}");
    }

    [Test]
    public void DriverReportsTheDevice()
    {
        var info = CudaDriver.Probe();
        Assert.That(info.DriverVersion, Is.GreaterThanOrEqualTo(12000), "PTX ISA 8.0 needs a CUDA 12 driver");
        Assert.That(CudaDriver.DeviceName(Context.Device), Is.Not.Empty);
        Assert.That(CudaDriver.TotalMemory(Context.Device), Is.GreaterThan(1UL << 30));
        Assert.That(CudaDriver.Attribute(Context.Device, CuDeviceAttribute.MultiprocessorCount), Is.GreaterThan(0));
        Assert.That(CudaDriver.Attribute(Context.Device, CuDeviceAttribute.MaxThreadsPerBlock), Is.GreaterThanOrEqualTo(256));
        TestContext.Out.WriteLine($"{CudaDriver.DeviceName(Context.Device)}, sm_{CudaDriver.ComputeCapability(Context.Device)}, driver {info.DriverVersionText}");
    }

    [Test]
    public void MemoryRoundTripsThroughTheCachingAllocator()
    {
        var data = Enumerable.Range(0, 1001).Select(i => MathF.Sin(i) * 1e3f).ToArray();
        var before = Pool.Stats.BytesInUse;
        var a = Upload(data);
        var b = Pool.Allocate((ulong)data.Length * 4);
        CuDriver.Check(CuDriver.cuMemcpyDtoDAsync_v2(b, a, (nuint)(data.Length * 4), Context.Stream), nameof(CuDriver.cuMemcpyDtoDAsync_v2));
        Assert.That(Download<float>(b, data.Length), Is.EqualTo(data));
        CuDriver.Check(CuDriver.cuMemsetD32Async(b, BitConverter.SingleToUInt32Bits(2.5f), (nuint)data.Length, Context.Stream), nameof(CuDriver.cuMemsetD32Async));
        Assert.That(Download<float>(b, data.Length), Has.All.EqualTo(2.5f));
        Pool.Free(a);
        Pool.Free(b);
        Assert.That(Pool.Stats.BytesInUse, Is.EqualTo(before));
    }

    [Test]
    public void PinnedHostMemoryRoundTrips()
    {
        const int n = 4096;
        CuDriver.Check(CuDriver.cuMemHostAlloc(out var pinned, n * 4, CuDriver.MemHostAllocPortable), nameof(CuDriver.cuMemHostAlloc));
        try
        {
            var span = new Span<int>((void*)pinned, n);
            for (var i = 0; i < n; i++) span[i] = i * 7 - 3;
            var device = Pool.Allocate(n * 4);
            CuDriver.Check(CuDriver.cuMemcpyHtoDAsync_v2(device, (void*)pinned, n * 4, Context.Stream), nameof(CuDriver.cuMemcpyHtoDAsync_v2));
            Context.Synchronize();
            Assert.That(Download<int>(device, n), Is.EqualTo(span.ToArray()));
            Pool.Free(device);
        }
        finally
        {
            CuDriver.Check(CuDriver.cuMemFreeHost(pinned), nameof(CuDriver.cuMemFreeHost));
        }
    }

    [Test]
    public void EventsTimeWorkOnTheStream()
    {
        CuDriver.Check(CuDriver.cuEventCreate(out var start, CuDriver.EventDefault), nameof(CuDriver.cuEventCreate));
        CuDriver.Check(CuDriver.cuEventCreate(out var end, CuDriver.EventDefault), nameof(CuDriver.cuEventCreate));
        var block = Pool.Allocate(64UL << 20);
        CuDriver.Check(CuDriver.cuEventRecord(start, Context.Stream), nameof(CuDriver.cuEventRecord));
        CuDriver.Check(CuDriver.cuMemsetD32Async(block, 0, (nuint)(16UL << 20), Context.Stream), nameof(CuDriver.cuMemsetD32Async));
        CuDriver.Check(CuDriver.cuEventRecord(end, Context.Stream), nameof(CuDriver.cuEventRecord));
        CuDriver.Check(CuDriver.cuEventSynchronize(end), nameof(CuDriver.cuEventSynchronize));
        var status = CuDriver.EventElapsedTime(out var ms, start, end);
        CuDriver.Check(status, CuDriver.EventElapsedTimeExport!);
        TestContext.Out.WriteLine($"elapsed time through {CuDriver.EventElapsedTimeExport}: {ms} ms");
        Assert.That(ms, Is.GreaterThan(0f).And.LessThan(1000f), "a 64 MiB memset takes microseconds to milliseconds");
        CuDriver.Check(CuDriver.cuEventDestroy_v2(start), nameof(CuDriver.cuEventDestroy_v2));
        CuDriver.Check(CuDriver.cuEventDestroy_v2(end), nameof(CuDriver.cuEventDestroy_v2));
        Pool.Free(block);
    }

    [Test]
    public void EveryPtxModuleLoadsAndExposesItsEntries()
    {
        RequirePtxTarget();
        foreach (var name in PtxModules.Names)
        {
            using var module = CudaModule.Load(name);
            var entries = Regex.Matches(PtxModules.Read(name), @"\.visible \.entry (\w+)\(").Select(m => m.Groups[1].Value).ToArray();
            Assert.That(entries, Is.Not.Empty, name);
            foreach (var entry in entries) Assert.That(module.Function(entry), Is.Not.EqualTo((nint)0), entry);
        }
    }

    [TestCase(1_000_003L), TestCase(1L), TestCase(0L)]
    public void FillF32WritesExactlyNElements(long n)
    {
        RequirePtxTarget();
        using var module = CudaModule.Load("fill");
        const uint sentinel = 0x7fc0_1234; // a NaN pattern no fill writes
        var y = Pool.Allocate((ulong)(n + 1) * 4);
        CuDriver.Check(CuDriver.cuMemsetD32Async(y, sentinel, (nuint)(n + 1), Context.Stream), nameof(CuDriver.cuMemsetD32Async));
        ulong yArg = y, nArg = (ulong)n;
        var value = 3.25f;
        void** args = stackalloc void*[3];
        args[0] = &yArg;
        args[1] = &value;
        args[2] = &nArg;
        CudaModule.Launch(module.Function("fill_f32"), CudaModule.GridFor(n), 256, Context.Stream, args);
        Context.Synchronize();
        var host = Download<uint>(y, (int)n + 1);
        Assert.That(host[..(int)n], Has.All.EqualTo(BitConverter.SingleToUInt32Bits(3.25f)));
        Assert.That(host[^1], Is.EqualTo(sentinel), "the element past n is untouched");
        Pool.Free(y);
    }

    private static float[] SpecialFloats()
    {
        float[] special = [0f, -0f, 1f, -1f, 0.5f, 2.5f, -2.5f, 3.7f, -3.7f, float.Epsilon, -float.Epsilon, 1e-40f,
            float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e10f, -1e10f,
            2147483520f, 2147483648f, -2147483648f, -2147483904f, 16777217f];
        var random = new Random(7);
        return [.. special, .. Enumerable.Range(0, 1000).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 9))))];
    }

    private static void AssertBitEqual(float[] expected, float[] actual, string what)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i])) Assert.That(float.IsNaN(actual[i]), Is.True, $"{what}[{i}] should be NaN");
            else Assert.That(BitConverter.SingleToUInt32Bits(actual[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits(expected[i])),
                $"{what}[{i}]: {actual[i]:R} vs CPU {expected[i]:R}");
        }
    }

    [TestCase("neg_f32"), TestCase("sqrt_f32")]
    public void UnaryKernelMatchesItsCpuTwin(string entry)
    {
        RequirePtxTarget();
        using var module = CudaModule.Load("unary");
        var x = SpecialFloats();
        var (dx, dy) = (Upload(x), Pool.Allocate((ulong)x.Length * 4));
        Launch(module, entry, x.Length, dx, dy, (ulong)x.Length);
        AssertBitEqual(x.Select(v => entry == "neg_f32" ? -v : MathF.Sqrt(v)).ToArray(), Download<float>(dy, x.Length), entry);
        Pool.Free(dx);
        Pool.Free(dy);
    }

    [TestCase("add_f32"), TestCase("mul_f32")]
    public void BinaryKernelMatchesItsCpuTwin(string entry)
    {
        RequirePtxTarget();
        using var module = CudaModule.Load("binary");
        var x = SpecialFloats();
        var y = x.Reverse().ToArray();
        var (dx, dy, dz) = (Upload(x), Upload(y), Pool.Allocate((ulong)x.Length * 4));
        Launch(module, entry, x.Length, dx, dy, dz, (ulong)x.Length);
        AssertBitEqual(x.Zip(y, (a, b) => entry == "add_f32" ? a + b : a * b).ToArray(), Download<float>(dz, x.Length), entry);
        foreach (var d in new[] { dx, dy, dz }) Pool.Free(d);
    }

    [Test]
    public void CastKernelsMatchHostCast()
    {
        RequirePtxTarget();
        using var module = CudaModule.Load("cast");
        var f = SpecialFloats();
        var n = (ulong)f.Length;
        var df = Upload(f);

        var d64 = Pool.Allocate(n * 8);
        Launch(module, "cast_f32_f64", f.Length, df, d64, n);
        var wide = Download<double>(d64, f.Length);
        Assert.That(wide.Select(BitConverter.DoubleToUInt64Bits).Where((_, i) => !float.IsNaN(f[i])),
            Is.EqualTo(f.Where(v => !float.IsNaN(v)).Select(v => BitConverter.DoubleToUInt64Bits(v))));

        double[] doubles = [0.1, 1e300, -1e300, 1e-50, 1 + Math.Pow(2, -24), 1 + 3 * Math.Pow(2, -24), double.NaN, -0.0, .. wide];
        var dd = Upload(doubles);
        var dNarrow = Pool.Allocate((ulong)doubles.Length * 4);
        Launch(module, "cast_f64_f32", doubles.Length, dd, dNarrow, (ulong)doubles.Length);
        AssertBitEqual(doubles.Select(v => (float)v).ToArray(), Download<float>(dNarrow, doubles.Length), "cast_f64_f32");

        var di = Pool.Allocate(n * 4);
        Launch(module, "cast_f32_i32", f.Length, df, di, n);
        // HostBackend's rule: truncate toward zero, saturate, NaN → 0.
        Assert.That(Download<int>(di, f.Length), Is.EqualTo(f.Select(v => float.IsNaN(v) ? 0 : int.CreateSaturating(v))));

        int[] ints = [0, 1, -1, int.MaxValue, int.MinValue, 16777217, -16777219, 123456789];
        var dints = Upload(ints);
        var dBack = Pool.Allocate((ulong)ints.Length * 4);
        Launch(module, "cast_i32_f32", ints.Length, dints, dBack, (ulong)ints.Length);
        AssertBitEqual(ints.Select(v => (float)v).ToArray(), Download<float>(dBack, ints.Length), "cast_i32_f32");

        foreach (var d in new[] { df, d64, dd, dNarrow, di, dints, dBack }) Pool.Free(d);
    }

    [Test]
    public void CublasSgemmMatchesAHandProduct()
    {
        try { CudaLibraries.Load(CudaLibrary.Cublas); }
        catch (CudaLibraryNotFoundException e) { Assert.Ignore($"no cuBLAS library on this GPU machine: {e.Message}"); }
        CuBlas.Check(CuBlas.cublasCreate_v2(out var handle), nameof(CuBlas.cublasCreate_v2));
        try
        {
            CuBlas.Check(CuBlas.cublasSetStream_v2(handle, Context.Stream), nameof(CuBlas.cublasSetStream_v2));
            CuBlas.Check(CuBlas.cublasSetMathMode(handle, CublasMath.Pedantic), nameof(CuBlas.cublasSetMathMode));
            // Column-major A (2×3) = [[1,2,3],[4,5,6]], B (3×2) = [[7,8],[9,10],[11,12]]; C = A·B = [[58,64],[139,154]].
            var (a, b, c) = (Upload(new[] { 1f, 4, 2, 5, 3, 6 }), Upload(new[] { 7f, 9, 11, 8, 10, 12 }), Pool.Allocate(16));
            CuBlas.Check(CuBlas.cublasSgemm_v2(handle, CublasOperation.N, CublasOperation.N, 2, 2, 3, 1f, a, 2, b, 3, 0f, c, 2),
                nameof(CuBlas.cublasSgemm_v2));
            Assert.That(Download<float>(c, 4), Is.EqualTo(new[] { 58f, 139, 64, 154 }));

            float alpha = 2, beta = 0;
            CuBlas.Check(CuBlas.cublasGemmEx(handle, CublasOperation.N, CublasOperation.N, 2, 2, 3, &alpha, a, CudaDataType.R32F, 2,
                b, CudaDataType.R32F, 3, &beta, c, CudaDataType.R32F, 2, CublasComputeType.Compute32FPedantic, CublasGemmAlgo.Default),
                nameof(CuBlas.cublasGemmEx));
            Assert.That(Download<float>(c, 4), Is.EqualTo(new[] { 116f, 278, 128, 308 }));

            // Two batches of 1×1×1 products at stride 1: [2·5, 3·7].
            var (sa, sb, sc) = (Upload(new[] { 2f, 3 }), Upload(new[] { 5f, 7 }), Pool.Allocate(8));
            CuBlas.Check(CuBlas.cublasSgemmStridedBatched(handle, CublasOperation.N, CublasOperation.N, 1, 1, 1, 1f, sa, 1, 1, sb, 1, 1,
                0f, sc, 1, 1, 2), nameof(CuBlas.cublasSgemmStridedBatched));
            Assert.That(Download<float>(sc, 2), Is.EqualTo(new[] { 10f, 21 }));
            foreach (var d in new[] { a, b, c, sa, sb, sc }) Pool.Free(d);
        }
        finally
        {
            CuBlas.Check(CuBlas.cublasDestroy_v2(handle), nameof(CuBlas.cublasDestroy_v2));
        }
    }

    [Test]
    public void CudnnSoftmaxMatchesTheCpu()
    {
        try { CudaLibraries.Load(CudaLibrary.Cudnn); }
        catch (CudaLibraryNotFoundException e) { Assert.Ignore($"no cuDNN library on this GPU machine: {e.Message}"); }
        Assert.That((int)CuDnn.cudnnGetVersion(), Is.GreaterThanOrEqualTo(90000), "the status table is cuDNN 9's");
        CuDnn.Check(CuDnn.cudnnCreate(out var handle), nameof(CuDnn.cudnnCreate));
        CuDnn.Check(CuDnn.cudnnCreateTensorDescriptor(out var desc), nameof(CuDnn.cudnnCreateTensorDescriptor));
        try
        {
            CuDnn.Check(CuDnn.cudnnSetStream(handle, Context.Stream), nameof(CuDnn.cudnnSetStream));
            // N=2 rows of C=3 logits; channel mode normalises over C.
            CuDnn.Check(CuDnn.cudnnSetTensor4dDescriptor(desc, CudnnTensorFormat.Nchw, CudnnDataType.Float, 2, 3, 1, 1),
                nameof(CuDnn.cudnnSetTensor4dDescriptor));
            float[] logits = [1, 2, 3, -1, 0, 100];
            var (x, y) = (Upload(logits), Pool.Allocate(24));
            float alpha = 1, beta = 0;
            CuDnn.Check(CuDnn.cudnnSoftmaxForward(handle, CudnnSoftmaxAlgorithm.Accurate, CudnnSoftmaxMode.Channel, &alpha, desc, x, &beta, desc, y),
                nameof(CuDnn.cudnnSoftmaxForward));
            var expected = logits.Chunk(3).SelectMany(row =>
            {
                var max = row.Max();
                var sum = row.Sum(v => Math.Exp(v - max));
                return row.Select(v => Math.Exp(v - max) / sum);
            }).ToArray();
            Assert.That(Download<float>(y, 6).Select(v => (double)v), Is.EqualTo(expected).Within(1e-6));
            Pool.Free(x);
            Pool.Free(y);
        }
        finally
        {
            CuDnn.Check(CuDnn.cudnnDestroyTensorDescriptor(desc), nameof(CuDnn.cudnnDestroyTensorDescriptor));
            CuDnn.Check(CuDnn.cudnnDestroy(handle), nameof(CuDnn.cudnnDestroy));
        }
    }
}
