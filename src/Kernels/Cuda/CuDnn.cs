using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

/// <summary>
/// Thin bindings to cuDNN 9's legacy API through the libcudnn shim, which forwards to libcudnn_ops,
/// libcudnn_cnn and libcudnn_graph. Signatures transcribed from cudnn_graph.h and cudnn_ops.h of
/// cuDNN 9.6 (convolutions are in CuDnn.Convolution.cs, from cudnn_cnn.h). Descriptors are opaque
/// handles (nint); device pointers are CUdeviceptr (ulong, 0 for an optional NULL); alpha/beta are
/// host pointers to a float for float/half tensors and to a double for double tensors. Every function
/// but <see cref="cudnnGetErrorString"/> and <see cref="cudnnGetVersion"/> returns a cudnnStatus_t;
/// pass it to <see cref="Check"/>.
/// </summary>
/// <remarks>
/// cuDNN 9 marks pooling, activation, filter, convolution and batch-norm descriptors deprecated in
/// favour of the graph API; they still ship and are what this engine's fixed set of ops needs.
/// </remarks>
internal static unsafe partial class CuDnn
{
#pragma warning disable CA1810 // see CuDriver's static constructor
    static CuDnn() => CudaLibraries.RegisterResolver();
#pragma warning restore CA1810

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="status"/> is CUDNN_STATUS_SUCCESS.</summary>
    internal static void Check(int status, string call)
    {
        if (status != 0) throw CudaStatus.Error(CudaLibrary.Cudnn, status, call);
    }

    // Handle and errors (cudnn_graph.h).

    /// <summary>CUDNN_VERSION of the loaded library, e.g. 90600.</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial nuint cudnnGetVersion();

    /// <summary>Returns a static C string naming the status, e.g. "CUDNN_STATUS_BAD_PARAM".</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial nint cudnnGetErrorString(int status);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnCreate(out nint handle);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnDestroy(nint handle);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSetStream(nint handle, nint streamId);

    // Tensor and filter descriptors (cudnn_ops.h).

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnCreateTensorDescriptor(out nint tensorDesc);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSetTensor4dDescriptor(nint tensorDesc, CudnnTensorFormat format,
        CudnnDataType dataType, int n, int c, int h, int w);

    /// <summary><paramref name="dimA"/> and <paramref name="strideA"/> hold <paramref name="nbDims"/> ints (3 to 8 dims).</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSetTensorNdDescriptor(nint tensorDesc, CudnnDataType dataType, int nbDims,
        int* dimA, int* strideA);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnDestroyTensorDescriptor(nint tensorDesc);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnCreateFilterDescriptor(out nint filterDesc);

    /// <summary>k output channels, c input channels, h×w window. Note dataType precedes format here.</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSetFilter4dDescriptor(nint filterDesc, CudnnDataType dataType,
        CudnnTensorFormat format, int k, int c, int h, int w);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnDestroyFilterDescriptor(nint filterDesc);

    // Pooling.

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnCreatePoolingDescriptor(out nint poolingDesc);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSetPooling2dDescriptor(nint poolingDesc, CudnnPoolingMode mode,
        CudnnNanPropagation maxpoolingNanOpt, int windowHeight, int windowWidth, int verticalPadding,
        int horizontalPadding, int verticalStride, int horizontalStride);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnDestroyPoolingDescriptor(nint poolingDesc);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnPoolingForward(nint handle, nint poolingDesc, void* alpha,
        nint xDesc, ulong x, void* beta, nint yDesc, ulong y);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnPoolingBackward(nint handle, nint poolingDesc, void* alpha,
        nint yDesc, ulong y, nint dyDesc, ulong dy, nint xDesc, ulong x, void* beta, nint dxDesc, ulong dx);

    // Activation.

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnCreateActivationDescriptor(out nint activationDesc);

    /// <summary><paramref name="coef"/> is the ceiling of a clipped ReLU or the alpha of an ELU.</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSetActivationDescriptor(nint activationDesc, CudnnActivationMode mode,
        CudnnNanPropagation reluNanOpt, double coef);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnDestroyActivationDescriptor(nint activationDesc);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnActivationForward(nint handle, nint activationDesc, void* alpha,
        nint xDesc, ulong x, void* beta, nint yDesc, ulong y);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnActivationBackward(nint handle, nint activationDesc, void* alpha,
        nint yDesc, ulong y, nint dyDesc, ulong dy, nint xDesc, ulong x, void* beta, nint dxDesc, ulong dx);

    // Softmax.

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSoftmaxForward(nint handle, CudnnSoftmaxAlgorithm algo, CudnnSoftmaxMode mode,
        void* alpha, nint xDesc, ulong x, void* beta, nint yDesc, ulong y);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSoftmaxBackward(nint handle, CudnnSoftmaxAlgorithm algo, CudnnSoftmaxMode mode,
        void* alpha, nint yDesc, ulong y, nint dyDesc, ulong dy, void* beta, nint dxDesc, ulong dx);

    // Batch normalisation.

    /// <summary>Fills <paramref name="derivedBnDesc"/> with the 1×C×1×1 (spatial) or 1×C×H×W shape of the statistics.</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnDeriveBNTensorDescriptor(nint derivedBnDesc, nint xDesc, CudnnBatchNormMode mode);

    /// <summary>
    /// y = BN(x) with batch statistics; running = new·factor + running·(1 − factor). Saved mean and
    /// inverse variance (optional, 0 for NULL) speed up the backward pass.
    /// </summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnBatchNormalizationForwardTraining(nint handle, CudnnBatchNormMode mode,
        void* alpha, void* beta, nint xDesc, ulong x, nint yDesc, ulong y, nint bnScaleBiasMeanVarDesc,
        ulong bnScale, ulong bnBias, double exponentialAverageFactor, ulong resultRunningMean,
        ulong resultRunningVariance, double epsilon, ulong resultSaveMean, ulong resultSaveInvVariance);

    /// <summary>y = scale·(x − mean)/√(var + ε) + bias with the running statistics.</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnBatchNormalizationForwardInference(nint handle, CudnnBatchNormMode mode,
        void* alpha, void* beta, nint xDesc, ulong x, nint yDesc, ulong y, nint bnScaleBiasMeanVarDesc,
        ulong bnScale, ulong bnBias, ulong estimatedMean, ulong estimatedVariance, double epsilon);

    /// <summary>dx, dscale and dbias; ε must equal the forward pass's.</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnBatchNormalizationBackward(nint handle, CudnnBatchNormMode mode,
        void* alphaDataDiff, void* betaDataDiff, void* alphaParamDiff, void* betaParamDiff,
        nint xDesc, ulong x, nint dyDesc, ulong dy, nint dxDesc, ulong dx, nint dBnScaleBiasDesc,
        ulong bnScale, ulong dBnScaleResult, ulong dBnBiasResult, double epsilon, ulong savedMean, ulong savedInvVariance);
}
