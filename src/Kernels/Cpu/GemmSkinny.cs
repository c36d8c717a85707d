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
/// Both read A element by element (broadcasts), so either layout of A works without packing. Each element of C is a sum
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
        if (n <= MaxColumns)
        {
            if (!transB)
            {
                NarrowColumns(m, n, k, a, ak, ai, b, ldb, c, ldc, accumulate);
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
                    NarrowColumns(m, n, k, a, ak, ai, packed, W, c, ldc, accumulate);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rented);
            }
            return;
        }
        if (transB) throw new ArgumentException("the few-rows kernel reads B row by row; a transposed B goes to the packed kernel", nameof(transB));
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
                for (; j < n; j += W) OneRowOneVector(k, a + i * ai, ak, b + j, ldb, c + i * ldc + j, Mask(n - j), accumulate);
            }
        }
    }

    /// <summary>Lanes below <paramref name="count"/> set (all 16 when count ≥ 16).</summary>
    private static Vector512<float> Mask(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    private static Vector512<float> Load(float* p, Vector512<float> mask) => Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);

    private static void Store(float* p, Vector512<float> mask, Vector512<float> value, bool accumulate) =>
        Avx512F.MaskStore(p, mask, accumulate ? value + Load(p, mask) : value);

    /// <summary>N ≤ 16: rows of C in blocks of 8 (8 independent FMA chains), then 4, then 1; each B row is loaded once per block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowColumns(int m, int n, int k, float* a, nint ak, nint ai, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        var mask = Mask(n);
        var i = 0;
        for (; i + 8 <= m; i += 8)
        {
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            var ap = a + i * ai;
            for (var p = 0; p < k; p++, ap += ak)
            {
                var bv = Load(b + p * ldb, mask);
                c0 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[0]), bv, c0);
                c1 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[ai]), bv, c1);
                c2 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[2 * ai]), bv, c2);
                c3 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[3 * ai]), bv, c3);
                c4 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[4 * ai]), bv, c4);
                c5 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[5 * ai]), bv, c5);
                c6 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[6 * ai]), bv, c6);
                c7 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[7 * ai]), bv, c7);
            }
            var cp = c + i * ldc;
            Store(cp, mask, c0, accumulate);
            Store(cp + ldc, mask, c1, accumulate);
            Store(cp + 2 * ldc, mask, c2, accumulate);
            Store(cp + 3 * ldc, mask, c3, accumulate);
            Store(cp + 4 * ldc, mask, c4, accumulate);
            Store(cp + 5 * ldc, mask, c5, accumulate);
            Store(cp + 6 * ldc, mask, c6, accumulate);
            Store(cp + 7 * ldc, mask, c7, accumulate);
        }
        for (; i + 4 <= m; i += 4)
        {
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
            var ap = a + i * ai;
            for (var p = 0; p < k; p++, ap += ak)
            {
                var bv = Load(b + p * ldb, mask);
                c0 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[0]), bv, c0);
                c1 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[ai]), bv, c1);
                c2 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[2 * ai]), bv, c2);
                c3 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[3 * ai]), bv, c3);
            }
            var cp = c + i * ldc;
            Store(cp, mask, c0, accumulate);
            Store(cp + ldc, mask, c1, accumulate);
            Store(cp + 2 * ldc, mask, c2, accumulate);
            Store(cp + 3 * ldc, mask, c3, accumulate);
        }
        for (; i < m; i++) OneRowOneVector(k, a + i * ai, ak, b, ldb, c + i * ldc, mask, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneRowOneVector(int k, float* a, nint ak, float* b, nint ldb, float* c, Vector512<float> mask, bool accumulate)
    {
        // Two chains over even and odd k halve the FMA latency the single accumulator would wait on.
        Vector512<float> even = default, odd = default;
        var p = 0;
        for (; p + 1 < k; p += 2)
        {
            even = Vector512.FusedMultiplyAdd(Vector512.Create(a[p * ak]), Load(b + p * ldb, mask), even);
            odd = Vector512.FusedMultiplyAdd(Vector512.Create(a[(p + 1) * ak]), Load(b + (p + 1) * ldb, mask), odd);
        }
        if (p < k) even = Vector512.FusedMultiplyAdd(Vector512.Create(a[p * ak]), Load(b + p * ldb, mask), even);
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
