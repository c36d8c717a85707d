using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>Binary: every op on every dtype that defines it, over all pairs of special values, then broadcasting.</summary>
public abstract partial class CudaElementwiseKernelTests
{
    private static readonly float[] SpecialFloat32 = [0f, -0f, 1f, -2.5f, 3f, 1e-45f, float.MaxValue, 0.1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];
    private static readonly double[] SpecialFloat64 = [0, -0.0, 1, -2.5, 3, 5e-324, double.MaxValue, 0.1, double.NaN, double.PositiveInfinity, double.NegativeInfinity];
    private static readonly int[] SpecialInt32 = [0, 1, -1, 7, -7, 3, int.MinValue, int.MaxValue];
    private static readonly long[] SpecialInt64 = [0, 1, -1, 7, -7, 3, long.MinValue, long.MaxValue];

    private static readonly BinaryOp[] NumberOps =
    [
        BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Maximum, BinaryOp.Minimum,
        BinaryOp.Equal, BinaryOp.NotEqual, BinaryOp.Less, BinaryOp.LessEqual, BinaryOp.Greater, BinaryOp.GreaterEqual,
    ];

    private static bool IsComparison(BinaryOp op) => op is BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessEqual or BinaryOp.Greater or BinaryOp.GreaterEqual;

    /// <summary>IEEE 754-2019 maximum/minimum: NaN if either is NaN, and +0 is greater than −0.</summary>
    private static double Extremum(double a, double b, bool max)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return double.NaN;
        if (a != b) return (a > b) == max ? a : b;
        return double.IsNegative(a) == max ? b : a; // equal: only ±0 differ; max prefers +0, min −0
    }

    private static float Float32(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Maximum => (float)Extremum(a, b, true),
        _ => (float)Extremum(a, b, false),
    };

    private static double Float64(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Maximum => Extremum(a, b, true),
        _ => Extremum(a, b, false),
    };

    /// <summary>Wrapping integer arithmetic; division truncates, x / 0 = 0 and x / −1 = −x (wrapping MIN to MIN).</summary>
    private static long Integer(BinaryOp op, long a, long b, bool is32)
    {
        long Wrap(long v) => is32 ? unchecked((int)v) : v;
        return op switch
        {
            BinaryOp.Add => Wrap(unchecked(a + b)),
            BinaryOp.Sub => Wrap(unchecked(a - b)),
            BinaryOp.Mul => Wrap(unchecked(a * b)),
            BinaryOp.Div => b == 0 ? 0 : b == -1 ? Wrap(unchecked(-a)) : a / b,
            BinaryOp.Maximum => Math.Max(a, b),
            _ => Math.Min(a, b),
        };
    }

    private static bool Compare<T>(BinaryOp op, T a, T b) where T : System.Numerics.INumber<T> => op switch
    {
        BinaryOp.Equal => a == b,
        BinaryOp.NotEqual => a != b,
        BinaryOp.Less => a < b,
        BinaryOp.LessEqual => a <= b,
        BinaryOp.Greater => a > b,
        _ => a >= b,
    };

    /// <summary>Every (a, b) pair of <paramref name="values"/> as two contiguous vectors.</summary>
    private static (T[] A, T[] B) Pairs<T>(T[] values) =>
        (values.SelectMany(a => values.Select(_ => a)).ToArray(), values.SelectMany(_ => values).ToArray());

    /// <summary>Runs op over two contiguous vectors of n elements.</summary>
    private void RunBinary(BinaryOp op, DType dtype, ulong a, ulong b, ulong y, int n) =>
        ElementwiseKernels.Binary(K, op, dtype, a, 0, [1], b, 0, [1], y, [n]);

    [Test]
    public void Binary_Float32_AllPairsOfSpecials([ValueSource(nameof(NumberOps))] BinaryOp op)
    {
        var (a, b) = Pairs(SpecialFloat32);
        var n = a.Length;
        if (IsComparison(op))
        {
            var y = Out<byte>(n);
            RunBinary(op, DType.Float32, Up(a), Up(b), y, n);
            AssertSame(a.Zip(b, (x, z) => (byte)(Compare(op, x, z) ? 1 : 0)).ToArray(), Down<byte>(y, n), $"float32 {op}");
            return;
        }
        var r = Out<float>(n);
        RunBinary(op, DType.Float32, Up(a), Up(b), r, n);
        AssertSame(a.Zip(b, (x, z) => Float32(op, x, z)).ToArray(), Down<float>(r, n), $"float32 {op}");
    }

    [Test]
    public void Binary_Float64_AllPairsOfSpecials([ValueSource(nameof(NumberOps))] BinaryOp op)
    {
        var (a, b) = Pairs(SpecialFloat64);
        var n = a.Length;
        if (IsComparison(op))
        {
            var y = Out<byte>(n);
            RunBinary(op, DType.Float64, Up(a), Up(b), y, n);
            AssertSame(a.Zip(b, (x, z) => (byte)(Compare(op, x, z) ? 1 : 0)).ToArray(), Down<byte>(y, n), $"float64 {op}");
            return;
        }
        var r = Out<double>(n);
        RunBinary(op, DType.Float64, Up(a), Up(b), r, n);
        AssertSame(a.Zip(b, (x, z) => Float64(op, x, z)).ToArray(), Down<double>(r, n), $"float64 {op}");
    }

    [Test]
    public void Binary_Int32_AllPairsOfSpecials([ValueSource(nameof(NumberOps))] BinaryOp op)
    {
        var (a, b) = Pairs(SpecialInt32);
        var n = a.Length;
        if (IsComparison(op))
        {
            var y = Out<byte>(n);
            RunBinary(op, DType.Int32, Up(a), Up(b), y, n);
            AssertSame(a.Zip(b, (x, z) => (byte)(Compare(op, x, z) ? 1 : 0)).ToArray(), Down<byte>(y, n), $"int32 {op}");
            return;
        }
        var r = Out<int>(n);
        RunBinary(op, DType.Int32, Up(a), Up(b), r, n);
        AssertSame(a.Zip(b, (x, z) => (int)Integer(op, x, z, true)).ToArray(), Down<int>(r, n), $"int32 {op}");
    }

    [Test]
    public void Binary_Int64_AllPairsOfSpecials([ValueSource(nameof(NumberOps))] BinaryOp op)
    {
        var (a, b) = Pairs(SpecialInt64);
        var n = a.Length;
        if (IsComparison(op))
        {
            var y = Out<byte>(n);
            RunBinary(op, DType.Int64, Up(a), Up(b), y, n);
            AssertSame(a.Zip(b, (x, z) => (byte)(Compare(op, x, z) ? 1 : 0)).ToArray(), Down<byte>(y, n), $"int64 {op}");
            return;
        }
        var r = Out<long>(n);
        RunBinary(op, DType.Int64, Up(a), Up(b), r, n);
        AssertSame(a.Zip(b, (x, z) => Integer(op, x, z, false)).ToArray(), Down<long>(r, n), $"int64 {op}");
    }

    [Test]
    public void Binary_Bool_LogicAndEquality(
        [Values(BinaryOp.LogicalAnd, BinaryOp.LogicalOr, BinaryOp.LogicalXor, BinaryOp.Equal, BinaryOp.NotEqual)] BinaryOp op)
    {
        byte[] a = [0, 0, 1, 1], b = [0, 1, 0, 1];
        Func<bool, bool, bool> f = op switch
        {
            BinaryOp.LogicalAnd => (x, z) => x && z,
            BinaryOp.LogicalOr => (x, z) => x || z,
            BinaryOp.Equal => (x, z) => x == z,
            _ => (x, z) => x != z,
        };
        var y = Out<byte>(4);
        RunBinary(op, DType.Bool, Up(a), Up(b), y, 4);
        AssertSame(a.Zip(b, (x, z) => (byte)(f(x != 0, z != 0) ? 1 : 0)).ToArray(), Down<byte>(y, 4), $"bool {op}");
    }

    [Test]
    public void Binary_UndefinedCombinations_ThrowNotSupported()
    {
        Assert.Throws<NotSupportedException>(() => RunBinary(BinaryOp.Add, DType.Bool, 0, 0, 0, 1));
        Assert.Throws<NotSupportedException>(() => RunBinary(BinaryOp.Less, DType.Bool, 0, 0, 0, 1));
        Assert.Throws<NotSupportedException>(() => RunBinary(BinaryOp.LogicalAnd, DType.Float32, 0, 0, 0, 1));
        Assert.Throws<NotSupportedException>(() => RunBinary(BinaryOp.LogicalOr, DType.Int64, 0, 0, 0, 1));
    }

    [Test]
    public void Binary_MatrixPlusRowVector_Broadcasts()
    {
        // [2, 3] + [3]: b has stride 0 along the rows (collapses to rank 2).
        float[] a = [1, 2, 3, 4, 5, 6], b = [0.5f, -1, 1e-8f];
        var y = Out<float>(6);
        ElementwiseKernels.Binary(K, BinaryOp.Add, DType.Float32, Up(a), 0, [3, 1], Up(b), 0, [0, 1], y, [2, 3]);
        AssertSame([1.5f, 1, 3 + 1e-8f, 4.5f, 4, 6 + 1e-8f], Down<float>(y, 6), "[2,3] + [3]");
    }

    [Test]
    public void Binary_OuterBroadcastOfBothOperands_Rank3([Values(DType.Int32, DType.Int64, DType.Float64)] DType dtype)
    {
        // a [2, 1, 3] − b [1, 4, 1] → [2, 4, 3]; neither collapses, and a starts at offset 2 of its buffer.
        int[] shape = [2, 4, 3], aStrides = [3, 0, 1], bStrides = [0, 1, 0];
        var aValues = Enumerable.Range(0, 8).Select(i => i * 10 - 30).ToArray(); // 2 padding elements, then 6
        var bValues = new[] { 1, -2, 3, int.MinValue };
        var aOff = Offsets(shape, 2, aStrides);
        var bOff = Offsets(shape, 0, bStrides);
        var n = Count(shape);
        if (dtype == DType.Float64)
        {
            var y = Out<double>(n);
            ElementwiseKernels.Binary(K, BinaryOp.Sub, dtype, Up(aValues.Select(v => (double)v).ToArray()), 2, aStrides,
                Up(bValues.Select(v => (double)v).ToArray()), 0, bStrides, y, shape);
            AssertSame(Enumerable.Range(0, n).Select(i => (double)aValues[aOff[i]] - bValues[bOff[i]]).ToArray(), Down<double>(y, n), "float64 broadcast sub");
        }
        else if (dtype == DType.Int32)
        {
            var y = Out<int>(n);
            ElementwiseKernels.Binary(K, BinaryOp.Sub, dtype, Up(aValues), 2, aStrides, Up(bValues), 0, bStrides, y, shape);
            AssertSame(Enumerable.Range(0, n).Select(i => unchecked(aValues[aOff[i]] - bValues[bOff[i]])).ToArray(), Down<int>(y, n), "int32 broadcast sub");
        }
        else
        {
            var y = Out<long>(n);
            ElementwiseKernels.Binary(K, BinaryOp.Sub, dtype, Up(aValues.Select(v => (long)v).ToArray()), 2, aStrides,
                Up(bValues.Select(v => (long)v).ToArray()), 0, bStrides, y, shape);
            AssertSame(Enumerable.Range(0, n).Select(i => (long)aValues[aOff[i]] - bValues[bOff[i]]).ToArray(), Down<long>(y, n), "int64 broadcast sub");
        }
    }

    [Test]
    public void Binary_ScalarTimesTensor_AndComparisonAgainstScalar()
    {
        float[] x = [1, -2, 0, float.NaN, 4];
        var y = Out<float>(5);
        ElementwiseKernels.Binary(K, BinaryOp.Mul, DType.Float32, Up(3f), 0, [0], Up(x), 0, [1], y, [5]);
        AssertSame(x.Select(v => 3f * v).ToArray(), Down<float>(y, 5), "3 · x");
        var m = Out<byte>(5);
        ElementwiseKernels.Binary(K, BinaryOp.Greater, DType.Float32, Up(x), 0, [1], Up(0f), 0, [0], m, [5]);
        AssertSame<byte>([1, 0, 0, 0, 1], Down<byte>(m, 5), "x > 0");
    }

    [Test]
    public void Binary_Rank0_Size1_AndEmptyShapes()
    {
        var y = Out<long>(1);
        ElementwiseKernels.Binary(K, BinaryOp.Div, DType.Int64, Up(-7L), 0, [], Up(2L), 0, [], y, []);
        AssertSame([-3L], Down<long>(y, 1), "rank 0: −7 / 2 truncates");
        var z = Out<int>(1);
        ElementwiseKernels.Binary(K, BinaryOp.Div, DType.Int32, Up(9), 0, [1, 1], Up(0), 0, [1, 1], z, [1, 1]);
        AssertSame([0], Down<int>(z, 1), "[1,1]: 9 / 0 = 0");
        var e = Out<float>(0);
        ElementwiseKernels.Binary(K, BinaryOp.Add, DType.Float32, Up(1f), 0, [0, 1], Up(1f), 0, [0, 1], e, [0, 3]);
        Assert.That(Down<float>(e, 0), Is.Empty);
    }

    [Test]
    public void Binary_Rank8_EveryOtherDimensionBroadcast()
    {
        // a contiguous [2]^8; b broadcast along dimensions 1, 3, 5, 7 and read with strides 8, 4, 2, 1 along the rest:
        // no two neighbouring dimensions merge, so the kernel runs at rank 8.
        var shape = Enumerable.Repeat(2, 8).ToArray();
        var aStrides = Contiguous(shape);
        int[] bStrides = [8, 0, 4, 0, 2, 0, 1, 0];
        var n = Count(shape);
        var a = Enumerable.Range(0, n).Select(i => i * 1000).ToArray();
        var b = Enumerable.Range(0, 16).Select(i => i - 5).ToArray();
        var bOff = Offsets(shape, 0, bStrides);
        var y = Out<int>(n);
        ElementwiseKernels.Binary(K, BinaryOp.Add, DType.Int32, Up(a), 0, aStrides, Up(b), 0, bStrides, y, shape);
        AssertSame(Enumerable.Range(0, n).Select(i => a[i] + b[bOff[i]]).ToArray(), Down<int>(y, n), "rank-8 broadcast add");
    }

    [Test]
    public void Binary_BiasAddOverSeveralBlocks()
    {
        // [20, 30] + [30]: 600 elements, three blocks of 256.
        int[] shape = [20, 30];
        var n = Count(shape);
        var a = Enumerable.Range(0, n).Select(i => i * 0.37f - 50).ToArray();
        var b = Enumerable.Range(0, 30).Select(i => 1f / (i + 1)).ToArray();
        var y = Out<float>(n);
        ElementwiseKernels.Binary(K, BinaryOp.Add, DType.Float32, Up(a), 0, [30, 1], Up(b), 0, [0, 1], y, shape);
        AssertSame(Enumerable.Range(0, n).Select(i => a[i] + b[i % 30]).ToArray(), Down<float>(y, n), "bias add of 600");
    }

    [Test]
    public void GridStrideLoop_OneSmallBlock_CoversEveryElement()
    {
        // The launch shape normally gives every element its own thread; one block of 32 threads must loop over all 100.
        const string entry = "binary_mul_i64_r2";
        var f = K.Function(ElementwiseKernels.KeyPrefix + entry, () => ElementwisePtx.Binary(entry, BinaryOp.Mul, DType.Int64, 2), entry);
        var a = Enumerable.Range(0, 100).Select(i => (long)i - 40).ToArray();
        var b = Enumerable.Range(0, 10).Select(i => (long)i * 3 + 1).ToArray();
        var y = Out<long>(100);
        K.Launch(f, (1, 1, 1), 32, 0, new KernelArgs().U64(Up(a)).U64(Up(b)).U64(y).U32(100).AddBytes<int>([10, 10, 10, 1, 1, 0]));
        AssertSame(Enumerable.Range(0, 100).Select(i => a[i] * b[i / 10]).ToArray(), Down<long>(y, 100), "grid-stride loop");
    }

    [Test]
    public void Binary_Pow_GoesToBinaryPow()
    {
        // Pow belongs to ElementwiseKernels.Math.cs; Binary must hand it over rather than reject it.
        Assert.That(ElementwisePtx.BinaryResult(BinaryOp.Pow, DType.Float32), Is.Null, "the plain binary kernels do not define Pow");
        try
        {
            var y = Out<float>(1);
            ElementwiseKernels.Binary(K, BinaryOp.Pow, DType.Float32, Up(2f), 0, [1], Up(3f), 0, [1], y, [1]);
            AssertSame([8f], Down<float>(y, 1), "2^3");
        }
        catch (NotImplementedException)
        {
            Assert.Ignore("BinaryPow is not written yet (ElementwiseKernels.Math.cs)");
        }
    }
}
