using System.Numerics;
using Nabla.Kernels;
using Nabla.Kernels.Cpu;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The CUDA compute kernel families (<see cref="ComputeKernels"/>) against their CPU twins, written once and run
/// on every <see cref="IKernelTestDevice"/>: the GPU (<see cref="GpuCudaComputeKernelTests"/>) and the PTX emulator.
/// Outputs start poisoned (0xFF bytes), so an element a kernel forgets shows as NaN or −1. Sizes are small (the
/// emulator interprets every thread) but cover size 1, empty axes, more than one warp and lengths that are not a
/// multiple of 32.
/// </summary>
public abstract partial class CudaComputeKernelTests : KernelDeviceFixture
{
    private ulong Up<T>(T[] data) where T : unmanaged => Device.Upload<T>(data);

    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (NaN matches NaN, ±∞ must be equal), listing the first mismatches.</summary>
    private static void AssertClose<T>(T[] actual, T[] expected, double rtol, double atol, string what) where T : unmanaged, INumberBase<T>
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        var bad = new List<string>();
        for (var i = 0; i < expected.Length; i++)
        {
            double a = double.CreateTruncating(actual[i]), e = double.CreateTruncating(expected[i]);
            var ok = double.IsNaN(e) ? double.IsNaN(a) : double.IsInfinity(e) ? a == e : Math.Abs(a - e) <= atol + rtol * Math.Abs(e);
            if (!ok && bad.Count < 5) bad.Add($"[{i}] got {a:R}, expected {e:R}");
        }
        Assert.That(bad, Is.Empty, $"{what}: {string.Join("; ", bad)}");
    }

    /// <summary>float32 tolerances for sums of a few dozen terms; float64 ones for the same in double.</summary>
    private static (double Rtol, double Atol) Tolerance<T>() => typeof(T) == typeof(float) ? (2e-5, 1e-6) : (1e-12, 1e-14);

    // ---- Reduce -----------------------------------------------------------------------------------

    /// <summary>Inputs with ±∞, a NaN row, a −0/+0 pair and repeated maxima (the first must win).</summary>
    private static double[] ReduceInput(int outer, int reduce, int inner, bool specials)
    {
        var rng = new Random(outer * 7919 + reduce * 31 + inner);
        var x = new double[outer * reduce * inner];
        for (var i = 0; i < x.Length; i++) x[i] = Math.Round(rng.NextDouble() * 8 - 4, 1);
        if (!specials || x.Length < 8) return x;
        x[1] = double.PositiveInfinity;
        x[3] = double.NegativeInfinity;
        x[x.Length - 2] = x[x.Length - 1] = double.NaN; // two NaNs: where they share a row, the first wins ArgMax/ArgMin
        x[x.Length / 2] = x[x.Length / 2 + 1] = 9; // repeated maximum
        return x;
    }

    private static readonly (int Outer, int Reduce, int Inner)[] ReduceShapes =
        [(1, 1, 1), (3, 37, 1), (2, 70, 1), (1, 300, 1), (2, 0, 1), (2, 5, 3), (1, 33, 2), (2, 0, 3), (0, 4, 1)];

    [Test]
    public void ReduceFloat32([Values] ReduceOp op) => ReduceFloat<float>(op, DType.Float32);

    [Test]
    public void ReduceFloat64([Values] ReduceOp op) => ReduceFloat<double>(op, DType.Float64);

    private void ReduceFloat<T>(ReduceOp op, DType dtype) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var specials in new[] { false, true })
            foreach (var (outer, reduce, inner) in ReduceShapes)
            {
                if (reduce == 0 && op is ReduceOp.ArgMax or ReduceOp.ArgMin) continue; // the CPU reads x[0]; the engine never asks
                var x = ReduceInput(outer, reduce, inner, specials).Select(T.CreateTruncating).ToArray();
                var what = $"{op} {dtype} [{outer}, {reduce}, {inner}] specials {specials}";
                if (ReduceOnDevice(op, dtype, x, outer, reduce, inner, what) is not { } actual) continue;
                var expected = new T[outer * inner];
                StridedLoops.Reduce<T>(op, x, outer, reduce, inner, expected);
                var (rtol, atol) = Tolerance<T>();
                AssertClose(actual, expected, rtol, atol, what);
            }
    }

    [Test]
    public void ReduceInt32([Values(ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min, ReduceOp.Prod, ReduceOp.ArgMax, ReduceOp.ArgMin)] ReduceOp op) =>
        ReduceInteger<int>(op, DType.Int32);

    [Test]
    public void ReduceInt64([Values(ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min, ReduceOp.Prod, ReduceOp.ArgMax, ReduceOp.ArgMin)] ReduceOp op) =>
        ReduceInteger<long>(op, DType.Int64);

    private void ReduceInteger<T>(ReduceOp op, DType dtype) where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>, ISignedNumber<T>
    {
        foreach (var (outer, reduce, inner) in ReduceShapes)
        {
            if (reduce == 0 && op is ReduceOp.ArgMax or ReduceOp.ArgMin) continue;
            var rng = new Random(reduce * 13 + inner);
            // Large values make sums and products wrap; small ones repeat, so ties test "first index wins".
            var x = Enumerable.Range(0, outer * reduce * inner)
                .Select(i => i % 5 == 0 ? T.MaxValue - T.CreateTruncating(rng.Next(3)) : T.CreateTruncating(rng.Next(-4, 5))).ToArray();
            var what = $"{op} {dtype} [{outer}, {reduce}, {inner}]";
            if (ReduceOnDevice(op, dtype, x, outer, reduce, inner, what) is not { } actual) continue;
            var expected = new T[outer * inner];
            StridedLoops.ReduceInteger<T>(op, x, outer, reduce, inner, expected);
            Assert.That(actual, Is.EqualTo(expected), what);
        }
    }

    /// <summary>
    /// Reduces <paramref name="x"/> [outer, reduce, inner] on the device. ArgMax and ArgMin are checked here against the
    /// CPU's indices (and null is returned); for the other ops the device's result is returned for the caller to check.
    /// </summary>
    private T[]? ReduceOnDevice<T>(ReduceOp op, DType dtype, T[] x, int outer, int reduce, int inner, string what) where T : unmanaged, INumber<T>
    {
        var y = Device.Poisoned<long>(outer * inner);
        ComputeKernels.Reduce(K, op, dtype, Up(x), outer, reduce, inner, y);
        if (op is not (ReduceOp.ArgMax or ReduceOp.ArgMin)) return Device.Read<T>(y, outer * inner);
        var expected = new long[outer * inner];
        StridedLoops.ArgReduce<T>(op == ReduceOp.ArgMax, x, outer, reduce, inner, expected);
        Assert.That(Device.Read<long>(y, outer * inner), Is.EqualTo(expected), what);
        return null;
    }

    /// <summary>
    /// Every module the families can generate (all ops, dtypes and variants, including those no other test launches)
    /// loads and resolves each of its entries: on the GPU this is the driver's JIT (cuModuleLoadData), on the emulator
    /// its strict parser.
    /// </summary>
    [Test]
    public void EveryGeneratedModuleLoads()
    {
        var modules = ComputeKernels.GeneratedModules().ToList();
        Assert.That(modules.Select(m => m.Key), Is.Unique);
        foreach (var (key, ptx) in modules)
        {
            var text = ptx();
            Assert.That(text, Does.Contain("UNVERIFIED on hardware"), key);
            var entries = System.Text.RegularExpressions.Regex.Matches(text, @"\.visible \.entry (\w+)\(").Select(m => m.Groups[1].Value).ToList();
            Assert.That(entries, Is.Not.Empty, key);
            foreach (var entry in entries) Assert.That(K.Function(key, ptx, entry).Entry, Is.EqualTo(entry), key);
        }
    }

    [Test]
    public void ReduceRejectsMeanOfIntegers() =>
        Assert.Throws<NotSupportedException>(() => ComputeKernels.Reduce(K, ReduceOp.Mean, DType.Int32, 0, 1, 1, 1, 0));

    // ---- Softmax and cross-entropy --------------------------------------------------------------

    /// <summary>Rows of random logits; with specials, row 1 has a −∞ entry, row 2 is all −∞, row 3 has +∞, row 4 a NaN.</summary>
    private static T[] Logits<T>(int rows, int cols, bool specials) where T : IFloatingPointIeee754<T>
    {
        var rng = new Random(rows * 101 + cols);
        var x = Enumerable.Range(0, rows * cols).Select(_ => T.CreateTruncating(rng.NextDouble() * 20 - 10)).ToArray();
        if (!specials || rows < 5 || cols < 3) return x;
        x[cols + 1] = T.NegativeInfinity;
        for (var j = 0; j < cols; j++) x[2 * cols + j] = T.NegativeInfinity;
        x[3 * cols + 2] = T.PositiveInfinity;
        x[4 * cols] = T.NaN;
        return x;
    }

    private static readonly (int Rows, int Cols, bool Specials)[] SoftmaxShapes = [(1, 1, false), (3, 37, false), (5, 10, true), (2, 300, false), (6, 33, true)];

    [Test]
    public void SoftmaxFloat32([Values] bool log) => Softmax<float>(DType.Float32, log);

    [Test]
    public void SoftmaxFloat64([Values] bool log) => Softmax<double>(DType.Float64, log);

    private void Softmax<T>(DType dtype, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var (rows, cols, specials) in SoftmaxShapes)
        {
            var x = Logits<T>(rows, cols, specials);
            var y = Device.Poisoned<T>(rows * cols);
            ComputeKernels.Softmax(K, dtype, Up(x), y, rows, cols, log);
            var expected = new T[rows * cols];
            CpuSoftmax.Rows<T>(x, expected, rows, cols, log, deterministic: true);
            var (rtol, atol) = Tolerance<T>();
            AssertClose(Device.Read<T>(y, rows * cols), expected, rtol * 4, atol, $"softmax {dtype} log {log} [{rows}, {cols}]");
        }
    }

    [Test]
    public void SoftmaxCrossEntropyDense([Values(DType.Float32, DType.Float64)] DType dtype, [Values] bool backprop)
    {
        if (dtype == DType.Float32) CrossEntropy<float>(dtype, sparse: false, DType.Float32, backprop);
        else CrossEntropy<double>(dtype, sparse: false, DType.Float64, backprop);
    }

    [Test]
    public void SoftmaxCrossEntropySparse([Values(DType.Float32, DType.Float64)] DType dtype, [Values(DType.Int32, DType.Int64)] DType labels, [Values] bool backprop)
    {
        if (dtype == DType.Float32) CrossEntropy<float>(dtype, sparse: true, labels, backprop);
        else CrossEntropy<double>(dtype, sparse: true, labels, backprop);
    }

    private void CrossEntropy<T>(DType dtype, bool sparse, DType labelDType, bool backprop) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var (rows, cols, specials) in SoftmaxShapes.Append((3, 0, false)))
        {
            var x = Logits<T>(rows, cols, specials);
            var rng = new Random(rows + cols);
            // Sparse ids: in range, plus −1, cols and (int64) 2⁴⁰ for bad rows; dense: random weights with zeros.
            var ids = Enumerable.Range(0, rows).Select(r => r switch
            {
                1 when rows > 4 => -1L,
                3 when rows > 4 => labelDType == DType.Int64 ? 1L << 40 : cols,
                _ => cols == 0 ? 0 : rng.Next(cols),
            }).ToArray();
            var dense = Enumerable.Range(0, rows * cols).Select(i => i % 3 == 0 ? T.Zero : T.CreateTruncating(rng.NextDouble())).ToArray();
            ulong labels = !sparse ? Up(dense) : labelDType == DType.Int32 ? Up(ids.Select(v => (int)v).ToArray()) : Up(ids);
            var loss = Device.Poisoned<T>(rows);
            var bp = backprop ? Device.Poisoned<T>(rows * cols) : 0UL;
            ComputeKernels.SoftmaxCrossEntropy(K, dtype, Up(x), sparse ? labelDType : dtype, labels, sparse, rows, cols, loss, bp);

            var expectedLoss = new T[rows];
            var expectedBp = new T[rows * cols];
            Func<int, int>? label = sparse ? r => ids[r] is < int.MinValue or > int.MaxValue ? -1 : (int)ids[r] : null;
            CpuSoftmax.CrossEntropy<T>(x, sparse ? null : (ArraySegment<T>?)dense, label, rows, cols, expectedLoss, backprop ? (ArraySegment<T>?)expectedBp : null, deterministic: true);
            var (rtol, atol) = Tolerance<T>();
            var what = $"cross-entropy {dtype} {(sparse ? labelDType.Name() : "dense")} [{rows}, {cols}]";
            AssertClose(Device.Read<T>(loss, rows), expectedLoss, rtol * 4, atol * 10, what + " loss");
            if (backprop) AssertClose(Device.Read<T>(bp, rows * cols), expectedBp, rtol * 4, atol, what + " backprop");
        }
    }
}

/// <summary>The compute kernels on the tests' PTX emulator (runs everywhere).</summary>
public sealed class EmulatedCudaComputeKernelTests : CudaComputeKernelTests
{
    private protected override IKernelTestDevice CreateDevice() => new EmulatedKernelTestDevice();

    /// <summary>
    /// Writes every generated compute module (<see cref="ComputeKernels.GeneratedModules"/>) as <c>{key}.ptx</c> into
    /// <c>$NABLA_PTX_DUMP</c> (a temporary folder, then deleted, when unset), next to the math library's modules
    /// (PtxWriterTests.GeneratedModulesAreWrittenForPtxas), so that bench/gpu/verify.sh can assemble them with ptxas:
    /// <c>NABLA_PTX_DUMP=$OUT/ptx-generated dotnet test ... --filter FullyQualifiedName~GeneratedModulesAreWrittenForPtxas</c>.
    /// </summary>
    [Test]
    public void GeneratedModulesAreWrittenForPtxas()
    {
        var dump = Environment.GetEnvironmentVariable("NABLA_PTX_DUMP");
        var folder = dump is { Length: > 0 } ? dump : Path.Combine(Path.GetTempPath(), $"nabla-compute-ptx-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        var modules = ComputeKernels.GeneratedModules().ToList();
        foreach (var (key, ptx) in modules) File.WriteAllText(Path.Combine(folder, key + ".ptx"), ptx());
        Assert.That(Directory.GetFiles(folder, "*.ptx").Select(Path.GetFileNameWithoutExtension), Is.SupersetOf(modules.Select(m => m.Key)));
        TestContext.Out.WriteLine($"{modules.Count} generated compute modules in {folder}");
        if (dump is not { Length: > 0 }) Directory.Delete(folder, recursive: true);
    }
}

/// <summary>The compute kernels on GPU 0 (ignored without one).</summary>
[Category("Gpu"), NonParallelizable]
public sealed class GpuCudaComputeKernelTests : CudaComputeKernelTests
{
    private protected override IKernelTestDevice CreateDevice() => new GpuKernelTestDevice();
}
