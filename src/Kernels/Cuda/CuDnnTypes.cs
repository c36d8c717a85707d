using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

// Enumerations and structs of the cuDNN 9 legacy (imperative) API, transcribed from cudnn_graph.h,
// cudnn_ops.h and cudnn_cnn.h of cuDNN 9.6. Values are the C enumerators'; names drop the CUDNN_ prefix.

/// <summary>cudnnDataType_t.</summary>
internal enum CudnnDataType
{
    Float = 0,
    Double = 1,
    Half = 2,
    Int8 = 3,
    Int32 = 4,
    UInt8 = 6,
    BFloat16 = 9,
    Int64 = 10,
    Boolean = 11,
}

/// <summary>cudnnTensorFormat_t.</summary>
internal enum CudnnTensorFormat
{
    Nchw = 0,
    Nhwc = 1,
}

/// <summary>cudnnNanPropagation_t.</summary>
internal enum CudnnNanPropagation
{
    NotPropagate = 0,
    Propagate = 1,
}

/// <summary>cudnnMathType_t.</summary>
internal enum CudnnMathType
{
    Default = 0,
    TensorOp = 1,
    TensorOpAllowConversion = 2,
    Fma = 3,
}

/// <summary>cudnnDeterminism_t.</summary>
internal enum CudnnDeterminism
{
    NonDeterministic = 0,
    Deterministic = 1,
}

/// <summary>cudnnConvolutionMode_t; deep-learning "convolution" is <see cref="CrossCorrelation"/>.</summary>
internal enum CudnnConvolutionMode
{
    Convolution = 0,
    CrossCorrelation = 1,
}

/// <summary>cudnnConvolutionFwdAlgo_t.</summary>
internal enum CudnnConvolutionFwdAlgo
{
    ImplicitGemm = 0,
    ImplicitPrecompGemm = 1,
    Gemm = 2,
    Direct = 3,
    Fft = 4,
    FftTiling = 5,
    Winograd = 6,
    WinogradNonfused = 7,
}

/// <summary>cudnnConvolutionBwdDataAlgo_t (algorithm 0 is non-deterministic).</summary>
internal enum CudnnConvolutionBwdDataAlgo
{
    Algo0 = 0,
    Algo1 = 1,
    Fft = 2,
    FftTiling = 3,
    Winograd = 4,
    WinogradNonfused = 5,
}

/// <summary>cudnnConvolutionBwdFilterAlgo_t (algorithms 0 and 3 are non-deterministic).</summary>
internal enum CudnnConvolutionBwdFilterAlgo
{
    Algo0 = 0,
    Algo1 = 1,
    Fft = 2,
    Algo3 = 3,
    Winograd = 4,
    WinogradNonfused = 5,
    FftTiling = 6,
}

/// <summary>cudnnPoolingMode_t.</summary>
internal enum CudnnPoolingMode
{
    Max = 0,
    AverageCountIncludePadding = 1,
    AverageCountExcludePadding = 2,
    MaxDeterministic = 3,
}

/// <summary>cudnnActivationMode_t.</summary>
internal enum CudnnActivationMode
{
    Sigmoid = 0,
    Relu = 1,
    Tanh = 2,
    ClippedRelu = 3,
    Elu = 4,
    Identity = 5,
    Swish = 6,
}

/// <summary>cudnnSoftmaxAlgorithm_t; <see cref="Accurate"/> subtracts the maximum first.</summary>
internal enum CudnnSoftmaxAlgorithm
{
    Fast = 0,
    Accurate = 1,
    Log = 2,
}

/// <summary>cudnnSoftmaxMode_t; <see cref="Channel"/> normalises over C for each (N, H, W).</summary>
internal enum CudnnSoftmaxMode
{
    Instance = 0,
    Channel = 1,
}

/// <summary>cudnnBatchNormMode_t; <see cref="Spatial"/> keeps one statistic per channel.</summary>
internal enum CudnnBatchNormMode
{
    PerActivation = 0,
    Spatial = 1,
    SpatialPersistent = 2,
}

/// <summary>cudnnConvolutionFwdAlgoPerf_t (48 bytes on LP64: the size_t is 8-aligned).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CudnnConvolutionFwdAlgoPerf
{
    public CudnnConvolutionFwdAlgo Algo;
    /// <summary>A cudnnStatus_t: the algorithm is usable only when this is 0.</summary>
    public int Status;
    /// <summary>Milliseconds (Find*) or -1 (Get*_v7 heuristics).</summary>
    public float Time;
    /// <summary>Workspace bytes.</summary>
    public nuint Memory;
    public CudnnDeterminism Determinism;
    public CudnnMathType MathType;
    public fixed int Reserved[3];
}

/// <summary>cudnnConvolutionBwdDataAlgoPerf_t; same layout as <see cref="CudnnConvolutionFwdAlgoPerf"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CudnnConvolutionBwdDataAlgoPerf
{
    public CudnnConvolutionBwdDataAlgo Algo;
    public int Status;
    public float Time;
    public nuint Memory;
    public CudnnDeterminism Determinism;
    public CudnnMathType MathType;
    public fixed int Reserved[3];
}

/// <summary>cudnnConvolutionBwdFilterAlgoPerf_t; same layout as <see cref="CudnnConvolutionFwdAlgoPerf"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CudnnConvolutionBwdFilterAlgoPerf
{
    public CudnnConvolutionBwdFilterAlgo Algo;
    public int Status;
    public float Time;
    public nuint Memory;
    public CudnnDeterminism Determinism;
    public CudnnMathType MathType;
    public fixed int Reserved[3];
}
