using System.Numerics;
using System.Buffers;
using System.Runtime.CompilerServices;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Single-threaded Goto/BLIS five-loop GEMM around a register micro-kernel (Goto &amp; van de Geijn 2008;
/// Van Zee &amp; van de Geijn, "BLIS: A Framework for Rapidly Instantiating BLAS Functionality", 2015, Fig. 2):
/// <code>
/// for jc in N step NC        // B̃ panel kc×NC, lives in L3
///   for pc in K step KC      //   pack B̃; first pc writes C, later ones accumulate
///     for ic in M step MC    //   pack Ã block MC×kc, lives in L2
///       for jr in NC step NR //     B̃ micro-panel kc×NR stays in L1 across the ir loop
///         for ir in MC step MR // Ã micro-panel streams from L2; MR×NR tile lives in registers
/// </code>
/// Block sizes are for Zen 5 (48 KiB L1d, 1 MiB L2 per core): KC=256 makes the B̃ micro-panel
/// 256·32·4 = 32 KiB (2/3 of L1, leaving room for the 12 KiB Ã micro-panel stream); MC=384 makes the Ã
/// block 384·256·4 = 384 KiB (under half of L2, as BLIS recommends so B̃ and C lines are not evicted);
/// NC=4096 bounds the B̃ panel to 4 MiB (well inside the shared L3).
/// </summary>
internal static unsafe class GemmDriver<TKernel>
    where TKernel : struct, IGemmMicroKernel
{
    private const int KC = 256;
    private const int NC = 4096;

    // A multiple of both MR values (12 and 6): M is cut into balanced blocks, each rounded up to a multiple of MR, which keeps every block ≤ MC.
    private const int MC = 384;

    /// <summary>
    /// C[m×n] (row stride ldc) = op(A)·op(B) with A(i,p) = transA ? a[p·lda+i] : a[i·lda+p] and
    /// B(p,j) = transB ? b[j·ldb+p] : b[p·ldb+j]. Requires m, n, k &gt; 0. With <paramref name="accumulateC"/>,
    /// C += op(A)·op(B) instead (the convolution's filter gradient sums over batch chunks this way).
    /// A row-major A (not transposed) is read in place by the kernels that can (<see cref="IGemmMicroKernel.ReadsRowsInPlace"/>),
    /// except the ragged last MR rows, unless <paramref name="packA"/> forces packing (tests reach both paths; the bits are the same).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(bool transA, bool transB, int m, int n, int k, float* a, nint lda, float* b, nint ldb, float* c, nint ldc, bool accumulateC = false,
        bool packA = false)
    {
        var inPlace = !transA && !packA && TKernel.ReadsRowsInPlace && RowsSpreadOverL1Sets(lda, TKernel.MR);
        var mr = TKernel.MR;
        var nr = TKernel.NR;
        // Split K and M into equal blocks no larger than KC/MC rather than full blocks plus a runt
        // (K=784 → 4×196, not 3×256+16): a thin last kc block pays a full C read-modify-write per tile
        // for very few flops.
        var kcMax = CeilDiv(k, CeilDiv(k, KC));
        var mcMax = RoundUp(CeilDiv(m, CeilDiv(m, MC)), mr);
        var ncMax = Math.Min(NC, RoundUp(n, nr));

        // 16 spare floats let us align each buffer to 64 bytes (one cache line / one zmm) inside the rented array.
        var bufA = ArrayPool<float>.Shared.Rent(mcMax * kcMax + 16);
        var bufB = ArrayPool<float>.Shared.Rent(ncMax * kcMax + 16);
        var edge = stackalloc float[mr * nr + 16];
        try
        {
            fixed (float* pA = bufA, pB = bufB)
            {
                var packedA = Align64(pA);
                var packB = Align64(pB);
                var tile = Align64(edge);
                for (var jc = 0; jc < n; jc += NC)
                {
                    var nc = Math.Min(NC, n - jc);
                    for (var pc = 0; pc < k; pc += kcMax)
                    {
                        var kc = Math.Min(kcMax, k - pc);
                        var accumulate = accumulateC || pc != 0;
                        GemmPacking.PackB(nr, transB, b, ldb, pc, jc, kc, nc, packB);
                        RowBlocks(transA, inPlace, m, mcMax, nc, kc, pc, a, lda, packedA, packB, c + jc, ldc, accumulate, tile);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bufA);
            ArrayPool<float>.Shared.Return(bufB);
        }
    }

    /// <summary>Floats to allocate for <see cref="PackWholeB"/> of a k×n op(B) (n ≤ 4096), alignment slack included.</summary>
    public static long PackedBFloats(int n, int k) => (long)RoundUp(n, TKernel.NR) * k + 16;

    /// <summary>
    /// Packs a whole k×n op(B) (n ≤ NC) once, block after K block as <see cref="Run"/> would pack them, into
    /// <paramref name="buffer"/> (<see cref="PackedBFloats"/> floats); returns the aligned start for <see cref="RunPackedB"/>.
    /// For a B that many products share: a recurrent kernel multiplies the same R at every step.
    /// </summary>
    public static float* PackWholeB(bool transB, int n, int k, float* b, nint ldb, float* buffer)
    {
        if (n > NC) throw new ArgumentOutOfRangeException(nameof(n), n, $"a whole packed B holds at most {NC} columns");
        var dst = Align64(buffer);
        var kcMax = CeilDiv(k, CeilDiv(k, KC));
        var width = RoundUp(n, TKernel.NR);
        for (var pc = 0; pc < k; pc += kcMax)
            GemmPacking.PackB(TKernel.NR, transB, b, ldb, pc, 0, Math.Min(kcMax, k - pc), n, dst + (nint)pc * width);
        return dst;
    }

    /// <summary>
    /// <see cref="Run"/> for a row-major A and a B packed by <see cref="PackWholeB"/> with the same n and k: the same
    /// blocks, micro-kernels and order of additions, so the same bits, without packing B.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunPackedB(int m, int n, int k, float* a, nint lda, float* packedB, float* c, nint ldc, bool accumulateC = false)
    {
        var inPlace = TKernel.ReadsRowsInPlace && RowsSpreadOverL1Sets(lda, TKernel.MR);
        var mr = TKernel.MR;
        var kcMax = CeilDiv(k, CeilDiv(k, KC));
        var mcMax = RoundUp(CeilDiv(m, CeilDiv(m, MC)), mr);
        var width = RoundUp(n, TKernel.NR);
        var bufA = ArrayPool<float>.Shared.Rent(mcMax * kcMax + 16);
        var edge = stackalloc float[mr * TKernel.NR + 16];
        try
        {
            fixed (float* pA = bufA)
            {
                var packedA = Align64(pA);
                var tile = Align64(edge);
                for (var pc = 0; pc < k; pc += kcMax)
                {
                    var kc = Math.Min(kcMax, k - pc);
                    var accumulate = accumulateC || pc != 0;
                    RowBlocks(false, inPlace, m, mcMax, n, kc, pc, a, lda, packedA, packedB + (nint)pc * width, c, ldc, accumulate, tile);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bufA);
        }
    }

    /// <summary>
    /// The ic loop over one packed B̃ panel (K block pc): each MC block of A's rows is packed (only its ragged last rows when
    /// A is read in place, their panel zero-padded to MR rows) and multiplied into C's columns at <paramref name="c"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowBlocks(bool transA, bool inPlace, int m, int mcMax, int nc, int kc, int pc, float* a, nint lda, float* packedA, float* packB,
        float* c, nint ldc, bool accumulate, float* tile)
    {
        var mr = TKernel.MR;
        for (var ic = 0; ic < m; ic += mcMax)
        {
            var mc = Math.Min(mcMax, m - ic);
            var rowsInPlace = inPlace ? mc / mr * mr : 0;
            if (rowsInPlace < mc) GemmPacking.PackA(mr, transA, a, lda, ic + rowsInPlace, pc, mc - rowsInPlace, kc, packedA);
            MacroKernel(mc, nc, kc, rowsInPlace, a + (nint)ic * lda + pc, lda, packedA, packB, c + ic * ldc, ldc, accumulate, tile);
        }
    }

    /// <summary>
    /// The two innermost loops (BLIS "macro-kernel") over one Ã block and B̃ panel: its first <paramref name="rowsInPlace"/>
    /// rows are read in place from the row-major <paramref name="aRows"/> (row stride <paramref name="lda"/>), the rest from
    /// the packed micro-panels at <paramref name="packA"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernel(int mc, int nc, int kc, int rowsInPlace, float* aRows, nint lda, float* packA, float* packB, float* c, nint ldc,
        bool accumulate, float* tile)
    {
        var mr = TKernel.MR;
        var nr = TKernel.NR;
        for (var jr = 0; jr < nc; jr += nr)
        {
            var cols = Math.Min(nr, nc - jr);
            var bPanel = packB + (nint)jr * kc;
            for (var ir = 0; ir < mc; ir += mr)
            {
                var rows = Math.Min(mr, mc - ir);
                var cTile = c + ir * ldc + jr;
                var inPlace = ir < rowsInPlace;
                var aPanel = inPlace ? aRows + ir * lda : packA + (nint)(ir - rowsInPlace) * kc;
                if (rows == mr && cols == nr)
                {
                    if (inPlace) TKernel.RunRows(kc, aPanel, lda, bPanel, cTile, ldc, accumulate);
                    else TKernel.Run(kc, aPanel, bPanel, cTile, ldc, accumulate);
                }
                else
                {
                    // Ragged tile: the full kernel into a scratch tile, then only the valid rows×cols are stored, so C is never
                    // written out of bounds.
                    if (inPlace) TKernel.RunRows(kc, aPanel, lda, bPanel, tile, nr, false);
                    else TKernel.Run(kc, aPanel, bPanel, tile, nr, false);
                    StoreTile(tile, cTile, ldc, rows, cols, accumulate);
                }
            }
        }
    }

    /// <summary>Copies (or adds) the valid rows×cols of a scratch tile into C.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StoreTile(float* tile, float* c, nint ldc, int rows, int cols, bool accumulate)
    {
        var nr = TKernel.NR;
        for (var r = 0; r < rows; r++)
        {
            var src = tile + r * nr;
            var dst = c + r * ldc;
            if (accumulate)
                for (var j = 0; j < cols; j++) dst[j] += src[j];
            else
                for (var j = 0; j < cols; j++) dst[j] = src[j];
        }
    }

    /// <summary>
    /// Whether MR rows of A, <paramref name="lda"/> floats apart, fall in MR distinct sets of a 64-set L1 (4 KiB apart maps
    /// to the same set). Read in place, the rows' current cache lines must stay in L1 together with B̃'s; when rows share
    /// sets they evict each other instead, so such an A is packed. One core, in place against packed
    /// (docs/results/2026-12-02/run1/gemm-quick.txt): 128-float rows (12 rows in 8 sets) 82–86 against 92–95 GFLOP/s;
    /// W2's 784-float rows (12 sets) 91–102 against 87–96. Power-of-two strides from 256 floats put all 12 rows in 1–4 sets.
    /// </summary>
    internal static bool RowsSpreadOverL1Sets(nint lda, int mr)
    {
        ulong sets = 0;
        for (var r = 0; r < mr; r++) sets |= 1UL << (int)(r * lda * sizeof(float) / 64 % 64);
        return BitOperations.PopCount(sets) == mr;
    }

    private static int CeilDiv(int x, int d) => (x + d - 1) / d;

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);
}
