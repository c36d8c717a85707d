namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: written without a GPU (session 2026-12-01 e). The backend's own logic (views, argument
// mapping, the GEMM mapping, host staging of collectives, composed batch norm) runs in the tests on the PTX emulator
// (EmulatedCudaDevice); the driver path (DriverCudaDevice, cuBLAS, cuDNN) has only been read against NVIDIA's headers.

/// <summary>
/// <see cref="IBackend"/> on one CUDA device (<see cref="ICudaDevice"/>): every call queues launches on the device's
/// one stream and returns; only <see cref="Synchronize"/>, <see cref="IAllocator.Download"/> and
/// <see cref="IAllocator.ReadFloat64"/> wait. Element-wise and compute families launch the hand-written PTX kernels
/// of <see cref="ElementwiseKernels"/> and <see cref="ComputeKernels"/>; MatMul is cuBLAS's strided batched GEMM;
/// convolution and pooling are cuDNN (on a device that has it, see <see cref="ICudnnDevice"/>); batch norm is
/// composed from the element-wise and reduction kernels.
/// </summary>
/// <remarks>
/// <para><b>Errors.</b> A failed driver, cuBLAS or cuDNN call surfaces as a <see cref="CudaException"/>, passed through
/// the <c>wrapErrors</c> function given at construction at every entry point (the engine turns it into its
/// <c>DeviceException</c>; Nabla.Kernels cannot see that type). Asynchronous kernel faults surface at the next wait.</para>
/// <para>Arguments were validated by the engine, as for every backend; this class checks only what would otherwise
/// reach the device as a wrong address (foreign buffers, freed buffers).</para>
/// </remarks>
internal sealed partial class CudaBackend : IBackend
{
    private readonly ICudaDevice _device;
    private readonly CudaAllocator _memory;
    private readonly Func<CudaException, Exception>? _wrapErrors;
    private bool _disposed;

    /// <summary>A backend that owns <paramref name="device"/> (disposed with it).</summary>
    /// <param name="device">The device: the driver's (<see cref="DriverCudaDevice"/>) or the tests' emulator.</param>
    /// <param name="allowTf32">Let float32 GEMMs and convolutions use TF32 tensor cores (10-bit mantissa products); off by default.</param>
    /// <param name="wrapErrors">Turns a <see cref="CudaException"/> into the exception users see; null leaves it as is.</param>
    public CudaBackend(ICudaDevice device, bool allowTf32 = false, Func<CudaException, Exception>? wrapErrors = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        // Every call goes through the recorder, so a run can be recorded and replayed as a CUDA graph (CudaBackend.Graphs.cs).
        _device = _recorder = new GraphRecorder(device);
        _wrapErrors = wrapErrors;
        AllowTf32 = allowTf32;
        _memory = new CudaAllocator(_recorder, wrapErrors);
    }

    /// <inheritdoc/>
    public string Name => _device.Name;

    /// <inheritdoc/>
    public bool QueuesOnDeviceStream => true;

    /// <inheritdoc/>
    public IAllocator Memory => _memory;

    /// <summary>Whether float32 GEMMs and convolutions may use TF32.</summary>
    public bool AllowTf32 { get; }

    /// <summary>The device this backend queues on.</summary>
    internal ICudaDevice Device => _recorder.Inner;

    private IKernelLauncher K => _device.Launcher;

    /// <inheritdoc/>
    public void Synchronize()
    {
        try { _memory.Synchronize(); }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
    }

    /// <summary>The buffer as this backend's, or an ArgumentException naming <paramref name="name"/>.</summary>
    internal static CudaBuffer B(DeviceBuffer buffer, string name = "buffer") => buffer switch
    {
        CudaBuffer { Freed: true } c => throw new ObjectDisposedException(name, $"{c} was freed"),
        CudaBuffer c => c,
        null => throw new ArgumentNullException(name),
        _ => throw new ArgumentException($"{buffer.GetType().Name} is not a CUDA buffer", name),
    };

    private static ulong A(DeviceBuffer buffer, string name = "buffer") => B(buffer, name).Address;

    private static ulong Opt(DeviceBuffer? buffer, string name) => buffer is null ? 0 : A(buffer, name);

    private static long Count(ReadOnlySpan<int> shape)
    {
        var n = 1L;
        foreach (var d in shape) n *= d;
        return n;
    }

    /// <summary>Runs one entry point, turning a <see cref="CudaException"/> into what users see.</summary>
    private void Guard(Action body)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try { body(); }
        catch (CudaException e) when (_wrapErrors is not null) { throw _wrapErrors(e); }
    }

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, double value)
    {
        var d = B(dst, nameof(dst));
        if (d.Length > 0) Guard(() => ElementwiseKernels.Fill(K, d.DType, d.Address, d.Length, value));
    }

    /// <inheritdoc/>
    public void Copy(StridedView src, StridedView dst, ReadOnlySpan<int> shape)
    {
        if (Count(shape) == 0) return;
        var s = B(src.Buffer, nameof(src));
        var d = B(dst.Buffer, nameof(dst));
        var dims = shape.ToArray();
        Guard(() => ElementwiseKernels.Copy(K, s.DType, s.Address, src.Offset, src.Strides, d.Address, dst.Offset, dst.Strides, dims));
    }

    /// <inheritdoc/>
    public void Cast(DeviceBuffer src, DeviceBuffer dst)
    {
        CudaBuffer s = B(src, nameof(src)), d = B(dst, nameof(dst));
        if (s.Length == 0) return;
        if (s.DType == d.DType) Guard(() => _memory.Copy(s, d));
        else Guard(() => ElementwiseKernels.Cast(K, s.DType, s.Address, d.DType, d.Address, s.Length));
    }

    /// <inheritdoc/>
    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y)
    {
        CudaBuffer xb = B(x, nameof(x)), yb = B(y, nameof(y));
        if (xb.Length > 0) Guard(() => ElementwiseKernels.Unary(K, op, xb.DType, xb.Address, yb.Address, xb.Length));
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        if (Count(shape) == 0) return;
        CudaBuffer ab = B(a.Buffer, nameof(a)), bb = B(b.Buffer, nameof(b)), yb = B(y, nameof(y));
        var dims = shape.ToArray();
        if (op == BinaryOp.Pow)
            Guard(() => ElementwiseKernels.BinaryPow(K, ab.DType, ab.Address, a.Offset, a.Strides, bb.Address, b.Offset, b.Strides, yb.Address, dims));
        else
            Guard(() => ElementwiseKernels.Binary(K, op, ab.DType, ab.Address, a.Offset, a.Strides, bb.Address, b.Offset, b.Strides, yb.Address, dims));
    }

    /// <inheritdoc/>
    public void Select(StridedView cond, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        if (Count(shape) == 0) return;
        CudaBuffer cb = B(cond.Buffer, nameof(cond)), ab = B(a.Buffer, nameof(a)), bb = B(b.Buffer, nameof(b)), yb = B(y, nameof(y));
        var dims = shape.ToArray();
        Guard(() => ElementwiseKernels.Select(K, ab.DType, cb.Address, cond.Offset, cond.Strides, ab.Address, a.Offset, a.Strides,
            bb.Address, b.Offset, b.Strides, yb.Address, dims));
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, DeviceBuffer x, int outer, int reduce, int inner, DeviceBuffer y)
    {
        CudaBuffer xb = B(x, nameof(x)), yb = B(y, nameof(y));
        // No outputs, nothing to write; an empty reduced axis still writes the identity (the kernel's case).
        if ((long)outer * inner == 0) return;
        Guard(() => ComputeKernels.Reduce(K, op, xb.DType, xb.Address, outer, reduce, inner, yb.Address));
    }

    /// <inheritdoc/>
    public void Softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool log)
    {
        CudaBuffer xb = B(x, nameof(x)), yb = B(y, nameof(y));
        if ((long)rows * cols == 0) return;
        Guard(() => ComputeKernels.Softmax(K, xb.DType, xb.Address, yb.Address, rows, cols, log));
    }

    /// <inheritdoc/>
    public void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, bool sparse, int rows, int cols, DeviceBuffer loss, DeviceBuffer? backprop)
    {
        CudaBuffer lb = B(logits, nameof(logits)), yb = B(labels, nameof(labels)), ob = B(loss, nameof(loss));
        var bp = Opt(backprop, nameof(backprop));
        if (rows == 0) return;
        Guard(() => ComputeKernels.SoftmaxCrossEntropy(K, lb.DType, lb.Address, yb.DType, yb.Address, sparse, rows, cols, ob.Address, bp));
    }

    /// <inheritdoc/>
    public void Gather(DeviceBuffer src, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst)
    {
        CudaBuffer s = B(src, nameof(src)), i = B(indices, nameof(indices)), d = B(dst, nameof(dst));
        if (d.Length == 0) return;
        Guard(() => ComputeKernels.Gather(K, s.DType, s.Address, i.DType, i.Address, i.Length, outer, axisDim, inner, d.Address));
    }

    /// <inheritdoc/>
    public void ScatterAdd(DeviceBuffer updates, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst)
    {
        CudaBuffer u = B(updates, nameof(updates)), i = B(indices, nameof(indices)), d = B(dst, nameof(dst));
        if (u.Length == 0) return;
        Guard(() => ComputeKernels.ScatterAdd(K, u.DType, u.Address, i.DType, i.Address, i.Length, outer, axisDim, inner, d.Address));
    }

    /// <inheritdoc/>
    public void Check(CheckKind kind, DeviceBuffer x, long bound, DeviceBuffer flags, int site)
    {
        CudaBuffer xb = B(x, nameof(x)), f = B(flags, nameof(flags));
        if (xb.Length == 0) return;
        Guard(() => ComputeKernels.Check(K, kind, xb.DType, xb.Address, xb.Length, bound, f.Address, site));
    }

    /// <inheritdoc/>
    public void Assign(BinaryOp? op, DeviceBuffer variable, DeviceBuffer value, DeviceBuffer? abortFlags)
    {
        CudaBuffer v = B(variable, nameof(variable)), x = B(value, nameof(value));
        var flags = abortFlags is null ? null : B(abortFlags, nameof(abortFlags));
        if (v.Length == 0) return;
        Guard(() => ElementwiseKernels.Assign(K, op, v.DType, v.Address, x.Address, v.Length, flags?.Address ?? 0, flags?.Length ?? 0));
    }

    /// <inheritdoc/>
    public void ApplyOptimizer(OptimizerKind kind, bool nesterov, ReadOnlySpan<DeviceBuffer> scalars, DeviceBuffer variable, DeviceBuffer grad,
        DeviceBuffer? slot1, DeviceBuffer? slot2, DeviceBuffer? slot3, DeviceBuffer? abortFlags)
    {
        var scalarBuffers = new CudaBuffer[scalars.Length];
        for (var i = 0; i < scalarBuffers.Length; i++) scalarBuffers[i] = B(scalars[i], nameof(scalars));
        CudaBuffer v = B(variable, nameof(variable)), g = B(grad, nameof(grad));
        ulong s1 = Opt(slot1, nameof(slot1)), s2 = Opt(slot2, nameof(slot2)), s3 = Opt(slot3, nameof(slot3));
        var flags = abortFlags is null ? null : B(abortFlags, nameof(abortFlags));
        if (v.Length == 0) return;
        // The engine's hyper-parameters are float64 rank-0 buffers whatever the variable's dtype (IBackend allows float32 or
        // float64 independently): the kernel is told each scalar's dtype and converts as it reads.
        var addresses = scalarBuffers.Select(b => b.Address).ToArray();
        var dtypes = scalarBuffers.Select(b => b.DType is DType.Float32 or DType.Float64
            ? b.DType
            : throw new NotSupportedException($"optimizer scalars must be float32 or float64, got {b.DType.Name()}")).ToArray();
        Guard(() => ComputeKernels.ApplyOptimizer(K, kind, nesterov, v.DType, addresses, dtypes, v.Address, g.Address, s1, s2, s3, v.Length,
            flags?.Address ?? 0, flags?.Length ?? 0));
    }

    /// <inheritdoc/>
    public void Random(RandomDistribution dist, ulong seed, ulong counter, double a, double b, DeviceBuffer dst)
    {
        var d = B(dst, nameof(dst));
        if (d.Length > 0) Guard(() => ComputeKernels.Random(K, dist, d.DType, seed, counter, a, b, d.Address, d.Length));
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Staged through the host until NCCL is bound: the inputs are packed into <paramref name="staging"/> on the device,
    /// downloaded (a wait, the one exception to the stream contract here), summed over the group on the host, uploaded
    /// back and unpacked into the outputs in stream order.
    /// </remarks>
    public void AllReduce(IAllReduceGroup group, IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, DeviceBuffer staging)
    {
        ArgumentNullException.ThrowIfNull(group);
        var s = B(staging, nameof(staging));
        if (s.DType is not (DType.Float32 or DType.Float64))
            throw new NotSupportedException($"AllReduce sums float32 or float64 values, not {s.DType.Name()}");
        Guard(() =>
        {
            var size = (ulong)s.DType.SizeOf();
            var offset = 0UL;
            foreach (var x in inputs)
            {
                var xb = B(x, nameof(inputs));
                if (xb.Length > 0) _device.CopyDeviceToDevice(s.Address + offset * size, xb.Address, (ulong)xb.Length * size);
                offset += (ulong)xb.Length;
            }
            if (offset != (ulong)s.Length) throw new ArgumentException($"AllReduce staging holds {s.Length} elements, the inputs {offset}", nameof(staging));
            if (s.DType == DType.Float32)
            {
                var host = new float[s.Length];
                _memory.Download(s, host);
                group.Sum(host);
                _memory.Upload(host, s);
            }
            else
            {
                var host = new double[s.Length];
                _memory.Download(s, host);
                group.Sum(host);
                _memory.Upload(host, s);
            }
            offset = 0;
            foreach (var y in outputs)
            {
                var yb = B(y, nameof(outputs));
                if (yb.Length > 0) _device.CopyDeviceToDevice(yb.Address, s.Address + offset * size, (ulong)yb.Length * size);
                offset += (ulong)yb.Length;
            }
        });
    }

    /// <summary>Waits for queued work, frees every block (the caching allocator's Dispose), then disposes the device (context, handles, staging).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            _memory.Synchronize();
        }
        finally
        {
            try { DisposeConvolutions(); }
            finally
            {
                try { _memory.Dispose(); }
                finally { _device.Dispose(); }
            }
        }
    }
}
