using Nabla.Kernels;
using Nabla.Kernels.Cpu;
using Nabla.Kernels.Reference;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The documented edge semantics of <see cref="IBackend"/> (IBackend.cs, ElementOps.cs), called
/// kernel by kernel with expected values written as constants: integer wrap and division by zero,
/// casts, checks, aborted assignments and optimizer steps, out-of-range gathers and scatters, empty
/// reductions, NaN and signed zeros. Written once and run on every host backend, so the reference
/// (the oracle) and the CPU backend are each held to the contract rather than to each other.
/// </summary>
public abstract class KernelSemanticsTests
{
    private IBackend _be = null!;

    protected abstract IBackend Create();

    [SetUp]
    public void SetUp() => _be = Create();

    [TearDown]
    public void TearDown() => _be.Dispose();

    private DeviceBuffer Buffer<T>(DType dtype, params T[] values)
    {
        var b = _be.Memory.Allocate(dtype, values.Length);
        _be.Memory.Upload(values, b);
        return b;
    }

    private T[] Read<T>(DeviceBuffer b)
    {
        var r = new T[b.Length];
        _be.Memory.Download(b, r);
        return r;
    }

    private static StridedView Flat(DeviceBuffer b) => new(b, 0, [1]);

    private T[] Binary<T>(BinaryOp op, DType dtype, T[] a, T[] b, DType outType)
    {
        var y = _be.Memory.Allocate(outType, a.Length);
        _be.Binary(op, Flat(Buffer(dtype, a)), Flat(Buffer(dtype, b)), y, [a.Length]);
        return Read<T>(y);
    }

    private bool[] Compare<T>(BinaryOp op, DType dtype, T[] a, T[] b)
    {
        var y = _be.Memory.Allocate(DType.Bool, a.Length);
        _be.Binary(op, Flat(Buffer(dtype, a)), Flat(Buffer(dtype, b)), y, [a.Length]);
        return Read<bool>(y);
    }

    [Test]
    public void IntegerArithmeticWrapsAndDivisionByZeroGivesZero()
    {
        int[] a = [int.MaxValue, int.MinValue, 7, -7, 7, int.MinValue];
        int[] b = [1, -1, 0, 2, -2, 2];
        Assert.That(Binary(BinaryOp.Add, DType.Int32, a, b, DType.Int32), Is.EqualTo(new[] { int.MinValue, int.MaxValue, 7, -5, 5, int.MinValue + 2 }));
        Assert.That(Binary(BinaryOp.Mul, DType.Int32, a, b, DType.Int32), Is.EqualTo(new[] { int.MaxValue, int.MinValue, 0, -14, -14, 0 }));
        // Truncating division; MIN / −1 wraps to MIN; x / 0 = 0.
        Assert.That(Binary(BinaryOp.Div, DType.Int32, a, b, DType.Int32), Is.EqualTo(new[] { int.MaxValue, int.MinValue, 0, -3, -3, int.MinValue / 2 }));
        long[] la = [long.MinValue, long.MaxValue, -9, 9];
        long[] lb = [-1, 1, 0, -4];
        Assert.That(Binary(BinaryOp.Div, DType.Int64, la, lb, DType.Int64), Is.EqualTo(new[] { long.MinValue, long.MaxValue, 0, -2L }));
        Assert.That(Binary(BinaryOp.Sub, DType.Int64, la, lb, DType.Int64), Is.EqualTo(new[] { long.MinValue + 1, long.MaxValue - 1, -9, 13L }));
        // int64 values above 2⁵³ compare exactly (no detour through double).
        Assert.That(Compare(BinaryOp.Less, DType.Int64, new[] { (1L << 53) + 1, long.MaxValue - 1 }, new[] { (1L << 53) + 2, long.MaxValue }), Is.EqualTo(new[] { true, true }));
    }

    [Test]
    public void IntegerUnaryWrapsAtMin()
    {
        foreach (var (op, expected) in new[] { (UnaryOp.Neg, new[] { int.MinValue, -5, 0, 5 }), (UnaryOp.Abs, [int.MinValue, 5, 0, 5]), (UnaryOp.Sign, [-1, 1, 0, -1]), (UnaryOp.Square, [0, 25, 0, 25]) })
        {
            var y = _be.Memory.Allocate(DType.Int32, 4);
            _be.Unary(op, Buffer(DType.Int32, int.MinValue, 5, 0, -5), y);
            Assert.That(Read<int>(y), Is.EqualTo(expected), op.ToString());
        }
    }

    [Test]
    public void FloatSpecialsFollowTheDefinitions()
    {
        double[] x = [double.NaN, double.NegativeInfinity, double.PositiveInfinity, -800, 1e-10, -1e-10];
        double Unary(UnaryOp op, int i)
        {
            var y = _be.Memory.Allocate(DType.Float64, 1);
            _be.Unary(op, Buffer(DType.Float64, x[i]), y);
            return Read<double>(y)[0];
        }
        foreach (var op in new[] { UnaryOp.Sign, UnaryOp.Relu, UnaryOp.Sigmoid, UnaryOp.Softplus, UnaryOp.Erf, UnaryOp.Expm1, UnaryOp.Log1p })
            Assert.That(Unary(op, 0), Is.NaN, $"{op}(NaN)");
        Assert.That(Unary(UnaryOp.Sigmoid, 1), Is.EqualTo(0.0));
        Assert.That(Unary(UnaryOp.Sigmoid, 2), Is.EqualTo(1.0));
        Assert.That(Unary(UnaryOp.Softplus, 1), Is.EqualTo(0.0));
        Assert.That(Unary(UnaryOp.Softplus, 2), Is.EqualTo(double.PositiveInfinity));
        Assert.That(Unary(UnaryOp.Expm1, 1), Is.EqualTo(-1.0));
        Assert.That(Unary(UnaryOp.Erf, 1), Is.EqualTo(-1.0));
        // σ(−800) = e⁻⁸⁰⁰ ≈ 4e-348 is below the smallest subnormal: 0.
        Assert.That(Unary(UnaryOp.Sigmoid, 3), Is.EqualTo(0.0));
        // Near 0: expm1(x) = x + x²/2 and log1p(x) = x − x²/2 to double precision (no cancellation).
        Assert.That(Unary(UnaryOp.Expm1, 4), Is.EqualTo(1e-10 + 5e-21).Within(1e-25));
        Assert.That(Unary(UnaryOp.Log1p, 5), Is.EqualTo(-1e-10 - 5e-21).Within(1e-25));
        Assert.That(Unary(UnaryOp.Softplus, 4), Is.EqualTo(Math.Log(2) + 5e-11).Within(1e-16));
    }

    [Test]
    public void SigmoidBelowTheExpOverflowIsStillPositive()
    {
        // 1/(1 + e⁻ˣ) with e⁻ˣ = ∞ would give 0; the definition's value eˣ is a positive subnormal here.
        var y = _be.Memory.Allocate(DType.Float64, 1);
        _be.Unary(UnaryOp.Sigmoid, Buffer(DType.Float64, -720.0), y);
        Assert.That(Read<double>(y)[0], Is.EqualTo(Math.Exp(-720)).Within(1e-320));
        Assert.That(Math.Exp(-720), Is.GreaterThan(0));
    }

    [Test]
    public void MaximumAndMinimumPropagateNaNAndOrderSignedZeros()
    {
        double[] a = [double.NaN, 1, 0.0, -0.0];
        double[] b = [1, double.NaN, -0.0, 0.0];
        var max = Binary(BinaryOp.Maximum, DType.Float64, a, b, DType.Float64);
        var min = Binary(BinaryOp.Minimum, DType.Float64, a, b, DType.Float64);
        Assert.That(max.Take(2), Is.All.NaN);
        Assert.That(min.Take(2), Is.All.NaN);
        Assert.That(max.Skip(2).Select(double.IsNegative), Is.EqualTo(new[] { false, false }), "max(±0, ∓0) = +0");
        Assert.That(min.Skip(2).Select(double.IsNegative), Is.EqualTo(new[] { true, true }), "min(±0, ∓0) = −0");
        Assert.That(Compare(BinaryOp.Equal, DType.Float64, [double.NaN, 0.0], [double.NaN, -0.0]), Is.EqualTo(new[] { false, true }));
        Assert.That(Compare(BinaryOp.NotEqual, DType.Float64, [double.NaN], [double.NaN]), Is.EqualTo(new[] { true }));
    }

    [Test]
    public void ReductionsOfEmptyAxesAndNaN()
    {
        var empty = _be.Memory.Allocate(DType.Float64, 0);
        foreach (var (op, expected) in new[] { (ReduceOp.Sum, 0.0), (ReduceOp.Prod, 1.0), (ReduceOp.Max, double.NegativeInfinity), (ReduceOp.Min, double.PositiveInfinity), (ReduceOp.Mean, double.NaN) })
        {
            var y = _be.Memory.Allocate(DType.Float64, 2);
            _be.Reduce(op, empty, 2, 0, 1, y);
            Assert.That(Read<double>(y), Is.EqualTo(new[] { expected, expected }), op.ToString());
        }
        var x = Buffer(DType.Float64, 1.0, double.NaN, 3.0, 3.0, 2.0, double.NaN);
        var m = _be.Memory.Allocate(DType.Float64, 2);
        _be.Reduce(ReduceOp.Max, x, 2, 3, 1, m);
        Assert.That(Read<double>(m), Is.All.NaN, "max propagates NaN");
        var arg = _be.Memory.Allocate(DType.Int64, 2);
        _be.Reduce(ReduceOp.ArgMax, x, 2, 3, 1, arg);
        Assert.That(Read<long>(arg), Is.EqualTo(new[] { 1L, 2 }), "the first NaN is the maximum");
        _be.Reduce(ReduceOp.ArgMin, Buffer(DType.Float64, 2.0, 1.0, 1.0, 5.0, 4.0, 4.0), 2, 3, 1, arg);
        Assert.That(Read<long>(arg), Is.EqualTo(new[] { 1L, 1 }), "the first minimum wins ties");
        var ints = _be.Memory.Allocate(DType.Int32, 1);
        _be.Reduce(ReduceOp.Sum, Buffer(DType.Int32, int.MaxValue, 1), 1, 2, 1, ints);
        Assert.That(Read<int>(ints), Is.EqualTo(new[] { int.MinValue }), "integer sums wrap");
        _be.Reduce(ReduceOp.Max, _be.Memory.Allocate(DType.Int32, 0), 1, 0, 1, ints);
        Assert.That(Read<int>(ints), Is.EqualTo(new[] { int.MinValue }), "empty integer max");
    }

    [Test]
    public void CastsTruncateSaturateAndMapNaNToZero()
    {
        var src = Buffer(DType.Float64, -1.7, 2.9, double.NaN, 1e300, -1e300, 0.0);
        var i32 = _be.Memory.Allocate(DType.Int32, 6);
        _be.Cast(src, i32);
        Assert.That(Read<int>(i32), Is.EqualTo(new[] { -1, 2, 0, int.MaxValue, int.MinValue, 0 }));
        var i64 = _be.Memory.Allocate(DType.Int64, 6);
        _be.Cast(src, i64);
        Assert.That(Read<long>(i64), Is.EqualTo(new[] { -1L, 2, 0, long.MaxValue, long.MinValue, 0 }));
        var flags = _be.Memory.Allocate(DType.Bool, 6);
        _be.Cast(src, flags);
        Assert.That(Read<bool>(flags), Is.EqualTo(new[] { true, true, true, true, true, false }), "nonzero (NaN included) → true");
        var narrowed = _be.Memory.Allocate(DType.Int32, 3);
        _be.Cast(Buffer(DType.Int64, long.MaxValue, long.MinValue, -3L), narrowed);
        Assert.That(Read<int>(narrowed), Is.EqualTo(new[] { int.MaxValue, int.MinValue, -3 }), "int64 → int32 saturates");
        var back = _be.Memory.Allocate(DType.Float64, 2);
        _be.Cast(Buffer(DType.Bool, true, false), back);
        Assert.That(Read<double>(back), Is.EqualTo(new[] { 1.0, 0.0 }));
        var filled = _be.Memory.Allocate(DType.Int32, 2);
        _be.Fill(filled, 1e12);
        Assert.That(Read<int>(filled), Is.EqualTo(new[] { int.MaxValue, int.MaxValue }), "Fill saturates");
    }

    [Test]
    public void CheckRecordsOnlyTheFirstFailurePerSite()
    {
        var flags = Buffer(DType.Int64, 0L, 0, 0, 0, 0, 0);
        _be.Check(CheckKind.IndexInRange, Buffer(DType.Int32, 0, 4, 9, -1), 5, flags, 0);
        _be.Check(CheckKind.NonZero, Buffer(DType.Int64, 3L, 0, 0), 0, flags, 1);
        _be.Check(CheckKind.Finite, Buffer(DType.Float64, 1.0, double.PositiveInfinity), 0, flags, 2);
        // A later failure at site 0 does not overwrite the first.
        _be.Check(CheckKind.IndexInRange, Buffer(DType.Int32, -7), 5, flags, 0);
        Assert.That(Read<long>(flags), Is.EqualTo(new[] { 3L, 9, 2, 0, 2, BitConverter.DoubleToInt64Bits(double.PositiveInfinity) }));
        var clean = Buffer(DType.Int64, 0L, 0);
        _be.Check(CheckKind.IndexInRange, Buffer(DType.Int64, 0L, 4), 5, clean, 0);
        Assert.That(Read<long>(clean), Is.EqualTo(new[] { 0L, 0 }));
    }

    [Test]
    public void AssignAndOptimizerStepsAreSkippedAfterAFailedCheck()
    {
        var failed = Buffer(DType.Int64, 0L, 0, 2, 7);
        var clean = Buffer(DType.Int64, 0L, 0);
        var w = Buffer(DType.Float64, 1.0, 2.0);
        _be.Assign(BinaryOp.Add, w, Buffer(DType.Float64, 10.0, 20.0), failed);
        Assert.That(Read<double>(w), Is.EqualTo(new[] { 1.0, 2.0 }), "aborted");
        _be.Assign(BinaryOp.Sub, w, Buffer(DType.Float64, 10.0, 20.0), clean);
        Assert.That(Read<double>(w), Is.EqualTo(new[] { -9.0, -18.0 }));
        _be.Assign(null, w, Buffer(DType.Float64, 5.0, 6.0), null);
        Assert.That(Read<double>(w), Is.EqualTo(new[] { 5.0, 6.0 }));
        var lr = Buffer(DType.Float64, 0.5);
        _be.ApplyOptimizer(OptimizerKind.GradientDescent, false, [lr], w, Buffer(DType.Float64, 2.0, 4.0), null, null, null, failed);
        Assert.That(Read<double>(w), Is.EqualTo(new[] { 5.0, 6.0 }), "aborted");
        // The gradient may alias the variable: w ← w − 0.5·w.
        _be.ApplyOptimizer(OptimizerKind.GradientDescent, false, [lr], w, w, null, null, null, clean);
        Assert.That(Read<double>(w), Is.EqualTo(new[] { 2.5, 3.0 }));
    }

    [Test]
    public void GatherReadsZerosAndScatterSkipsOutOfRangeIndices()
    {
        var src = Buffer(DType.Float64, 1.0, 2.0, 3.0);
        var idx = Buffer(DType.Int64, 2L, -1, 3, long.MaxValue, 0);
        var dst = Buffer(DType.Float64, 9.0, 9.0, 9.0, 9.0, 9.0);
        _be.Gather(src, idx, 1, 3, 1, dst);
        Assert.That(Read<double>(dst), Is.EqualTo(new[] { 3.0, 0, 0, 0, 1 }));
        var acc = Buffer(DType.Float64, 0.0, 0.0, 0.0);
        _be.ScatterAdd(Buffer(DType.Float64, 1.0, 10.0, 100.0, 1000.0, 5.0), idx, 1, 3, 1, acc);
        Assert.That(Read<double>(acc), Is.EqualTo(new[] { 5.0, 0, 1 }));
        var ints = Buffer(DType.Int32, 0, 0);
        _be.ScatterAdd(Buffer(DType.Int32, int.MaxValue, 1), Buffer(DType.Int32, 1, 1), 1, 2, 1, ints);
        Assert.That(Read<int>(ints), Is.EqualTo(new[] { 0, int.MinValue }), "integer accumulation wraps");
    }

    [Test]
    public void StridedSelectAndBoolLogic()
    {
        // cond [2,1] broadcast over a [2,3] and a scalar b.
        var y = _be.Memory.Allocate(DType.Float64, 6);
        _be.Select(new StridedView(Buffer(DType.Bool, true, false), 0, [1, 0]), new StridedView(Buffer(DType.Float64, 1.0, 2, 3, 4, 5, 6), 0, [3, 1]),
            new StridedView(Buffer(DType.Float64, -1.0), 0, [0, 0]), y, [2, 3]);
        Assert.That(Read<double>(y), Is.EqualTo(new[] { 1.0, 2, 3, -1, -1, -1 }));
        bool[] p = [false, false, true, true], q = [false, true, false, true];
        Assert.That(Binary(BinaryOp.LogicalXor, DType.Bool, p, q, DType.Bool), Is.EqualTo(new[] { false, true, true, false }));
        Assert.That(Binary(BinaryOp.Equal, DType.Bool, p, q, DType.Bool), Is.EqualTo(new[] { true, false, false, true }));
        Assert.Throws<NotSupportedException>(() => Binary(BinaryOp.Add, DType.Bool, p, q, DType.Bool));
        Assert.Throws<NotSupportedException>(() => Binary(BinaryOp.Pow, DType.Int32, [2], [3], DType.Int32));
    }
}

public class ReferenceKernelSemanticsTests : KernelSemanticsTests
{
    protected override IBackend Create() => new ReferenceBackend();
}

public class CpuKernelSemanticsTests : KernelSemanticsTests
{
    protected override IBackend Create() => new CpuBackend();
}
