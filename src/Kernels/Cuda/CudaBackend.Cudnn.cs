namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware (see CudaBackend.cs): transcribed from the cuDNN 9 legacy API as bound in CuDnn*.cs.

/// <summary>
/// One convolution pass's cuDNN state for fixed arguments: the NHWC tensor descriptors, the KRSC filter descriptor, the
/// convolution descriptor, the algorithm cuDNN's heuristics chose, and the layout of the workspace
/// (see <see cref="CudaBackend.ConvolutionWorkspace"/>). Created at plan time, reused by every run.
/// </summary>
internal sealed unsafe class CudnnConvolution : IDisposable
{
    private const ulong Align = 256;

    private nint _x, _w, _y, _conv;
    private readonly DType _dtype;
    private readonly ConvolutionPass _pass;
    private int _algo;
    private ulong _cudnnBytes;

    private CudnnConvolution(ConvolutionPass pass, DType dtype)
    {
        _pass = pass;
        _dtype = dtype;
    }

    /// <summary>Zero rows cuDNN's symmetric padding cannot add above the input (padded explicitly).</summary>
    public int ExtraTop { get; private init; }

    /// <summary>Likewise, columns left of the input.</summary>
    public int ExtraLeft { get; private init; }

    /// <summary>Height of the input as cuDNN sees it (explicit padding included).</summary>
    public int PaddedH { get; private init; }

    /// <summary>Width of the input as cuDNN sees it.</summary>
    public int PaddedW { get; private init; }

    /// <summary>Whether the input is padded explicitly in the workspace.</summary>
    public bool Padded { get; private init; }

    /// <summary>Byte offset of the KRSC filter in the workspace (0).</summary>
    public ulong FilterOffset => 0;

    /// <summary>Byte offset of the padded input.</summary>
    public ulong PaddedOffset { get; private set; }

    /// <summary>Byte offset of cuDNN's own workspace.</summary>
    public ulong CudnnOffset { get; private set; }

    /// <summary>Total workspace bytes.</summary>
    public ulong WorkspaceBytes { get; private set; }

    private static ulong Up(ulong bytes) => (bytes + Align - 1) / Align * Align;

    /// <summary>Describes the pass and asks cuDNN for an algorithm and its workspace.</summary>
    public static CudnnConvolution Create(nint handle, ConvolutionPass pass, in Conv2DArgs a, DType dtype, bool allowTf32)
    {
        if (dtype is not (DType.Float32 or DType.Float64)) throw new NotSupportedException($"Conv2D on CUDA is defined for float32 and float64, not {dtype.Name()}");
        // cuDNN pads both sides alike: pad by the smaller side and add the rest explicitly.
        int padH = Math.Min(a.PadTop, a.PadBottom), padW = Math.Min(a.PadLeft, a.PadRight);
        int extraTop = a.PadTop - padH, extraBottom = a.PadBottom - padH, extraLeft = a.PadLeft - padW, extraRight = a.PadRight - padW;
        var padded = extraTop + extraBottom + extraLeft + extraRight > 0;
        var c = new CudnnConvolution(pass, dtype)
        {
            ExtraTop = extraTop, ExtraLeft = extraLeft, Padded = padded,
            PaddedH = a.InH + extraTop + extraBottom, PaddedW = a.InW + extraLeft + extraRight,
        };
        try
        {
            c.Describe(a, padH, padW, allowTf32);
            c.ChooseAlgorithm(handle);
            var size = (ulong)dtype.SizeOf();
            var filterBytes = (ulong)a.KH * (ulong)a.KW * (ulong)a.InC * (ulong)a.OutC * size;
            c.PaddedOffset = Up(filterBytes);
            var paddedBytes = padded
                ? (ulong)a.Batch * (ulong)c.PaddedH * (ulong)c.PaddedW * (ulong)a.InC * size
                : 0;
            c.CudnnOffset = c.PaddedOffset + Up(paddedBytes);
            c.WorkspaceBytes = c.CudnnOffset + c._cudnnBytes;
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    private CudnnDataType DataType => _dtype == DType.Float32 ? CudnnDataType.Float : CudnnDataType.Double;

    private void Describe(in Conv2DArgs a, int padH, int padW, bool allowTf32)
    {
        CuDnn.Check(CuDnn.cudnnCreateTensorDescriptor(out _x), nameof(CuDnn.cudnnCreateTensorDescriptor));
        CuDnn.Check(CuDnn.cudnnSetTensor4dDescriptor(_x, CudnnTensorFormat.Nhwc, DataType, a.Batch, a.InC, PaddedH, PaddedW), nameof(CuDnn.cudnnSetTensor4dDescriptor));
        CuDnn.Check(CuDnn.cudnnCreateTensorDescriptor(out _y), nameof(CuDnn.cudnnCreateTensorDescriptor));
        CuDnn.Check(CuDnn.cudnnSetTensor4dDescriptor(_y, CudnnTensorFormat.Nhwc, DataType, a.Batch, a.OutC, a.OutH, a.OutW), nameof(CuDnn.cudnnSetTensor4dDescriptor));
        // NHWC filter format is KRSC: [OutC, KH, KW, InC].
        CuDnn.Check(CuDnn.cudnnCreateFilterDescriptor(out _w), nameof(CuDnn.cudnnCreateFilterDescriptor));
        CuDnn.Check(CuDnn.cudnnSetFilter4dDescriptor(_w, DataType, CudnnTensorFormat.Nhwc, a.OutC, a.InC, a.KH, a.KW), nameof(CuDnn.cudnnSetFilter4dDescriptor));
        CuDnn.Check(CuDnn.cudnnCreateConvolutionDescriptor(out _conv), nameof(CuDnn.cudnnCreateConvolutionDescriptor));
        CuDnn.Check(CuDnn.cudnnSetConvolution2dDescriptor(_conv, padH, padW, a.StrideH, a.StrideW, a.DilationH, a.DilationW,
            CudnnConvolutionMode.CrossCorrelation, DataType), nameof(CuDnn.cudnnSetConvolution2dDescriptor));
        // CUDNN_DEFAULT_MATH lets float32 use TF32 tensor cores on Ampere and later; FMA math keeps it in float32.
        var math = _dtype == DType.Float32 && !allowTf32 ? CudnnMathType.Fma : CudnnMathType.Default;
        CuDnn.Check(CuDnn.cudnnSetConvolutionMathType(_conv, math), nameof(CuDnn.cudnnSetConvolutionMathType));
    }

    /// <summary>The first usable algorithm of the heuristics' ranking, preferring deterministic ones (a run repeats its bits).</summary>
    private void ChooseAlgorithm(nint handle)
    {
        switch (_pass)
        {
            case ConvolutionPass.Forward:
            {
                CuDnn.Check(CuDnn.cudnnGetConvolutionForwardAlgorithmMaxCount(handle, out var max), nameof(CuDnn.cudnnGetConvolutionForwardAlgorithmMaxCount));
                var perf = new CudnnConvolutionFwdAlgoPerf[Math.Max(max, 1)];
                int returned;
                fixed (CudnnConvolutionFwdAlgoPerf* p = perf)
                    CuDnn.Check(CuDnn.cudnnGetConvolutionForwardAlgorithm_v7(handle, _x, _w, _conv, _y, perf.Length, out returned, p), nameof(CuDnn.cudnnGetConvolutionForwardAlgorithm_v7));
                var i = Pick(returned, k => perf[k].Status, k => perf[k].Determinism);
                _algo = (int)perf[i].Algo;
                CuDnn.Check(CuDnn.cudnnGetConvolutionForwardWorkspaceSize(handle, _x, _w, _conv, _y, perf[i].Algo, out var bytes), nameof(CuDnn.cudnnGetConvolutionForwardWorkspaceSize));
                _cudnnBytes = bytes;
                break;
            }
            case ConvolutionPass.BackpropInput:
            {
                CuDnn.Check(CuDnn.cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, out var max), nameof(CuDnn.cudnnGetConvolutionBackwardDataAlgorithmMaxCount));
                var perf = new CudnnConvolutionBwdDataAlgoPerf[Math.Max(max, 1)];
                int returned;
                fixed (CudnnConvolutionBwdDataAlgoPerf* p = perf)
                    CuDnn.Check(CuDnn.cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, _w, _y, _conv, _x, perf.Length, out returned, p), nameof(CuDnn.cudnnGetConvolutionBackwardDataAlgorithm_v7));
                var i = Pick(returned, k => perf[k].Status, k => perf[k].Determinism);
                _algo = (int)perf[i].Algo;
                CuDnn.Check(CuDnn.cudnnGetConvolutionBackwardDataWorkspaceSize(handle, _w, _y, _conv, _x, perf[i].Algo, out var bytes), nameof(CuDnn.cudnnGetConvolutionBackwardDataWorkspaceSize));
                _cudnnBytes = bytes;
                break;
            }
            default:
            {
                CuDnn.Check(CuDnn.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, out var max), nameof(CuDnn.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount));
                var perf = new CudnnConvolutionBwdFilterAlgoPerf[Math.Max(max, 1)];
                int returned;
                fixed (CudnnConvolutionBwdFilterAlgoPerf* p = perf)
                    CuDnn.Check(CuDnn.cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, _x, _y, _conv, _w, perf.Length, out returned, p), nameof(CuDnn.cudnnGetConvolutionBackwardFilterAlgorithm_v7));
                var i = Pick(returned, k => perf[k].Status, k => perf[k].Determinism);
                _algo = (int)perf[i].Algo;
                CuDnn.Check(CuDnn.cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, _x, _y, _conv, _w, perf[i].Algo, out var bytes), nameof(CuDnn.cudnnGetConvolutionBackwardFilterWorkspaceSize));
                _cudnnBytes = bytes;
                break;
            }
        }
    }

    private int Pick(int returned, Func<int, int> status, Func<int, CudnnDeterminism> determinism)
    {
        var first = -1;
        for (var k = 0; k < returned; k++)
        {
            if (status(k) != 0) continue;
            if (determinism(k) == CudnnDeterminism.Deterministic) return k;
            if (first < 0) first = k;
        }
        return first >= 0 ? first : throw new NotSupportedException($"cuDNN offers no {_pass} convolution algorithm for these arguments ({_dtype.Name()}, NHWC)");
    }

    /// <summary>y = conv(x, w) (overwritten).</summary>
    public void Forward(nint handle, ulong x, ulong w, ulong y, ulong workspace) =>
        CudnnScale.OneZero(_dtype, (one, zero) => CuDnn.Check(CuDnn.cudnnConvolutionForward(handle, one, _x, x, _w, w, _conv, (CudnnConvolutionFwdAlgo)_algo, workspace, (nuint)_cudnnBytes, zero, _y, y), nameof(CuDnn.cudnnConvolutionForward)));

    /// <summary>dx = the gradient of conv with respect to its input (overwritten).</summary>
    public void BackwardData(nint handle, ulong w, ulong dy, ulong dx, ulong workspace) =>
        CudnnScale.OneZero(_dtype, (one, zero) => CuDnn.Check(CuDnn.cudnnConvolutionBackwardData(handle, one, _w, w, _y, dy, _conv, (CudnnConvolutionBwdDataAlgo)_algo, workspace, (nuint)_cudnnBytes, zero, _x, dx), nameof(CuDnn.cudnnConvolutionBackwardData)));

    /// <summary>dw (KRSC, overwritten) = the gradient of conv with respect to its filter.</summary>
    public void BackwardFilter(nint handle, ulong x, ulong dy, ulong dw, ulong workspace) =>
        CudnnScale.OneZero(_dtype, (one, zero) => CuDnn.Check(CuDnn.cudnnConvolutionBackwardFilter(handle, one, _x, x, _y, dy, _conv, (CudnnConvolutionBwdFilterAlgo)_algo, workspace, (nuint)_cudnnBytes, zero, _w, dw), nameof(CuDnn.cudnnConvolutionBackwardFilter)));

    /// <summary>Destroys the descriptors; the first failure is thrown after all were tried.</summary>
    public void Dispose()
    {
        var first = 0;
        var call = "";
        void Destroy(ref nint d, Func<nint, int> destroy, string name)
        {
            if (d == 0) return;
            var s = destroy(d);
            d = 0;
            if (s != 0 && first == 0) (first, call) = (s, name);
        }
        Destroy(ref _x, CuDnn.cudnnDestroyTensorDescriptor, nameof(CuDnn.cudnnDestroyTensorDescriptor));
        Destroy(ref _y, CuDnn.cudnnDestroyTensorDescriptor, nameof(CuDnn.cudnnDestroyTensorDescriptor));
        Destroy(ref _w, CuDnn.cudnnDestroyFilterDescriptor, nameof(CuDnn.cudnnDestroyFilterDescriptor));
        Destroy(ref _conv, CuDnn.cudnnDestroyConvolutionDescriptor, nameof(CuDnn.cudnnDestroyConvolutionDescriptor));
        CuDnn.Check(first, call);
    }
}

/// <summary>cuDNN's blend factors alpha = 1 and beta = 0 (the output is overwritten), passed by host pointer.</summary>
internal static unsafe class CudnnScale
{
    /// <summary>A cuDNN call (or calls) given pointers to alpha = 1 and beta = 0.</summary>
    internal delegate void Call(void* one, void* zero);

    /// <summary>
    /// Runs <paramref name="call"/> with alpha = 1 and beta = 0 as float for float32 data and as double otherwise (the
    /// precision cuDNN reads them in).
    /// </summary>
    public static void OneZero(DType dtype, Call call)
    {
        if (dtype == DType.Float32)
        {
            float one = 1, zero = 0;
            call(&one, &zero);
        }
        else
        {
            double one = 1, zero = 0;
            call(&one, &zero);
        }
    }
}
