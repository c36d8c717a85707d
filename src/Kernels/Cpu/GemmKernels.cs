using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// A register-tiled GEMM micro-kernel: C[MR×NR] (+)= Ã·B̃ where Ã is a packed MR×kc micro-panel
/// (k-major: MR consecutive floats per k step) and B̃ a packed kc×NR micro-panel (NR floats per k step).
/// Static abstract members let <see cref="GemmDriver{TKernel}"/> be specialised per kernel by the JIT,
/// so MR/NR are constants and the call is inlined/devirtualised.
/// </summary>
internal unsafe interface IGemmMicroKernel
{
    /// <summary>Rows of the register tile (rows of A broadcast per k step).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the register tile (a multiple of the vector width).</summary>
    static abstract int NR { get; }

    /// <summary>
    /// Runs kc rank-1 updates on the register tile and writes it to <paramref name="c"/> (row stride
    /// <paramref name="ldc"/>): C = tile when <paramref name="accumulate"/> is false (C is never read, so
    /// stale NaNs in C cannot leak in), C = C + tile otherwise.
    /// </summary>
    static abstract void Run(int kc, float* a, float* b, float* c, nint ldc, bool accumulate);

    /// <summary>Whether <see cref="RunRows"/> exists: the kernel can read MR rows of a row-major A in place, unpacked.</summary>
    static abstract bool ReadsRowsInPlace { get; }

    /// <summary>
    /// <see cref="Run"/> with Ã read in place from MR rows of a row-major A (row r's k-th value at a[r·lda + k]) instead of a
    /// packed micro-panel: the same FMAs in the same order, so the same bits. Only for kernels with <see cref="ReadsRowsInPlace"/>.
    /// </summary>
    static abstract void RunRows(int kc, float* a, nint lda, float* b, float* c, nint ldc, bool accumulate);
}

/// <summary>
/// 12×32 AVX-512 tile: 24 zmm accumulators + 2 zmm for the B row + 1 broadcast = 27 of the 32 zmm
/// registers, so nothing spills. Per k step: 2 vector loads of B, 12 broadcasts of A, 24 FMAs; with two
/// 512-bit FMA pipes (4-cycle latency) 24 independent chains more than cover the 8 needed to saturate them.
/// The same shape (a 32-wide vector dimension × 12) is BLIS's skx/zen4 sgemm kernel, transposed for row-major C.
/// </summary>
internal readonly unsafe struct GemmKernel512 : IGemmMicroKernel
{
    public static int MR => 12;

    public static int NR => 32;

    public static bool ReadsRowsInPlace => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        PrefetchC(c, ldc);

        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.LoadAligned(b);
            var b1 = Vector512.LoadAligned(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            av = Vector512.Create(a[8]);
            c80 = Vector512.FusedMultiplyAdd(av, b0, c80); c81 = Vector512.FusedMultiplyAdd(av, b1, c81);
            av = Vector512.Create(a[9]);
            c90 = Vector512.FusedMultiplyAdd(av, b0, c90); c91 = Vector512.FusedMultiplyAdd(av, b1, c91);
            av = Vector512.Create(a[10]);
            ca0 = Vector512.FusedMultiplyAdd(av, b0, ca0); ca1 = Vector512.FusedMultiplyAdd(av, b1, ca1);
            av = Vector512.Create(a[11]);
            cb0 = Vector512.FusedMultiplyAdd(av, b0, cb0); cb1 = Vector512.FusedMultiplyAdd(av, b1, cb1);
            a += 12;
            b += 32;
        }

        Put(c, c00, c01, accumulate); c += ldc;
        Put(c, c10, c11, accumulate); c += ldc;
        Put(c, c20, c21, accumulate); c += ldc;
        Put(c, c30, c31, accumulate); c += ldc;
        Put(c, c40, c41, accumulate); c += ldc;
        Put(c, c50, c51, accumulate); c += ldc;
        Put(c, c60, c61, accumulate); c += ldc;
        Put(c, c70, c71, accumulate); c += ldc;
        Put(c, c80, c81, accumulate); c += ldc;
        Put(c, c90, c91, accumulate); c += ldc;
        Put(c, ca0, ca1, accumulate); c += ldc;
        Put(c, cb0, cb1, accumulate);
    }

    /// <summary>
    /// The 12×32 tile with A read in place (ONNX Runtime's MLAS reads A this way too): row-major A needs a transpose to be
    /// packed, which took an eighth of W2's 512×784×128 product. Rows are addressed from four base pointers (rows 0, 3, 6, 9)
    /// plus 0, lda or 2·lda, so every broadcast is one load with a scaled index; each A cache line serves 16 k steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRows(int kc, float* a, nint lda, float* b, float* c, nint ldc, bool accumulate)
    {
        PrefetchC(c, ldc);
        var lda2 = 2 * lda;
        float* a0 = a, a3 = a + 3 * lda, a6 = a + 6 * lda, a9 = a + 9 * lda;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.LoadAligned(b);
            var b1 = Vector512.LoadAligned(b + 16);
            var av = Vector512.Create(a0[0]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00); c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a0[lda]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10); c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a0[lda2]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20); c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a3[0]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30); c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a3[lda]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40); c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a3[lda2]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50); c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a6[0]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60); c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a6[lda]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70); c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            av = Vector512.Create(a6[lda2]);
            c80 = Vector512.FusedMultiplyAdd(av, b0, c80); c81 = Vector512.FusedMultiplyAdd(av, b1, c81);
            av = Vector512.Create(a9[0]);
            c90 = Vector512.FusedMultiplyAdd(av, b0, c90); c91 = Vector512.FusedMultiplyAdd(av, b1, c91);
            av = Vector512.Create(a9[lda]);
            ca0 = Vector512.FusedMultiplyAdd(av, b0, ca0); ca1 = Vector512.FusedMultiplyAdd(av, b1, ca1);
            av = Vector512.Create(a9[lda2]);
            cb0 = Vector512.FusedMultiplyAdd(av, b0, cb0); cb1 = Vector512.FusedMultiplyAdd(av, b1, cb1);
            a0++; a3++; a6++; a9++;
            b += 32;
        }

        Put(c, c00, c01, accumulate); c += ldc;
        Put(c, c10, c11, accumulate); c += ldc;
        Put(c, c20, c21, accumulate); c += ldc;
        Put(c, c30, c31, accumulate); c += ldc;
        Put(c, c40, c41, accumulate); c += ldc;
        Put(c, c50, c51, accumulate); c += ldc;
        Put(c, c60, c61, accumulate); c += ldc;
        Put(c, c70, c71, accumulate); c += ldc;
        Put(c, c80, c81, accumulate); c += ldc;
        Put(c, c90, c91, accumulate); c += ldc;
        Put(c, ca0, ca1, accumulate); c += ldc;
        Put(c, cb0, cb1, accumulate);
    }

    /// <summary>
    /// Touches the C tile before the k loop: its read-modify-write happens after kc·12 cycles of FMAs, when the
    /// out-of-order window is too far behind to hide an L3/DRAM miss on 24 lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchC(float* c, nint ldc)
    {
        if (!Sse.IsSupported) return;
        for (var r = 0; r < 12; r++, c += ldc)
        {
            Sse.Prefetch0(c);
            Sse.Prefetch0(c + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vector512<float> v0, Vector512<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }

        Vector512.Store(v0, c);
        Vector512.Store(v1, c + 16);
    }
}

/// <summary>
/// 6×16 AVX2 tile for machines without AVX-512: 12 ymm accumulators + 2 for B + 1 broadcast = 15 of the
/// 16 ymm registers (the classic Haswell sgemm shape used by BLIS/OpenBLAS, transposed for row-major C).
/// </summary>
internal readonly unsafe struct GemmKernel256 : IGemmMicroKernel
{
    public static int MR => 6;

    public static int NR => 16;

    public static bool ReadsRowsInPlace => false;

    public static void RunRows(int kc, float* a, nint lda, float* b, float* c, nint ldc, bool accumulate) =>
        throw new NotSupportedException("the 6×16 AVX2 kernel reads packed A only");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector256.LoadAligned(b);
            var b1 = Vector256.LoadAligned(b + 8);
            var av = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(av, b0, c00); c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(av, b0, c10); c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(av, b0, c20); c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(av, b0, c30); c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(av, b0, c40); c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(av, b0, c50); c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
            a += 6;
            b += 16;
        }

        Put(c, c00, c01, accumulate); c += ldc;
        Put(c, c10, c11, accumulate); c += ldc;
        Put(c, c20, c21, accumulate); c += ldc;
        Put(c, c30, c31, accumulate); c += ldc;
        Put(c, c40, c41, accumulate); c += ldc;
        Put(c, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }

        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }
}
