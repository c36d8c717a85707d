namespace Nabla.Kernels.Cuda;

/// <summary>
/// What <c>CudaBackend</c> needs of a CUDA device: raw memory, stream-ordered transfers, kernel launches
/// and cuBLAS's GEMM. <c>DriverCudaDevice</c> implements it on the driver; the tests' PTX emulator
/// implements it on the CPU, so the backend's own logic (memory plan, views, argument mapping, launch
/// parameters, the column-major GEMM mapping) is tested on machines without a GPU.
/// </summary>
/// <remarks>
/// All work is queued on one stream in call order. Host pointers passed to the copy methods must stay
/// valid and unchanged until the next <see cref="Synchronize"/> (the driver copies asynchronously; the
/// backend stages through pinned buffers). Errors surface as <see cref="CudaException"/>.
/// </remarks>
internal unsafe interface ICudaDevice : IDeviceMemory, IDisposable
{
    /// <summary>"cuda:0 (NVIDIA H200)", or the emulator's name.</summary>
    string Name { get; }

    /// <summary>Where kernels are launched, on this device's stream.</summary>
    IKernelLauncher Launcher { get; }

    /// <summary>Queues a copy of <paramref name="bytes"/> bytes from host memory to the device.</summary>
    void CopyHostToDevice(ulong dst, void* src, ulong bytes);

    /// <summary>Queues a copy of <paramref name="bytes"/> bytes from the device to host memory (complete after <see cref="Synchronize"/>).</summary>
    void CopyDeviceToHost(void* dst, ulong src, ulong bytes);

    /// <summary>Queues a device-to-device copy.</summary>
    void CopyDeviceToDevice(ulong dst, ulong src, ulong bytes);

    /// <summary>Queues setting <paramref name="count"/> 32-bit words at <paramref name="dst"/> to <paramref name="value"/>.</summary>
    void Memset32(ulong dst, uint value, ulong count);

    /// <summary>Waits for all queued work; asynchronous kernel faults surface here.</summary>
    void Synchronize();

    /// <summary>
    /// cuBLAS's column-major strided batched GEMM (<c>cublasGemmStridedBatchedEx</c> semantics): for each
    /// batch i, C_i = α·op(A_i)·op(B_i) + β·C_i, with op(A_i) m×k, op(B_i) k×n, C_i m×n, leading
    /// dimensions lda/ldb/ldc and element strides between batches. dtype is Float32 (TF32 only when
    /// <paramref name="allowTf32"/>) or Float64.
    /// </summary>
    void GemmStridedBatched(DType dtype, bool transA, bool transB, int m, int n, int k, double alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, double beta, ulong c, int ldc, long strideC, int batch, bool allowTf32);
}
