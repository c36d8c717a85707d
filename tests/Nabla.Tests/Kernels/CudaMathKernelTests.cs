using Nabla.Kernels;
using Nabla.Kernels.Cpu;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The PTX math library's kernels (ElementwiseKernels.Unary, BinaryPow, Fused) on a kernel test device, written once and
/// run on every device (one subclass each): every UnaryOp × dtype against the CPU's float64 definitions
/// (<c>UnaryFunctions.Apply</c>, i.e. System.Math and ScalarMath, code the PTX shares nothing with), special values, pow
/// with broadcasting against Math.Pow/MathF.Pow, and fused programs against HostBackend's Fused (the Philox mask bit for bit).
/// Outputs are poisoned (0xFF bytes) before each launch, so an unwritten element fails.
/// </summary>
/// <remarks>
/// Tolerances (atol + |ref|·rtol): float32 4e-7 relative (the PTX computes in float64 and rounds once, as the CPU does, so
/// the two differ by at most one float32 ulp, 1.2e-7 relative, where the float64 values straddle a rounding boundary) and
/// 1e-44 absolute (one float32 subnormal ulp); float64 1e-14 relative (the functions are measured within 3 ulp, 7e-16;
/// pow within ~8 ulp for the exponents used) and 1e-300 absolute. NaN must be NaN, infinities exact.
/// Sizes stay small: the emulator interprets every instruction.
/// </remarks>
public abstract class CudaMathKernelTests
{
    private IKernelTestDevice _device = null!;

    private protected abstract IKernelTestDevice CreateDevice();

    [SetUp]
    public void SetUp() => _device = CreateDevice();

    [TearDown]
    public void TearDown() => _device?.Dispose();

    private static readonly UnaryOp[] FloatOps = Enum.GetValues<UnaryOp>().Where(o => o != UnaryOp.LogicalNot).ToArray();

    private static IEnumerable<TestCaseData> FloatCases() =>
        from op in FloatOps
        from dtype in new[] { DType.Float32, DType.Float64 }
        select new TestCaseData(op, dtype).SetName($"Unary_{op}_{dtype.Name()}");

    /// <summary>Arguments for op: its domain sampled at several scales, then the special values every function must handle.</summary>
    internal static double[] Arguments(UnaryOp op, int seed)
    {
        var random = new Random(seed);
        var (lo, hi) = op switch
        {
            UnaryOp.Exp or UnaryOp.Expm1 => (-740.0, 705.0),
            UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt => (0.0, 1e6),
            UnaryOp.Log1p => (-0.999, 1e6),
            UnaryOp.Sin or UnaryOp.Cos => (-1e5, 1e5),
            UnaryOp.Tanh or UnaryOp.Erf => (-8.0, 8.0),
            UnaryOp.Sigmoid or UnaryOp.Softplus => (-750.0, 750.0),
            _ => (-1e3, 1e3),
        };
        var values = new List<double>();
        for (var i = 0; i < 24; i++) values.Add(lo + (hi - lo) * random.NextDouble());
        // Small magnitudes, where expm1, log1p, sin, tanh and erf must not cancel.
        for (var i = 0; i < 12; i++) values.Add((random.NextDouble() * 2 - 1) * Math.Pow(10, -12 * random.NextDouble()));
        if (op == UnaryOp.Log) for (var i = 0; i < 8; i++) values.Add(Math.Pow(10, random.Next(-300, 300)) * random.NextDouble());
        // sin and cos: the Payne–Hanek branch (|x| ≥ 2^50), up to the largest double.
        if (op is UnaryOp.Sin or UnaryOp.Cos)
            values.AddRange([Math.Pow(2, 50), -Math.Pow(2, 50), 1e22, -1e22, Math.Pow(2, 60) + 4096, 1e200, double.MaxValue, -1.5e308,
                Math.Pow(2, 49.9), 1234567.891, -98765.4321]);
        values.AddRange([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity,
            5e-324, -5e-324, 1e-310, 1e-40, -1e-40, 1e30, -1e30, 1e300, -1e300, 88.5, -103.5, 709.7, 710.0, -745.2, 3.0e38]);
        return values.ToArray();
    }

    [TestCaseSource(nameof(FloatCases))]
    public void UnaryMatchesTheFloat64Definition(UnaryOp op, DType dtype)
    {
        var x = Arguments(op, (int)op);
        double[] expected, actual;
        if (dtype == DType.Float32)
        {
            var xf = x.Select(v => (float)v).ToArray();
            expected = xf.Select(v => (double)(float)UnaryFunctions.Apply(op, v)).ToArray();
            actual = RunUnary(op, xf).Select(v => (double)v).ToArray();
            x = xf.Select(v => (double)v).ToArray();
        }
        else
        {
            expected = x.Select(v => UnaryFunctions.Apply(op, v)).ToArray();
            actual = RunUnary(op, x);
        }
        AssertClose(expected, actual, x, dtype, $"{op} {dtype.Name()}");
    }

    private T[] RunUnary<T>(UnaryOp op, T[] x) where T : unmanaged
    {
        var dtype = typeof(T) == typeof(float) ? DType.Float32 : typeof(T) == typeof(double) ? DType.Float64 :
            typeof(T) == typeof(int) ? DType.Int32 : typeof(T) == typeof(long) ? DType.Int64 : DType.Bool;
        var input = _device.Upload<T>(x);
        var output = _device.Poisoned<T>(x.Length);
        ElementwiseKernels.Unary(_device.Launcher, op, dtype, input, output, x.Length);
        return _device.Read<T>(output, x.Length);
    }

    /// <summary>Every element within atol + |ref|·rtol; NaN where the reference is NaN; infinities and the sign of exact zeros equal.</summary>
    internal static void AssertClose(double[] expected, double[] actual, double[] x, DType dtype, string what)
    {
        var (rtol, atol) = dtype == DType.Float32 ? (4e-7, 1e-44) : (1e-14, 1e-300);
        var failures = new List<string>();
        for (var i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            var ok = double.IsNaN(e) ? double.IsNaN(a)
                : double.IsInfinity(e) ? a.Equals(e)
                : e == 0 ? (a == 0 ? double.IsNegative(a) == double.IsNegative(e) : Math.Abs(a) <= atol)
                : Math.Abs(a - e) <= atol + Math.Abs(e) * rtol;
            if (!ok) failures.Add($"[{i}] x={x[i]:R}: expected {e:R}, got {a:R}");
        }
        Assert.That(failures, Is.Empty, $"{what}: {failures.Count} of {expected.Length} mismatches; first: {string.Join("; ", failures.Take(5))}");
    }

    /// <summary>Many blocks (the grid-stride loop's index arithmetic across blocks), and n = 0 launching nothing (its output stays poisoned).</summary>
    [Test]
    public void UnaryCoversEveryElementOfAManyBlockGridAndNothingForZero()
    {
        var x = Enumerable.Range(0, 3000).Select(i => (float)(i * 0.01 - 15)).ToArray();
        Assert.That(RunUnary(UnaryOp.Exp, x), Is.EqualTo(x.Select(v => (float)Math.Exp(v))).Within(2).Ulps);
        var y = _device.Poisoned<float>(4);
        ElementwiseKernels.Unary(_device.Launcher, UnaryOp.Exp, DType.Float32, _device.Upload<float>([1f]), y, 0);
        Assert.That(_device.Read<float>(y, 4).All(float.IsNaN), Is.True, "n = 0 writes nothing");
    }

    /// <summary>Rank-3 broadcasting with offsets into larger buffers (a slice of a, a row of b), float64.</summary>
    [Test]
    public void PowBroadcastsOverRankThreeWithOffsets()
    {
        int[] shape = [2, 3, 4];
        var a = Enumerable.Range(0, 40).Select(i => 0.5 + i * 0.1).ToArray();
        var b = Enumerable.Range(0, 10).Select(i => i * 0.5 - 2).ToArray();
        // a: element (i, j, k) at 5 + 12i + 4j + k; b: broadcast over i and j, element k at 3 + k·1... read with strides [0, 0, 1].
        var expected = new double[24];
        var x = new double[24];
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 3; j++)
                for (var k = 0; k < 4; k++)
                {
                    x[i * 12 + j * 4 + k] = a[5 + 12 * i + 4 * j + k];
                    expected[i * 12 + j * 4 + k] = Math.Pow(a[5 + 12 * i + 4 * j + k], b[3 + k]);
                }
        AssertClose(expected, RunPow(DType.Float64, a, 5, [12, 4, 1], b, 3, [0, 0, 1], shape), x, DType.Float64, "pow rank 3");
        // A transposed a (strides [1, 2]) that cannot be collapsed.
        int[] square = [2, 3];
        var expectedT = new double[6];
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 3; j++) expectedT[i * 3 + j] = Math.Pow(a[i + 2 * j], b[j]);
        AssertClose(expectedT, RunPow(DType.Float64, a, 0, [1, 2], b, 0, [0, 1], square), new double[6], DType.Float64, "pow transposed");
    }

    [Test]
    public void IntegerUnaryWrapsAsTheHostBackend()
    {
        int[] xi = [0, 1, -1, 7, -7, 46341, int.MaxValue, int.MinValue];
        long[] xl = [0, 1, -1, 7, -7, 3_037_000_500, long.MaxValue, long.MinValue];
        foreach (var op in new[] { UnaryOp.Neg, UnaryOp.Abs, UnaryOp.Sign, UnaryOp.Square })
        {
            int[] ei = xi.Select(v => op switch { UnaryOp.Neg => unchecked(-v), UnaryOp.Abs => v < 0 ? unchecked(-v) : v, UnaryOp.Sign => Math.Sign(v), _ => unchecked(v * v) }).ToArray();
            long[] el = xl.Select(v => op switch { UnaryOp.Neg => unchecked(-v), UnaryOp.Abs => v < 0 ? unchecked(-v) : v, UnaryOp.Sign => Math.Sign(v), _ => unchecked(v * v) }).ToArray();
            Assert.That(RunUnary(op, xi), Is.EqualTo(ei), $"{op} int32");
            Assert.That(RunUnary(op, xl), Is.EqualTo(el), $"{op} int64");
        }
    }

    [Test]
    public void LogicalNotNegatesBytes()
    {
        bool[] x = [true, false, false, true, true];
        Assert.That(RunUnary(UnaryOp.LogicalNot, x), Is.EqualTo(x.Select(v => !v)));
    }

    [Test]
    public void UndefinedCombinationsThrowBeforeLaunching()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<NotSupportedException>(() => ElementwiseKernels.Unary(_device.Launcher, UnaryOp.Exp, DType.Int32, 0, 0, 1));
            Assert.Throws<NotSupportedException>(() => ElementwiseKernels.Unary(_device.Launcher, UnaryOp.Neg, DType.Bool, 0, 0, 1));
            Assert.Throws<NotSupportedException>(() => ElementwiseKernels.Unary(_device.Launcher, UnaryOp.LogicalNot, DType.Float32, 0, 0, 1));
            Assert.Throws<NotSupportedException>(() => ElementwiseKernels.BinaryPow(_device.Launcher, DType.Int64, 0, 0, [1], 0, 0, [1], 0, [1]));
        });
    }

    private static readonly double[] PowValues = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 2.5, -2.5, 1e-3, 37.0,
        double.PositiveInfinity, double.NegativeInfinity, double.NaN];

    /// <summary>Every pair of special values (a as a column, b as a row, broadcast to a square), then random bases and exponents.</summary>
    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void PowMatchesMathPowWithBroadcasting(DType dtype)
    {
        var m = PowValues.Length;
        var random = new Random(5);
        var a = PowValues.Concat(Enumerable.Range(0, 24).Select(_ => random.NextDouble() * 50)).ToArray();
        var b = PowValues.Concat(Enumerable.Range(0, 24).Select(_ => random.NextDouble() * 16 - 8)).ToArray();
        // Square of special values: a[i] broadcast along columns (strides [1, 0]), b[j] along rows ([0, 1]).
        int[] shape = [m, m];
        var expected = new double[m * m];
        var x = new double[m * m];
        for (var i = 0; i < m; i++)
            for (var j = 0; j < m; j++)
            {
                x[i * m + j] = a[i];
                expected[i * m + j] = dtype == DType.Float32 ? MathF.Pow((float)a[i], (float)b[j]) : Math.Pow(a[i], b[j]);
            }
        var actual = RunPow(dtype, a, 0, [1, 0], b, 0, [0, 1], shape);
        AssertClose(expected, actual, x, dtype, $"pow special values {dtype.Name()}");

        // Random pairs, elementwise, read at offsets m (contiguous, rank 1).
        var n = 24;
        var expectedRandom = Enumerable.Range(0, n).Select(i => dtype == DType.Float32 ? MathF.Pow((float)a[m + i], (float)b[m + i]) : Math.Pow(a[m + i], b[m + i])).ToArray();
        var actualRandom = RunPow(dtype, a, m, [1], b, m, [1], [n]);
        AssertClose(expectedRandom, actualRandom, a.Skip(m).ToArray(), dtype, $"pow random {dtype.Name()}");
    }

    private double[] RunPow(DType dtype, double[] a, long aOffset, int[] aStrides, double[] b, long bOffset, int[] bStrides, int[] shape)
    {
        var n = shape.Aggregate(1, (p, d) => p * d);
        if (dtype == DType.Float32)
        {
            ulong da = _device.Upload<float>(a.Select(v => (float)v).ToArray()), db = _device.Upload<float>(b.Select(v => (float)v).ToArray()), y = _device.Poisoned<float>(n);
            ElementwiseKernels.BinaryPow(_device.Launcher, dtype, da, aOffset, aStrides, db, bOffset, bStrides, y, shape);
            return _device.Read<float>(y, n).Select(v => (double)v).ToArray();
        }
        ulong fa = _device.Upload<double>(a), fb = _device.Upload<double>(b), fy = _device.Poisoned<double>(n);
        ElementwiseKernels.BinaryPow(_device.Launcher, dtype, fa, aOffset, aStrides, fb, bOffset, bStrides, fy, shape);
        return _device.Read<double>(fy, n);
    }

    /// <summary>
    /// Dropout as the engine fuses it: keep = uniform ≥ rate, y = keep ? x·scale : 0, with the mask and the draws as outputs;
    /// equal to HostBackend's Fused bit for bit (the Philox stream, the comparison and the IEEE product), at a run counter
    /// above 2³² so both counter words matter, and a length that is not a multiple of 4; and a second stream on [−1.5, 2.25)
    /// (a + (b − a)·u in float64 without fma, then rounded), 35 elements so the CPU takes its AVX-512 path where it has one.
    /// </summary>
    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void DropoutMaskEqualsTheCpuBitForBit(DType dtype)
    {
        int[] shape = [5, 7];
        var program = new FusedProgram(dtype, shape, [new FusedInput(dtype, [7, 1], shape)],
            [
                new(FusedCode.RandomUniform, A: 0, Key: Philox.Key(42, 7)),
                new(FusedCode.Constant, Value: 0.3),
                new(FusedCode.Binary, Binary: BinaryOp.GreaterEqual, A: 1, B: 2),
                new(FusedCode.Constant, Value: 1 / 0.7),
                new(FusedCode.Binary, Binary: BinaryOp.Mul, A: 0, B: 4),
                new(FusedCode.Constant, Value: 0),
                new(FusedCode.Select, A: 3, B: 5, C: 6),
                new(FusedCode.RandomUniform, A: 1, Key: Philox.Key(3, 11), Lo: -1.5, Hi: 2.25),
            ],
            [(7, dtype), (3, DType.Bool), (1, dtype), (8, dtype)], 2);
        var x = Enumerable.Range(0, 35).Select(i => i % 11 == 0 ? double.NaN : Math.Sin(i) * 4).ToArray();
        var (expected, actual) = RunFused(program, [x], [(1L << 32) + 9, 5]);
        for (var o = 0; o < expected.Length; o++)
            Assert.That(actual[o].Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(expected[o].Select(BitConverter.DoubleToInt64Bits)), $"output {o}");
        Assert.That(expected[1].Count(v => v == 0), Is.InRange(3, 25), "the mask drops some and keeps some");
    }

    /// <summary>
    /// A program with every instruction kind and every input access: a contiguous input, a periodic bias, a strided
    /// (transposed) input, a scalar, a bool input; unary functions, arithmetic, maximum/minimum with NaN and ±0, pow,
    /// comparisons, select, NotZero, LogicalNot, constants; outputs in the compute dtype and bool.
    /// </summary>
    [TestCase(DType.Float32), TestCase(DType.Float64)]
    public void FusedProgramMatchesTheCpu(DType dtype)
    {
        int[] shape = [3, 4];
        var program = new FusedProgram(dtype, shape,
            [
                new FusedInput(dtype, [4, 1], shape),        // r0 x, contiguous
                new FusedInput(dtype, [0, 1], shape),        // r1 bias, periodic 4
                new FusedInput(dtype, [1, 3], shape),        // r2 transposed, strided
                new FusedInput(dtype, [0, 0], shape),        // r3 scalar
                new FusedInput(DType.Bool, [4, 1], shape),   // r4 bool
            ],
            [
                new(FusedCode.Binary, Binary: BinaryOp.Add, A: 0, B: 1),            // r5
                new(FusedCode.Unary, Unary: UnaryOp.Tanh, A: 5),                    // r6
                new(FusedCode.Binary, Binary: BinaryOp.Maximum, A: 2, B: 0),        // r7
                new(FusedCode.Binary, Binary: BinaryOp.Minimum, A: 2, B: 0),        // r8
                new(FusedCode.Binary, Binary: BinaryOp.Less, A: 0, B: 3),           // r9
                new(FusedCode.Select, A: 4, B: 6, C: 7),                            // r10
                new(FusedCode.NotZero, A: 2),                                       // r11
                new(FusedCode.LogicalNot, A: 9),                                    // r12
                new(FusedCode.Unary, Unary: UnaryOp.Abs, A: 1),                     // r13
                new(FusedCode.Binary, Binary: BinaryOp.Pow, A: 13, B: 3),           // r14
                new(FusedCode.Binary, Binary: BinaryOp.Div, A: 10, B: 14),          // r15
                new(FusedCode.Unary, Unary: UnaryOp.Sigmoid, A: 15),                // r16
                new(FusedCode.Binary, Binary: BinaryOp.NotEqual, A: 0, B: 2),       // r17
                new(FusedCode.Binary, Binary: BinaryOp.LogicalAnd, A: 11, B: 12),   // r18
                new(FusedCode.Binary, Binary: BinaryOp.LogicalOr, A: 17, B: 9),     // r19
                new(FusedCode.Unary, Unary: UnaryOp.Erf, A: 0),                     // r20
                new(FusedCode.Binary, Binary: BinaryOp.Sub, A: 16, B: 20),          // r21
            ],
            [(21, dtype), (7, dtype), (8, dtype), (18, DType.Bool), (19, dtype), (14, dtype)], 0);
        double[] x = [0.5, -0.0, 0.0, double.NaN, -2, 3, 1e-3, -1e-3, 7, -7, 0.25, 1.5];
        double[] bias = [0.1, -0.2, 0.0, 2.5];
        double[] t = [0.0, -0.0, 1, double.NaN, 5, -5, 0.25, 2, -1, 0.0, 3, -0.5];
        double[] s = [1.5];
        double[] mask = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1];
        var (expected, actual) = RunFused(program, [x, bias, t, s, mask], []);
        for (var o = 0; o < expected.Length; o++)
            AssertClose(expected[o], actual[o], x, dtype, $"output {o}");
        // Maximum and minimum have no rounding: they must equal the CPU's bit for bit (NaN aside), signed zeros included.
        for (var o = 1; o <= 2; o++)
            for (var i = 0; i < x.Length; i++)
                if (!double.IsNaN(expected[o][i]))
                    Assert.That(BitConverter.DoubleToInt64Bits(actual[o][i]), Is.EqualTo(BitConverter.DoubleToInt64Bits(expected[o][i])), $"output {o}[{i}]");
    }

    /// <summary>Runs <paramref name="program"/> on the CPU (deterministic: float32 functions evaluated in float64 and rounded, as the PTX) and on the device; returns both sets of outputs as float64.</summary>
    private (double[][] Expected, double[][] Actual) RunFused(FusedProgram program, double[][] inputs, ulong[] counters)
    {
        using var cpu = new CpuBackend(deterministic: true);
        var cpuIn = inputs.Select((v, j) => { var b = cpu.Memory.Allocate(program.Inputs[j].DType, v.Length); cpu.Memory.WriteFloat64(v, b); return b; }).ToArray();
        var cpuOut = program.Outputs.Select(o => cpu.Memory.Allocate(o.DType, program.Length)).ToArray();
        ((IBackend)cpu).Fused(program, cpuIn, cpuOut, counters);
        var expected = cpuOut.Select(cpu.Memory.ReadFloat64).ToArray();

        var devIn = inputs.Select((v, j) => Upload(program.Inputs[j].DType, v)).ToArray();
        var devOut = program.Outputs.Select(o => _device.Allocate((long)program.Length * o.DType.SizeOf())).ToArray();
        ElementwiseKernels.Fused(_device.Launcher, program, devIn, devOut, counters);
        var actual = program.Outputs.Select((o, k) => Download(o.DType, devOut[k], program.Length)).ToArray();
        return (expected, actual);
    }

    private ulong Upload(DType dtype, double[] v) => dtype switch
    {
        DType.Float32 => _device.Upload<float>(v.Select(x => (float)x).ToArray()),
        DType.Float64 => _device.Upload<double>(v),
        DType.Bool => _device.Upload<bool>(v.Select(x => x != 0).ToArray()),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "fused inputs are float or bool"),
    };

    private double[] Download(DType dtype, ulong address, int n) => dtype switch
    {
        DType.Float32 => _device.Read<float>(address, n).Select(x => (double)x).ToArray(),
        DType.Float64 => _device.Read<double>(address, n),
        DType.Bool => _device.Read<byte>(address, n).Select(x => x == 1 ? 1.0 : x == 0 ? 0.0 : double.NaN).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "fused outputs are float or bool"),
    };
}

/// <summary>The math-library kernels on GPU 0 (ignored without a driver).</summary>
[Category("Gpu")]
[TestFixture]
public sealed class CudaMathKernelTestsOnGpu : CudaMathKernelTests
{
    private protected override IKernelTestDevice CreateDevice() => new GpuKernelTestDevice();
}

/// <summary>The math-library kernels on the tests' PTX emulator (EmulatedKernelTestDevice): strict parsing and IEEE arithmetic on the CPU.</summary>
[TestFixture]
public sealed class CudaMathKernelTestsOnEmulator : CudaMathKernelTests
{
    private protected override IKernelTestDevice CreateDevice() => new EmulatedKernelTestDevice();
}
