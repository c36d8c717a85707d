using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>Copy over strided views, Select with broadcasting, and Assign with abort flags.</summary>
public abstract partial class CudaElementwiseKernelTests
{
    /// <summary>Copies src (offset, strides) into dst (offset, strides) over shape and checks every element of dst's buffer.</summary>
    private void CheckCopy<T>(DType dtype, T[] src, long srcOffset, int[] srcStrides, int dstLength, long dstOffset, int[] dstStrides, int[] shape)
        where T : unmanaged
    {
        var dst = Out<T>(dstLength);
        ElementwiseKernels.Copy(K, dtype, Up(src), srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);
        var actual = Down<T>(dst, dstLength);
        var expected = Poison<T>(dstLength); // untouched elements stay poisoned
        var s = Offsets(shape, srcOffset, srcStrides);
        var d = Offsets(shape, dstOffset, dstStrides);
        for (var i = 0; i < s.Length; i++) expected[d[i]] = src[s[i]];
        AssertSame(expected, actual, $"copy {dtype.Name()} shape [{string.Join(",", shape)}]");
    }

    [Test]
    public void Copy_Contiguous_EveryDType()
    {
        CheckCopy(DType.Float32, [1f, float.NaN, -0f, 4, 5, 6, 7], 0, [1], 7, 0, [1], [7]);
        CheckCopy(DType.Float64, [1.0, double.NegativeInfinity, 3], 0, [1], 3, 0, [1], [3]);
        CheckCopy(DType.Int32, [1, int.MinValue, 3, 4], 0, [1], 4, 0, [1], [4]);
        CheckCopy(DType.Int64, [long.MaxValue, 2, 3], 0, [1], 3, 0, [1], [3]);
        CheckCopy(DType.Bool, new byte[] { 1, 0, 1, 1, 0 }, 0, [1], 5, 0, [1], [5]);
    }

    [Test]
    public void Copy_Transpose_EveryWidth()
    {
        // src is a [3, 4] matrix read as its [4, 3] transpose (strides [1, 4]), written contiguously.
        CheckCopy(DType.Float32, Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 0, [1, 4], 12, 0, [3, 1], [4, 3]);
        CheckCopy(DType.Int64, Enumerable.Range(0, 12).Select(i => (long)i << 40).ToArray(), 0, [1, 4], 12, 0, [3, 1], [4, 3]);
        CheckCopy(DType.Bool, Enumerable.Range(0, 12).Select(i => (byte)(i % 3 == 0 ? 1 : 0)).ToArray(), 0, [1, 4], 12, 0, [3, 1], [4, 3]);
    }

    [Test]
    public void Copy_IntoAStridedDestinationWithOffsets_LeavesTheGapsAlone()
    {
        // src elements 2..5 into every other element of dst starting at 1.
        CheckCopy(DType.Int32, [10, 11, 12, 13, 14, 15, 16], 2, [1], 9, 1, [2], [4]);
        CheckCopy(DType.Float64, [0.5, 1.5, 2.5], 0, [1], 7, 6, [-2], [3]); // reversed destination
    }

    [Test]
    public void Copy_BroadcastSource_AndReversedSource()
    {
        CheckCopy(DType.Float32, [7f, 8f, 9f], 0, [0, 1], 6, 0, [3, 1], [2, 3]);
        CheckCopy(DType.Int32, [1, 2, 3, 4, 5], 4, [-1], 5, 0, [1], [5]);
    }

    [Test]
    public void Copy_Rank8_WhenNothingCollapses()
    {
        // Strides reversed relative to the shape (a full transpose of [2]^8): no two dimensions merge.
        var shape = Enumerable.Repeat(2, 8).ToArray();
        var src = Enumerable.Range(0, 256).Select(i => (long)i * 3 - 100).ToArray();
        CheckCopy(DType.Int64, src, 0, [1, 2, 4, 8, 16, 32, 64, 128], 256, 0, Contiguous(shape), shape);
    }

    [Test]
    public void Copy_Rank9_AfterCollapsing_ThrowsArgumentException()
    {
        var shape = Enumerable.Repeat(2, 9).ToArray();
        var e = Assert.Throws<ArgumentException>(() =>
            ElementwiseKernels.Copy(K, DType.Float32, 0, 0, [1, 2, 4, 8, 16, 32, 64, 128, 256], 0, 0, Contiguous(shape), shape))!;
        Assert.That(e.Message, Does.Contain("at most 8"));
    }

    [Test]
    public void Copy_HighRankThatCollapses_Runs()
    {
        int[] shape = [1, 2, 1, 3, 1, 1, 2, 1, 1, 2];
        var n = Count(shape);
        CheckCopy(DType.Float32, Enumerable.Range(0, n).Select(i => i + 0.25f).ToArray(), 0, Contiguous(shape), n, 0, Contiguous(shape), shape);
    }

    [Test]
    public void Copy_EmptyAndScalarShapes()
    {
        CheckCopy(DType.Float32, [1f, 2f], 0, [1, 0], 2, 0, [0, 1], [0, 2]);
        CheckCopy(DType.Float64, [1.0, 2.0, 3.0], 2, [], 1, 0, [], []);
    }

    // ---- Select ----

    [Test]
    public void Select_BroadcastConditionAndScalar_EveryDType([Values] DType dtype)
    {
        // y[2, 3] = cond[3] ? a (scalar) : b[2, 3]
        int[] shape = [2, 3], condStrides = [0, 1], aStrides = [0, 0], bStrides = [3, 1];
        byte[] cond = [1, 0, 1];
        var pick = Offsets(shape, 0, condStrides).Select(o => cond[o] != 0).ToArray();
        switch (dtype)
        {
            case DType.Float32: CheckSelect(dtype, cond, [float.NaN], [1f, -0f, 3, 4, float.PositiveInfinity, 6], shape, condStrides, aStrides, bStrides, pick); break;
            case DType.Float64: CheckSelect(dtype, cond, [-0.0], [1.0, double.NaN, 3, 4, 5, 6], shape, condStrides, aStrides, bStrides, pick); break;
            case DType.Int32: CheckSelect(dtype, cond, [int.MinValue], [1, 2, 3, 4, 5, 6], shape, condStrides, aStrides, bStrides, pick); break;
            case DType.Int64: CheckSelect(dtype, cond, [long.MaxValue], [1L, 2, 3, 4, 5, 6], shape, condStrides, aStrides, bStrides, pick); break;
            case DType.Bool: CheckSelect(dtype, cond, new byte[] { 1 }, new byte[] { 0, 0, 0, 1, 0, 0 }, shape, condStrides, aStrides, bStrides, pick); break;
        }
    }

    private void CheckSelect<T>(DType dtype, byte[] cond, T[] a, T[] b, int[] shape, int[] condStrides, int[] aStrides, int[] bStrides, bool[] pick)
        where T : unmanaged
    {
        var n = Count(shape);
        var y = Out<T>(n);
        ElementwiseKernels.Select(K, dtype, Up(cond), 0, condStrides, Up(a), 0, aStrides, Up(b), 0, bStrides, y, shape);
        var ao = Offsets(shape, 0, aStrides);
        var bo = Offsets(shape, 0, bStrides);
        var expected = Enumerable.Range(0, n).Select(i => pick[i] ? a[ao[i]] : b[bo[i]]).ToArray();
        var actual = Down<T>(y, n);
        AssertSame(expected, actual, $"select {dtype.Name()}");
        if (typeof(T) == typeof(float)) // Select moves bits: NaN payloads and −0 survive exactly.
            Assert.That(actual.Select(v => BitConverter.SingleToUInt32Bits((float)(object)v)), Is.EqualTo(expected.Select(v => BitConverter.SingleToUInt32Bits((float)(object)v))));
    }

    [Test]
    public void Select_Rank3WithOffsets_AndEmpty()
    {
        int[] shape = [2, 2, 3], condStrides = [1, 0, 2], aStrides = [6, 3, 1], bStrides = [0, 1, 0];
        byte[] cond = [0, 1, 1, 0, 1, 0, 0]; // read from offset 1
        var pick = Offsets(shape, 1, condStrides).Select(o => cond[o] != 0).ToArray();
        var a = Enumerable.Range(0, 15).Select(i => (long)i).ToArray(); // read from offset 3
        long[] b = [-1, -2];
        var n = Count(shape);
        var y = Out<long>(n);
        ElementwiseKernels.Select(K, DType.Int64, Up(cond), 1, condStrides, Up(a), 3, aStrides, Up(b), 0, bStrides, y, shape);
        var ao = Offsets(shape, 3, aStrides);
        var bo = Offsets(shape, 0, bStrides);
        AssertSame(Enumerable.Range(0, n).Select(i => pick[i] ? a[ao[i]] : b[bo[i]]).ToArray(), Down<long>(y, n), "rank-3 select");

        var e = Out<float>(0);
        ElementwiseKernels.Select(K, DType.Float32, Up<byte>(1), 0, [1, 0], Up(1f), 0, [1, 0], Up(2f), 0, [1, 0], e, [0, 5]);
        Assert.That(Down<float>(e, 0), Is.Empty);
    }

    // ---- Assign ----

    [Test]
    public void Assign_SetAddSub_EveryNumericDType([Values(null, BinaryOp.Add, BinaryOp.Sub)] BinaryOp? op)
    {
        CheckAssign(op, DType.Float32, [1f, -0f, 1e30f, float.NaN], [0.5f, 0f, 1e30f, 1f], (v, x) => op switch { null => x, BinaryOp.Add => v + x, _ => v - x }, 0, 0);
        CheckAssign(op, DType.Float64, [1.0, 0.1, -3], [0.2, 0.2, double.PositiveInfinity], (v, x) => op switch { null => x, BinaryOp.Add => v + x, _ => v - x }, 0, 0);
        CheckAssign(op, DType.Int32, [1, int.MaxValue, -5], [2, 1, 5], (v, x) => op switch { null => x, BinaryOp.Add => unchecked(v + x), _ => unchecked(v - x) }, 0, 0);
        CheckAssign(op, DType.Int64, [1L, long.MinValue], [2L, 1L], (v, x) => op switch { null => x, BinaryOp.Add => unchecked(v + x), _ => unchecked(v - x) }, 0, 0);
    }

    [Test]
    public void Assign_Bool_SetAndLogicalOr()
    {
        CheckAssign<byte>(null, DType.Bool, [0, 1, 1], [1, 1, 0], (v, x) => x, 0, 0);
        CheckAssign<byte>(BinaryOp.LogicalOr, DType.Bool, [0, 1, 0, 1], [0, 0, 1, 1], (v, x) => (byte)(v | x), 0, 0);
    }

    [Test]
    public void Assign_AbortFlags_SkipOnlyWhenAnEvenEntryIsSet()
    {
        long[] clear = [0, 0, 0, 0], oddOnly = [0, 99, 0, 7], secondSite = [0, 0, 3, 42], firstSite = [1, 5];
        CheckAssign(BinaryOp.Add, DType.Float32, [1f, 2f], [10f, 20f], (v, x) => v + x, Up(clear), clear.Length);
        CheckAssign(BinaryOp.Add, DType.Float32, [1f, 2f], [10f, 20f], (v, x) => v + x, Up(oddOnly), oddOnly.Length);
        CheckAssign(BinaryOp.Add, DType.Float32, [1f, 2f], [10f, 20f], (v, x) => v, Up(secondSite), secondSite.Length);
        CheckAssign(null, DType.Int64, [1L, 2L, 3L], [7L, 8L, 9L], (v, x) => v, Up(firstSite), firstSite.Length);
        // Only flagCount entries are read: a set flag beyond it does not count.
        CheckAssign(BinaryOp.Sub, DType.Int32, [5, 6], [1, 1], (v, x) => v - x, Up(secondSite), 2);
    }

    [Test]
    public void Assign_ResultOfAnotherDType_ThrowsNotSupported()
    {
        Assert.Throws<NotSupportedException>(() => ElementwiseKernels.Assign(K, BinaryOp.Less, DType.Float32, 0, 0, 1, 0, 0));
        Assert.Throws<NotSupportedException>(() => ElementwiseKernels.Assign(K, BinaryOp.Pow, DType.Float32, 0, 0, 1, 0, 0));
        Assert.Throws<NotSupportedException>(() => ElementwiseKernels.Assign(K, BinaryOp.Add, DType.Bool, 0, 0, 1, 0, 0));
    }

    private void CheckAssign<T>(BinaryOp? op, DType dtype, T[] variable, T[] value, Func<T, T, T> expected, ulong flags, int flagCount) where T : unmanaged
    {
        var n = variable.Length;
        var v = Out<T>(n);
        Device.Write<T>(v, variable);
        ElementwiseKernels.Assign(K, op, dtype, v, Up(value), n, flags, flagCount);
        AssertSame(variable.Zip(value, expected).ToArray(), Down<T>(v, n), $"assign {op?.ToString() ?? "set"} {dtype.Name()} (flags {flags != 0}, {flagCount})");
    }
}
