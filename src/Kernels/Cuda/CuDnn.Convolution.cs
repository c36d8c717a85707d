using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

/// <summary>
/// cuDNN convolution bindings, transcribed from cudnn_cnn.h of cuDNN 9.6: the descriptor, the
/// <c>_v7</c> heuristic algorithm queries (no benchmarking, unlike Find*), the workspace size queries
/// and the forward, backward-data and backward-filter calls.
/// </summary>
internal static unsafe partial class CuDnn
{
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnCreateConvolutionDescriptor(out nint convDesc);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnDestroyConvolutionDescriptor(nint convDesc);

    /// <summary><paramref name="u"/> and <paramref name="v"/> are the vertical and horizontal strides.</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSetConvolution2dDescriptor(nint convDesc, int padH, int padW, int u, int v,
        int dilationH, int dilationW, CudnnConvolutionMode mode, CudnnDataType computeType);

    /// <summary><see cref="CudnnMathType.Fma"/> keeps float32 convolutions off TF32 tensor cores.</summary>
    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSetConvolutionMathType(nint convDesc, CudnnMathType mathType);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnSetConvolutionGroupCount(nint convDesc, int groupCount);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolution2dForwardOutputDim(nint convDesc, nint inputTensorDesc,
        nint filterDesc, out int n, out int c, out int h, out int w);

    // Algorithm heuristics: results are sorted best first; an entry is usable only when its Status is 0.

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolutionForwardAlgorithmMaxCount(nint handle, out int count);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolutionForwardAlgorithm_v7(nint handle, nint srcDesc, nint filterDesc,
        nint convDesc, nint destDesc, int requestedAlgoCount, out int returnedAlgoCount, CudnnConvolutionFwdAlgoPerf* perfResults);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolutionBackwardDataAlgorithmMaxCount(nint handle, out int count);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolutionBackwardDataAlgorithm_v7(nint handle, nint filterDesc, nint diffDesc,
        nint convDesc, nint gradDesc, int requestedAlgoCount, out int returnedAlgoCount, CudnnConvolutionBwdDataAlgoPerf* perfResults);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(nint handle, out int count);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolutionBackwardFilterAlgorithm_v7(nint handle, nint srcDesc, nint diffDesc,
        nint convDesc, nint gradDesc, int requestedAlgoCount, out int returnedAlgoCount, CudnnConvolutionBwdFilterAlgoPerf* perfResults);

    // Workspace sizes for a chosen algorithm.

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolutionForwardWorkspaceSize(nint handle, nint xDesc, nint wDesc,
        nint convDesc, nint yDesc, CudnnConvolutionFwdAlgo algo, out nuint sizeInBytes);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolutionBackwardDataWorkspaceSize(nint handle, nint wDesc, nint dyDesc,
        nint convDesc, nint dxDesc, CudnnConvolutionBwdDataAlgo algo, out nuint sizeInBytes);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnGetConvolutionBackwardFilterWorkspaceSize(nint handle, nint xDesc, nint dyDesc,
        nint convDesc, nint gradDesc, CudnnConvolutionBwdFilterAlgo algo, out nuint sizeInBytes);

    // The three convolutions: output = alpha·op(inputs) + beta·output.

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnConvolutionForward(nint handle, void* alpha, nint xDesc, ulong x, nint wDesc, ulong w,
        nint convDesc, CudnnConvolutionFwdAlgo algo, ulong workSpace, nuint workSpaceSizeInBytes, void* beta, nint yDesc, ulong y);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnConvolutionBackwardData(nint handle, void* alpha, nint wDesc, ulong w, nint dyDesc, ulong dy,
        nint convDesc, CudnnConvolutionBwdDataAlgo algo, ulong workSpace, nuint workSpaceSizeInBytes, void* beta, nint dxDesc, ulong dx);

    [LibraryImport(CudaLibraries.CudnnName)]
    internal static partial int cudnnConvolutionBackwardFilter(nint handle, void* alpha, nint xDesc, ulong x, nint dyDesc, ulong dy,
        nint convDesc, CudnnConvolutionBwdFilterAlgo algo, ulong workSpace, nuint workSpaceSizeInBytes, void* beta, nint dwDesc, ulong dw);
}
