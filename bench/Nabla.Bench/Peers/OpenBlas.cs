using System.Runtime.InteropServices;

namespace Nabla.Bench.Peers;

/// <summary>
/// Minimal P/Invoke surface of OpenBLAS (Debian/Ubuntu package libopenblas0, loaded as libopenblas.so.0).
/// Used only as a peer in benchmarks. The thread count is left to OpenBLAS's own default (all online
/// cores, OPENBLAS_NUM_THREADS unset), matching our GEMM which also uses every core.
/// </summary>
internal static unsafe partial class OpenBlas
{
    private const string Lib = "libopenblas.so.0";

    /// <summary>CBLAS_ORDER.CblasRowMajor.</summary>
    public const int RowMajor = 101;

    /// <summary>CBLAS_TRANSPOSE.CblasNoTrans.</summary>
    public const int NoTrans = 111;

    /// <summary>CBLAS_TRANSPOSE.CblasTrans.</summary>
    public const int Trans = 112;

    [LibraryImport(Lib, EntryPoint = "cblas_sgemm")]
    [UnmanagedCallConv(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    public static partial void Sgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Lib, EntryPoint = "openblas_get_num_threads")]
    public static partial int GetNumThreads();

    [LibraryImport(Lib, EntryPoint = "openblas_get_config")]
    public static partial nint GetConfig();

    /// <summary>Row-major C = op(A)·op(B), the same contract as Gemm.Multiply.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float* a, float* b, float* c)
        => Sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k,
            1f, a, transA ? m : k, b, transB ? k : n, 0f, c, n);

    /// <summary>OpenBLAS build string (core type, threading) for the report.</summary>
    public static string Config => Marshal.PtrToStringAnsi(GetConfig()) ?? "?";
}
