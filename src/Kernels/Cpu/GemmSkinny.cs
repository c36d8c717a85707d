using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Unpacked AVX-512 kernels for the two GEMM shapes the packed 12×32 driver handles badly:
/// <list type="bullet">
/// <item><b>few rows</b> (M ≤ <see cref="MaxRows"/>, B not transposed): inference at batch 1, where packing B (K·N floats)
/// costs more than the product itself. Each row of B is read once, straight from memory, into 4-vector column blocks
/// (two rows of A share each B load); the work is bound by reading B, as it must be with one or two rows.</item>
/// <item><b>narrow C</b> (N ≤ 16): the last dense layer of a classifier (N = 10) and small convolutions (LeNet's 6
/// channels), where a 32-wide register tile wastes most of its lanes. One masked vector holds a whole row of C; eight rows
/// of A share each B row load.</item>
/// </list>
/// Both read A element by element (broadcasts), so either layout of A works without packing; the narrow kernels take A's
/// k steps from a table of offsets, which lets the direct convolution (<see cref="CpuConvolution"/>) run its gathered
/// windows through them. Each element of C is a sum
/// of FMAs in ascending k (the one-row kernel splits it into even and odd k), so results agree with the packed kernel's
/// (which adds its K blocks into C) within float32 rounding, not bit for bit.
/// </summary>
internal static unsafe class GemmSkinny
{
    /// <summary>Largest M the few-rows kernel takes (beyond it the packed kernel's B reuse wins).</summary>
    public const int MaxRows = 4;

    /// <summary>Largest N the narrow-C kernel takes: one 16-float vector per row of C.</summary>
    public const int MaxColumns = 16;

    private const int W = 16;

    /// <summary>Whether a product of this shape goes to one of these kernels.</summary>
    public static bool Applies(bool transB, int m, int n) =>
        Avx512F.IsSupported && (n <= MaxColumns || (m <= MaxRows && !transB));

    /// <summary>
    /// C[m×n] (row stride ldc) (+)= op(A)·op(B), with the operand conventions of <see cref="GemmDriver{TKernel}.Run"/>;
    /// requires <see cref="Applies"/> and m, n, k &gt; 0.
    /// </summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float* a, nint lda, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        // Step between consecutive k of one row of A, and between consecutive rows.
        nint ak = transA ? lda : 1, ai = transA ? 1 : lda;
        if (n > MaxColumns && n % (4 * W) == 0)
        {
            // Few rows in whole 4-vector blocks: no one-vector kernel runs, so no offset table (batch-1 inference: 784 × 128).
            FewRows(m, n, k, a, ak, ai, null, b, ldb, c, ldc, accumulate);
            return;
        }
        var rented = ArrayPool<int>.Shared.Rent(k);
        try
        {
            fixed (int* offsets = rented)
            {
                // The one-vector kernels read A(i, p) at a + i·ai + offsets[p]: a table rather than p·ak, so that the direct
                // convolution runs its gathered windows through the same kernels.
                for (var p = 0; p < k; p++) offsets[p] = checked((int)(p * ak));
                if (n <= MaxColumns) Narrow(transB, m, n, k, a, ai, offsets, b, ldb, c, ldc, accumulate);
                else FewRows(m, n, k, a, ak, ai, offsets, b, ldb, c, ldc, accumulate);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    private static void Narrow(bool transB, int m, int n, int k, float* a, nint ai, int* offsets, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        if (!transB)
        {
            NarrowRows(m, n, k, a, ai, offsets, b, ldb, c, ldc, accumulate);
            return;
        }
        // B(p, j) = b[j·ldb + p]: gather it once into k rows of 16 (zero-padded), the layout the kernel reads.
        var rented = ArrayPool<float>.Shared.Rent(k * W);
        try
        {
            fixed (float* packed = rented)
            {
                new Span<float>(packed, k * W).Clear();
                for (var j = 0; j < n; j++)
                    for (var p = 0; p < k; p++) packed[p * W + j] = b[j * ldb + p];
                NarrowRows(m, n, k, a, ai, offsets, packed, W, c, ldc, accumulate);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>N ≤ 16: rows of C in blocks of 8 (8 independent FMA chains), then one by one; 256-bit vectors for N ≤ 8.</summary>
    private static void NarrowRows(int m, int n, int k, float* a, nint ai, int* offsets, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        var mask = Mask(n);
        var i = 0;
        if (n <= 8)
        {
            for (; i + 8 <= m; i += 8) EightRowsHalf(a + i * ai, ai, offsets, k, b, ldb, c + i * ldc, ldc, mask.GetLower(), accumulate);
            for (; i < m; i++) OneRowHalf(a + i * ai, offsets, k, b, ldb, c + i * ldc, mask.GetLower(), accumulate);
            return;
        }
        for (; i + 8 <= m; i += 8) EightRows(a + i * ai, ai, offsets, k, b, ldb, c + i * ldc, ldc, mask, accumulate);
        for (; i < m; i++) OneRow(a + i * ai, offsets, k, b, ldb, c + i * ldc, mask, accumulate);
    }

    /// <summary>M ≤ 4, N &gt; 16: pairs of rows in 4-vector column blocks, then one vector at a time (the last masked).</summary>
    private static void FewRows(int m, int n, int k, float* a, nint ak, nint ai, int* offsets, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        for (var i = 0; i < m; i += 2)
        {
            var j = 0;
            if (i + 1 < m)
            {
                for (; j + 4 * W <= n; j += 4 * W) TwoRowsFourVectors(k, a + i * ai, a + (i + 1) * ai, ak, b + j, ldb, c + i * ldc + j, ldc, accumulate);
                for (; j < n; j += W) TwoRowsOneVector(k, a + i * ai, a + (i + 1) * ai, ak, b + j, ldb, c + i * ldc + j, ldc, Mask(n - j), accumulate);
            }
            else
            {
                for (; j + 4 * W <= n; j += 4 * W) OneRowFourVectors(k, a + i * ai, ak, b + j, ldb, c + i * ldc + j, accumulate);
                for (; j < n; j += W) OneRow(a + i * ai, offsets, k, b + j, ldb, c + i * ldc + j, Mask(n - j), accumulate);
            }
        }
    }

    /// <summary>Lanes below <paramref name="count"/> set (all 16 when count ≥ 16).</summary>
    internal static Vector512<float> Mask(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    private static Vector512<float> Load(float* p, Vector512<float> mask) => Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);

    private static void Store(float* p, Vector512<float> mask, Vector512<float> value, bool accumulate) =>
        Avx512F.MaskStore(p, mask, accumulate ? value + Load(p, mask) : value);

    private static void Store(float* p, Vector256<float> mask, Vector256<float> value, bool accumulate) =>
        Avx512F.VL.MaskStore(p, mask, accumulate ? value + Avx512F.VL.MaskLoad(p, mask, Vector256<float>.Zero) : value);

    /// <summary>
    /// Eight rows of C (one masked vector each, row stride <paramref name="ldc"/>) (+)= A·B, where row q of A reads
    /// a[q·<paramref name="rowStride"/> + offsets[p]]: B's row p (<paramref name="ldb"/> apart) is loaded once for the 8 rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void EightRows(float* a, nint rowStride, int* offsets, int k, float* b, nint ldb, float* c, nint ldc, Vector512<float> mask, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (var p = 0; p < k; p++)
        {
            var bv = Load(b + p * ldb, mask);
            var s = a + offsets[p];
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(s[0]), bv, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(s[rowStride]), bv, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(s[2 * rowStride]), bv, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(s[3 * rowStride]), bv, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(s[4 * rowStride]), bv, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(s[5 * rowStride]), bv, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(s[6 * rowStride]), bv, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(s[7 * rowStride]), bv, c7);
        }
        Store(c, mask, c0, accumulate);
        Store(c + ldc, mask, c1, accumulate);
        Store(c + 2 * ldc, mask, c2, accumulate);
        Store(c + 3 * ldc, mask, c3, accumulate);
        Store(c + 4 * ldc, mask, c4, accumulate);
        Store(c + 5 * ldc, mask, c5, accumulate);
        Store(c + 6 * ldc, mask, c6, accumulate);
        Store(c + 7 * ldc, mask, c7, accumulate);
    }

    /// <summary>One row of <see cref="EightRows"/>, in two FMA chains (even and odd k) to halve the latency it waits on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void OneRow(float* a, int* offsets, int k, float* b, nint ldb, float* c, Vector512<float> mask, bool accumulate)
    {
        Vector512<float> even = default, odd = default;
        var p = 0;
        for (; p + 1 < k; p += 2)
        {
            even = Vector512.FusedMultiplyAdd(Vector512.Create(a[offsets[p]]), Load(b + p * ldb, mask), even);
            odd = Vector512.FusedMultiplyAdd(Vector512.Create(a[offsets[p + 1]]), Load(b + (p + 1) * ldb, mask), odd);
        }
        if (p < k) even = Vector512.FusedMultiplyAdd(Vector512.Create(a[offsets[p]]), Load(b + p * ldb, mask), even);
        Store(c, mask, even + odd, accumulate);
    }

    // N ≤ 8: the same two kernels on 256-bit vectors. Zen 4 issues two 256-bit FMAs per cycle but one 512-bit FMA, so
    // with at most 8 useful lanes the half-width vectors do twice the work per cycle.

    /// <inheritdoc cref="EightRows"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void EightRowsHalf(float* a, nint rowStride, int* offsets, int k, float* b, nint ldb, float* c, nint ldc, Vector256<float> mask, bool accumulate)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (var p = 0; p < k; p++)
        {
            var bv = Avx512F.VL.MaskLoad(b + p * ldb, mask, Vector256<float>.Zero);
            var s = a + offsets[p];
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(s[0]), bv, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(s[rowStride]), bv, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(s[2 * rowStride]), bv, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(s[3 * rowStride]), bv, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(s[4 * rowStride]), bv, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(s[5 * rowStride]), bv, c5);
            c6 = Vector256.FusedMultiplyAdd(Vector256.Create(s[6 * rowStride]), bv, c6);
            c7 = Vector256.FusedMultiplyAdd(Vector256.Create(s[7 * rowStride]), bv, c7);
        }
        Store(c, mask, c0, accumulate);
        Store(c + ldc, mask, c1, accumulate);
        Store(c + 2 * ldc, mask, c2, accumulate);
        Store(c + 3 * ldc, mask, c3, accumulate);
        Store(c + 4 * ldc, mask, c4, accumulate);
        Store(c + 5 * ldc, mask, c5, accumulate);
        Store(c + 6 * ldc, mask, c6, accumulate);
        Store(c + 7 * ldc, mask, c7, accumulate);
    }

    /// <inheritdoc cref="OneRow"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void OneRowHalf(float* a, int* offsets, int k, float* b, nint ldb, float* c, Vector256<float> mask, bool accumulate)
    {
        Vector256<float> even = default, odd = default;
        var p = 0;
        for (; p + 1 < k; p += 2)
        {
            even = Vector256.FusedMultiplyAdd(Vector256.Create(a[offsets[p]]), Avx512F.VL.MaskLoad(b + p * ldb, mask, Vector256<float>.Zero), even);
            odd = Vector256.FusedMultiplyAdd(Vector256.Create(a[offsets[p + 1]]), Avx512F.VL.MaskLoad(b + (p + 1) * ldb, mask, Vector256<float>.Zero), odd);
        }
        if (p < k) even = Vector256.FusedMultiplyAdd(Vector256.Create(a[offsets[p]]), Avx512F.VL.MaskLoad(b + p * ldb, mask, Vector256<float>.Zero), even);
        Store(c, mask, even + odd, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoRowsOneVector(int k, float* a0, float* a1, nint ak, float* b, nint ldb, float* c, nint ldc, Vector512<float> mask, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default;
        for (var p = 0; p < k; p++)
        {
            var bv = Load(b + p * ldb, mask);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[p * ak]), bv, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[p * ak]), bv, c1);
        }
        Store(c, mask, c0, accumulate);
        Store(c + ldc, mask, c1, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneRowFourVectors(int k, float* a, nint ak, float* b, nint ldb, float* c, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (var p = 0; p < k; p++)
        {
            var bp = b + p * ldb;
            var av = Vector512.Create(a[p * ak]);
            c0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp), c0);
            c1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp + W), c1);
            c2 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp + 2 * W), c2);
            c3 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp + 3 * W), c3);
        }
        StoreFour(c, c0, c1, c2, c3, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoRowsFourVectors(int k, float* a0, float* a1, nint ak, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        for (var p = 0; p < k; p++)
        {
            var bp = b + p * ldb;
            Vector512<float> b0 = Vector512.Load(bp), b1 = Vector512.Load(bp + W), b2 = Vector512.Load(bp + 2 * W), b3 = Vector512.Load(bp + 3 * W);
            var x0 = Vector512.Create(a0[p * ak]);
            var x1 = Vector512.Create(a1[p * ak]);
            c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(x0, b2, c02); c03 = Vector512.FusedMultiplyAdd(x0, b3, c03);
            c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(x1, b2, c12); c13 = Vector512.FusedMultiplyAdd(x1, b3, c13);
        }
        StoreFour(c, c00, c01, c02, c03, accumulate);
        StoreFour(c + ldc, c10, c11, c12, c13, accumulate);
    }

    private static void StoreFour(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector512.Load(c); v1 += Vector512.Load(c + W); v2 += Vector512.Load(c + 2 * W); v3 += Vector512.Load(c + 3 * W);
        }
        v0.Store(c); v1.Store(c + W); v2.Store(c + 2 * W); v3.Store(c + 3 * W);
    }
}
