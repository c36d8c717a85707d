namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: every kernel here is PTX generated as text (ComputeKernels.*.cs) and was
// checked only on the tests' PTX emulator (CudaComputeKernelTests), never assembled by ptxas nor run on a GPU.
// Every method only queues launches on k; arguments were validated by the engine. Addresses are device
// addresses; dtype is Float32 or Float64 unless said otherwise.

/// <summary>The non-element-wise kernel families on CUDA: reductions, softmax, cross-entropy, gather/scatter, checks, optimizers, random.</summary>
internal static partial class ComputeKernels
{
    /// <summary>Reduces x [outer, reduce, inner] into y [outer, inner], as IBackend.Reduce (ArgMax/ArgMin write int64).</summary>
    public static void Reduce(IKernelLauncher k, ReduceOp op, DType dtype, ulong x, int outer, int reduce, int inner, ulong y) =>
        ReduceLaunch(k, op, dtype, x, outer, reduce, inner, y);

    /// <summary>Softmax or log-softmax over the last axis of [rows, cols], as IBackend.Softmax.</summary>
    public static void Softmax(IKernelLauncher k, DType dtype, ulong x, ulong y, int rows, int cols, bool log) =>
        SoftmaxLaunch(k, dtype, x, y, rows, cols, log);

    /// <summary>Fused softmax cross-entropy per row, as IBackend.SoftmaxCrossEntropy; labelDType is dtype (dense) or Int32/Int64 (sparse); backprop 0 = none.</summary>
    public static void SoftmaxCrossEntropy(IKernelLauncher k, DType dtype, ulong logits, DType labelDType, ulong labels, bool sparse,
        int rows, int cols, ulong loss, ulong backprop) =>
        SoftmaxCrossEntropyLaunch(k, dtype, logits, labelDType, labels, sparse, rows, cols, loss, backprop);

    /// <summary>dst[o, j, i] = src[o, indices[j], i]; out-of-range index → zeros; dtype is any DType; indexDType Int32/Int64.</summary>
    public static void Gather(IKernelLauncher k, DType dtype, ulong src, DType indexDType, ulong indices, int count, int outer, int axisDim, int inner, ulong dst) =>
        GatherLaunch(k, dtype, src, indexDType, indices, count, outer, axisDim, inner, dst);

    /// <summary>dst[o, indices[j], i] += updates[o, j, i] (atomic); out-of-range index skipped.</summary>
    public static void ScatterAdd(IKernelLauncher k, DType dtype, ulong updates, DType indexDType, ulong indices, int count, int outer, int axisDim, int inner, ulong dst) =>
        ScatterAddLaunch(k, dtype, updates, indexDType, indices, count, outer, axisDim, inner, dst);

    /// <summary>Records the first failing element of x (n elements of dtype) in flags at site, as IBackend.Check.</summary>
    public static void Check(IKernelLauncher k, CheckKind kind, DType dtype, ulong x, long n, long bound, ulong flags, int site) =>
        CheckLaunch(k, kind, dtype, x, n, bound, flags, site);

    /// <summary>One fused optimizer step over n elements, as IBackend.ApplyOptimizer; scalars are device addresses of rank-0 buffers of dtype; unused slots 0; abortFlags 0 = none.</summary>
    public static void ApplyOptimizer(IKernelLauncher k, OptimizerKind kind, bool nesterov, DType dtype, ReadOnlySpan<ulong> scalars, ulong variable, ulong grad,
        ulong slot1, ulong slot2, ulong slot3, long n, ulong abortFlags, int flagCount) =>
        ApplyOptimizerLaunch(k, kind, nesterov, dtype, scalars, null, variable, grad, slot1, slot2, slot3, n, abortFlags, flagCount);

    /// <summary>
    /// As the other overload, with the dtype of each scalar buffer given (float32 or float64, each independent of the
    /// variable's, as the engine's optimizer ops allow): the kernel reads each scalar as its own dtype.
    /// </summary>
    public static void ApplyOptimizer(IKernelLauncher k, OptimizerKind kind, bool nesterov, DType dtype, ReadOnlySpan<ulong> scalars, ReadOnlySpan<DType> scalarDTypes,
        ulong variable, ulong grad, ulong slot1, ulong slot2, ulong slot3, long n, ulong abortFlags, int flagCount) =>
        ApplyOptimizerLaunch(k, kind, nesterov, dtype, scalars, scalarDTypes.ToArray(), variable, grad, slot1, slot2, slot3, n, abortFlags, flagCount);

    /// <summary>Fills n elements of dtype from the Philox 4x32-10 stream, bit-for-bit as the CPU's Philox does, as IBackend.Random.</summary>
    public static void Random(IKernelLauncher k, RandomDistribution dist, DType dtype, ulong seed, ulong counter, double a, double b, ulong dst, long n) =>
        RandomLaunch(k, dist, dtype, seed, counter, a, b, dst, n);
}
