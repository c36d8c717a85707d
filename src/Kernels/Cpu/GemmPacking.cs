using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Packing of A and B blocks into the contiguous micro-panel layout the micro-kernels stream through
/// (Goto &amp; van de Geijn, "Anatomy of High-Performance Matrix Multiplication", 2008, §4; BLIS "packm").
/// Packing turns every transpose combination into the same unit-stride access pattern, makes the
/// kernel's loads sequential (no TLB/cache-set conflicts from a large leading dimension) and zero-pads
/// ragged edges to full MR/NR so the kernel never needs bounds checks. Padded rows/columns only produce
/// tile entries that are discarded, so 0·Inf = NaN there can never reach C.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[ic..ic+mc, pc..pc+kc] into ⌈mc/MR⌉ micro-panels of MR×kc, each stored k-major
    /// (MR consecutive row values per k step). A(i,p) = transA ? a[p·lda + i] : a[i·lda + p].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(int mr, bool transA, float* a, nint lda, int ic, int pc, int mc, int kc, float* dst)
    {
        for (var ir = 0; ir < mc; ir += mr)
        {
            var rows = Math.Min(mr, mc - ir);
            var panel = dst + (nint)ir * kc;
            if (transA)
            {
                // Column-major view of A: for each k the MR row values are already contiguous.
                var src = a + (nint)pc * lda + ic + ir;
                for (var p = 0; p < kc; p++, src += lda)
                {
                    var d = panel + (nint)p * mr;
                    CopySmall(src, d, rows);
                    for (var r = rows; r < mr; r++) d[r] = 0f;
                }
            }
            else
            {
                // Row-major A: a rows×kc → kc×MR transpose into the panel.
                Transpose(a + (nint)(ic + ir) * lda + pc, lda, rows, kc, panel, mr);
                for (var r = rows; r < mr; r++)
                    for (var p = 0; p < kc; p++) panel[(nint)p * mr + r] = 0f;
            }
        }
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] into ⌈nc/NR⌉ micro-panels of kc×NR (NR consecutive column values
    /// per k step). B(p,j) = transB ? b[j·ldb + p] : b[p·ldb + j].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(int nr, bool transB, float* b, nint ldb, int pc, int jc, int kc, int nc, float* dst)
    {
        for (var jr = 0; jr < nc; jr += nr)
        {
            var cols = Math.Min(nr, nc - jr);
            var panel = dst + (nint)jr * kc;
            if (!transB)
            {
                var src = b + (nint)pc * ldb + jc + jr;
                if (cols == nr)
                {
                    for (var p = 0; p < kc; p++, src += ldb) CopyFull(src, panel + (nint)p * nr, nr);
                }
                else
                {
                    for (var p = 0; p < kc; p++, src += ldb)
                    {
                        var d = panel + (nint)p * nr;
                        var j = 0;
                        for (; j < cols; j++) d[j] = src[j];
                        for (; j < nr; j++) d[j] = 0f;
                    }
                }
            }
            else
            {
                // B stored N×K: each output column is a contiguous source row, so this is a cols×kc transpose.
                Transpose(b + (nint)(jc + jr) * ldb + pc, ldb, cols, kc, panel, nr);
                for (var j = cols; j < nr; j++)
                    for (var p = 0; p < kc; p++) panel[(nint)p * nr + j] = 0f;
            }
        }
    }

    /// <summary>
    /// dst[p·ldd + r] = src[r·lds + p] for r &lt; rows, p &lt; cols. Groups of 4 source rows × 8 columns go
    /// through an AVX 4×8 register transpose (4 loads, 8 shuffles, 8 128-bit stores per 32 elements instead
    /// of 32 scalar stores, which bounded the scalar version at ~1 element/cycle); the rest is scalar.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* src, nint lds, int rows, int cols, float* dst, nint ldd)
    {
        var r = 0;
        if (Avx.IsSupported)
        {
            for (; r + 4 <= rows; r += 4)
            {
                var s0 = src + r * lds;
                var d = dst + r;
                var p = 0;
                for (; p + 8 <= cols; p += 8)
                {
                    var r0 = Avx.LoadVector256(s0 + p);
                    var r1 = Avx.LoadVector256(s0 + lds + p);
                    var r2 = Avx.LoadVector256(s0 + 2 * lds + p);
                    var r3 = Avx.LoadVector256(s0 + 3 * lds + p);
                    var t0 = Avx.UnpackLow(r0, r1);   // a0 b0 a1 b1 | a4 b4 a5 b5
                    var t1 = Avx.UnpackHigh(r0, r1);  // a2 b2 a3 b3 | a6 b6 a7 b7
                    var t2 = Avx.UnpackLow(r2, r3);
                    var t3 = Avx.UnpackHigh(r2, r3);
                    var u0 = Avx.Shuffle(t0, t2, 0x44); // a0 b0 c0 d0 | a4 b4 c4 d4
                    var u1 = Avx.Shuffle(t0, t2, 0xEE); // a1 b1 c1 d1 | a5 b5 c5 d5
                    var u2 = Avx.Shuffle(t1, t3, 0x44);
                    var u3 = Avx.Shuffle(t1, t3, 0xEE);
                    var dp = d + p * ldd;
                    u0.GetLower().Store(dp);
                    u1.GetLower().Store(dp + ldd);
                    u2.GetLower().Store(dp + 2 * ldd);
                    u3.GetLower().Store(dp + 3 * ldd);
                    u0.GetUpper().Store(dp + 4 * ldd);
                    u1.GetUpper().Store(dp + 5 * ldd);
                    u2.GetUpper().Store(dp + 6 * ldd);
                    u3.GetUpper().Store(dp + 7 * ldd);
                }

                for (; p < cols; p++)
                {
                    var dp = d + p * ldd;
                    dp[0] = s0[p];
                    dp[1] = s0[lds + p];
                    dp[2] = s0[2 * lds + p];
                    dp[3] = s0[3 * lds + p];
                }
            }
        }

        for (; r < rows; r++)
        {
            var s0 = src + r * lds;
            var d = dst + r;
            for (var p = 0; p < cols; p++) d[p * ldd] = s0[p];
        }
    }

    /// <summary>Copies a short run (one MR-row slice) with the widest moves that fit exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopySmall(float* src, float* dst, int count)
    {
        var j = 0;
        for (; j + 8 <= count; j += 8) Vector256.Store(Vector256.Load(src + j), dst + j);
        if (j + 4 <= count)
        {
            Vector128.Store(Vector128.Load(src + j), dst + j);
            j += 4;
        }

        for (; j < count; j++) dst[j] = src[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyFull(float* src, float* dst, int count)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            for (var j = 0; j < count; j += 16) Vector512.Store(Vector512.Load(src + j), dst + j);
        }
        else
        {
            Buffer.MemoryCopy(src, dst, count * sizeof(float), count * sizeof(float));
        }
    }
}
