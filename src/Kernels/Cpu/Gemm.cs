using System.Numerics;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

/// <summary>Row-major GEMM C = op(A)·op(B) (C overwritten).</summary>
public static partial class Gemm
{
    /// <summary>
    /// Below this many flops (2·M·N·K) the product runs on the calling thread. With the kernel pool's awake workers
    /// (<see cref="KernelThreads"/>) a fork-join costs a few µs, so splitting pays from ~20 µs of work: W2's 128³
    /// products (4.2 MFLOP) went from 43 to 28 µs on two cores (docs/results.md, session (d)).
    /// </summary>
    internal const double ParallelThresholdFlops = 2e6;

    /// <summary>
    /// Threads for a product of this shape: all of them (<see cref="KernelThreads.Threads"/>: one inside
    /// <see cref="KernelThreads.Inline"/>) from <see cref="ParallelThresholdFlops"/> of work at the 12×32
    /// kernel's rate. A narrow C (N ≤ 16, <see cref="GemmSkinny"/>) fills only N of a vector's 16 lanes (of 8 on 256-bit
    /// vectors, which issue two per cycle, for N ≤ 8), so its flops count 16/N (8/N) times: W2's 10-class layer at batch 512
    /// (1.3 MFLOP, 24 µs on one core at 54 GFLOP/s, --gemm-quick 512x128x10) is split, the same at batch 128 (6 µs) is not.
    /// </summary>
    internal static int Threads(int m, int n, int k)
    {
        var flops = 2.0 * m * n * k;
        if (n is > 0 and <= GemmSkinny.MaxColumns) flops *= n <= 8 ? 8.0 / n : 16.0 / n;
        return flops >= ParallelThresholdFlops ? KernelThreads.Threads : 1;
    }

    /// <summary>Which micro-kernel the float32 path uses (tests force each one).</summary>
    internal enum Kernel
    {
        /// <summary>Widest kernel the hardware accelerates.</summary>
        Auto,

        /// <summary>12×32 AVX-512 kernel (a row-major A is read in place).</summary>
        Vector512,

        /// <summary>12×32 AVX-512 kernel with A always packed (the same bits as <see cref="Vector512"/>; for tests).</summary>
        Vector512Packed,

        /// <summary>6×16 AVX2 kernel.</summary>
        Vector256,

        /// <summary>Scalar triple loop.</summary>
        Naive,
    }

    /// <summary>float32 product; op(A) is M×K, op(B) is K×N, C is M×N contiguous.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
        => Multiply(Kernel.Auto, Threads(m, n, k), transA, transB, m, n, k, a, b, c);

    /// <summary>
    /// float32 product that hands the rows of C to <paramref name="epilogue"/> as each thread finishes them (the caller then
    /// calls <see cref="OutputEpilogue.Finish"/>).
    /// </summary>
    internal static void Multiply(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, OutputEpilogue epilogue)
        => Multiply(Kernel.Auto, Threads(m, n, k), transA, transB, m, n, k, a, b, c, epilogue);

    /// <summary>
    /// float32 product with an explicit kernel and number of independent slabs of C (1 = calling thread
    /// only); tests use it to reach every kernel and split regardless of size.
    /// </summary>
    internal static unsafe void Multiply(Kernel kernel, int threads, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, OutputEpilogue? epilogue = null)
    {
        // The row-split parallel paths hand each thread's rows to the epilogue as soon as they are done; every other path
        // (one thread, a column split, the empty and naive cases) hands over the whole of C at the end.
        if (!MultiplyCore(kernel, threads, transA, transB, m, n, k, a, b, c, epilogue)) epilogue?.Completed(0, (long)m * n);
    }

    /// <summary>The product; returns whether it already reported every row of C to <paramref name="epilogue"/>.</summary>
    private static unsafe bool MultiplyCore(Kernel kernel, int threads, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, OutputEpilogue? epilogue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (a.Length < (long)m * k) throw new ArgumentException($"A holds {a.Length} elements, needs {(long)m * k}.", nameof(a));
        if (b.Length < (long)k * n) throw new ArgumentException($"B holds {b.Length} elements, needs {(long)k * n}.", nameof(b));
        if (c.Length < (long)m * n) throw new ArgumentException($"C holds {c.Length} elements, needs {(long)m * n}.", nameof(c));
        if (m == 0 || n == 0) return false;
        if (k == 0)
        {
            c[..(m * n)].Clear();
            return false;
        }

        if (kernel == Kernel.Auto && !Vector256.IsHardwareAccelerated) kernel = Kernel.Naive;
        if (kernel == Kernel.Naive)
        {
            MultiplyNaive(transA, transB, m, n, k, a, b, c);
            return false;
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            // Leading dimensions of the stored matrices: A is M×K (or K×M), B is K×N (or N×K), C is M×N.
            nint lda = transA ? m : k, ldb = transB ? k : n;
            if (kernel == Kernel.Auto && GemmSkinny.Applies(transB, m, n))
                return RunSkinny(threads, transA, transB, m, n, k, (nint)pa, lda, (nint)pb, ldb, (nint)pc, epilogue);
            if (kernel == Kernel.Auto) kernel = Vector512.IsHardwareAccelerated ? Kernel.Vector512 : Kernel.Vector256;
            if (threads <= 1)
            {
                RunBlocked(kernel, transA, transB, m, n, k, pa, lda, pb, ldb, pc, n);
                return false;
            }

            return RunParallel(kernel, threads, transA, transB, m, n, k, (nint)pa, lda, (nint)pb, ldb, (nint)pc, epilogue);
        }
    }

    /// <summary>
    /// Splits C into <paramref name="threads"/> independent slabs along M or N (whole MR rows
    /// or NR columns) and runs the sequential blocked GEMM on each. Each worker packs its own copy of the
    /// shared operand: that redundant packing is O(K·N) against O(M·N·K/threads) flops, and it buys a
    /// barrier-free schedule (no synchronisation between the pc/ic steps that BLIS's shared-panel scheme needs).
    /// </summary>
    private static unsafe bool RunParallel(Kernel kernel, int threads, bool transA, bool transB, int m, int n, int k,
        nint pa, nint lda, nint pb, nint ldb, nint pc, OutputEpilogue? epilogue)
    {
        // Split the dimension whose slabs keep the busiest thread's tile count lowest (128×128 on two
        // threads: 2 slabs of 64 columns = 2×11 tiles each, rather than 6+5 row-tiles × 4).
        var wide = kernel is Kernel.Vector512 or Kernel.Vector512Packed;
        int mr = wide ? 12 : 6, nr = wide ? 32 : 16;
        int rowTiles = (m + mr - 1) / mr, colTiles = (n + nr - 1) / nr;
        var rowCost = (long)((rowTiles + threads - 1) / threads) * colTiles;
        var colCost = (long)((colTiles + threads - 1) / threads) * rowTiles;
        // With an epilogue, row slabs are worth up to 1/8 more tiles: each thread then runs the epilogue on its own rows as
        // it finishes them, where a column split leaves the whole epilogue to the caller after the join (W2's 512×128
        // outputs: 22×4 tiles by rows against 43×2 by columns).
        var splitRows = epilogue is null ? rowCost <= colCost : rowCost * 8 <= colCost * 9;
        var unit = splitRows ? mr : nr;
        var extent = splitRows ? m : n;
        var units = splitRows ? rowTiles : colTiles;
        var chunks = Math.Min(threads, units);
        if (chunks <= 1)
        {
            RunBlocked(kernel, transA, transB, m, n, k, (float*)pa, lda, (float*)pb, ldb, (float*)pc, n);
            return false;
        }

        ForEachSlab(chunks, units, unit, extent, (lo, hi) =>
        {
            float* a = (float*)pa, b = (float*)pb, c = (float*)pc;
            if (splitRows)
            {
                RunBlocked(kernel, transA, transB, hi - lo, n, k, transA ? a + lo : a + lo * lda, lda, b, ldb, c + (nint)lo * n, n);
                epilogue?.Completed((long)lo * n, (long)hi * n);
            }
            else
                RunBlocked(kernel, transA, transB, m, hi - lo, k, a, lda, transB ? b + lo * ldb : b + lo, ldb, c + lo, n);
        });
        return splitRows;
    }

    /// <summary>
    /// Runs body(lo, hi) on <paramref name="chunks"/> threads over contiguous slabs of whole units (<paramref name="units"/> of
    /// <paramref name="unit"/> rows or columns, the last clipped to <paramref name="extent"/>); the split depends only on the sizes.
    /// </summary>
    private static void ForEachSlab(int chunks, int units, int unit, int extent, Action<int, int> body) =>
        KernelThreads.For(0, chunks, t =>
        {
            var lo = (int)Math.Min(extent, (long)units * t / chunks * unit);
            var hi = (int)Math.Min(extent, (long)units * (t + 1) / chunks * unit);
            if (hi > lo) body(lo, hi);
        });

    /// <summary>
    /// The unpacked kernels of <see cref="GemmSkinny"/>, split across threads when the product is large enough: a narrow C
    /// by rows (blocks of 8), a few-rows product by columns (blocks of 64, the few-rows kernel's widest tile).
    /// </summary>
    private static unsafe bool RunSkinny(int threads, bool transA, bool transB, int m, int n, int k, nint pa, nint lda, nint pb, nint ldb, nint pc,
        OutputEpilogue? epilogue)
    {
        var byRows = n <= GemmSkinny.MaxColumns;
        int unit = byRows ? 8 : 64, extent = byRows ? m : n;
        var units = (extent + unit - 1) / unit;
        var chunks = Math.Min(threads, units);
        if (chunks <= 1)
        {
            GemmSkinny.Run(transA, transB, m, n, k, (float*)pa, lda, (float*)pb, ldb, (float*)pc, n, false);
            return false;
        }
        ForEachSlab(chunks, units, unit, extent, (lo, hi) =>
        {
            float* a = (float*)pa, b = (float*)pb, c = (float*)pc;
            if (byRows)
            {
                GemmSkinny.Run(transA, transB, hi - lo, n, k, transA ? a + lo : a + lo * lda, lda, b, ldb, c + (nint)lo * n, n, false);
                epilogue?.Completed((long)lo * n, (long)hi * n);
            }
            else
                GemmSkinny.Run(transA, transB, m, hi - lo, k, a, lda, b + lo, ldb, c + lo, n, false);
        });
        return byRows;
    }

    private static unsafe void RunBlocked(Kernel kernel, bool transA, bool transB, int m, int n, int k,
        float* a, nint lda, float* b, nint ldb, float* c, nint ldc)
    {
        if (kernel is Kernel.Vector512 or Kernel.Vector512Packed)
            GemmDriver<GemmKernel512>.Run(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, packA: kernel == Kernel.Vector512Packed);
        else
            GemmDriver<GemmKernel256>.Run(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    }

    /// <summary>Straightforward i-k-j loop for any floating type; used for float64 and as the float32 fallback.</summary>
    public static void MultiplyNaive<T>(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c)
        where T : IFloatingPointIeee754<T>
    {
        c[..(m * n)].Clear();
        for (var i = 0; i < m; i++)
            for (var p = 0; p < k; p++)
            {
                var av = transA ? a[p * m + i] : a[i * k + p];
                var row = c.Slice(i * n, n);
                for (var j = 0; j < n; j++) row[j] += av * (transB ? b[j * k + p] : b[p * n + j]);
            }
    }
}
