namespace Nabla.Kernels.Cuda;

/// <summary>
/// <see cref="IKernelLauncher"/> on the CUDA driver: modules are JIT-compiled once per context (on first
/// use) and launches go to one stream. The context must be current on the calling thread.
/// </summary>
internal sealed unsafe class CudaLauncher : IKernelLauncher, IDisposable
{
    private readonly Dictionary<string, CudaModule> _modules = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Module, string Entry), KernelHandle> _functions = new();

    /// <summary>A launcher that queues on <paramref name="stream"/>.</summary>
    public CudaLauncher(nint stream) => Stream = stream;

    /// <summary>The CUstream launches are queued on.</summary>
    public nint Stream { get; }

    /// <summary>Modules loaded so far (embedded and generated).</summary>
    public int ModuleCount => _modules.Count;

    public KernelHandle Function(string module, string entry) =>
        Resolve(module, entry, () => CudaModule.Load(module));

    public KernelHandle Function(string key, Func<string> ptx, string entry) =>
        Resolve(key, entry, () => CudaModule.LoadText(key, ptx()));

    private KernelHandle Resolve(string module, string entry, Func<CudaModule> load)
    {
        if (_functions.TryGetValue((module, entry), out var handle)) return handle;
        if (!_modules.TryGetValue(module, out var loaded))
        {
            loaded = load();
            _modules.Add(module, loaded);
        }
        handle = new KernelHandle(loaded.Function(entry), module, entry);
        _functions.Add((module, entry), handle);
        return handle;
    }

    public void Launch(KernelHandle function, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, KernelArgs args)
    {
        var data = args.Data;
        var pointers = stackalloc void*[Math.Max(args.Count, 1)];
        fixed (byte* p = data)
        {
            for (var i = 0; i < args.Count; i++) pointers[i] = p + args[i].Offset;
            CuDriver.Check(CuDriver.cuLaunchKernel(function.Handle, grid.X, grid.Y, grid.Z, block, 1, 1, sharedBytes, Stream, pointers, null),
                $"{nameof(CuDriver.cuLaunchKernel)}('{function.Module}:{function.Entry}', grid ({grid.X},{grid.Y},{grid.Z}), block {block})");
        }
    }

    /// <summary>Unloads every module; the first driver error is thrown after all were tried.</summary>
    public void Dispose()
    {
        List<Exception>? errors = null;
        foreach (var module in _modules.Values)
        {
            try { module.Dispose(); }
            catch (CudaException e) { (errors ??= []).Add(e); }
        }
        _modules.Clear();
        _functions.Clear();
        if (errors is not null) throw errors.Count == 1 ? errors[0] : new AggregateException("unloading CUDA modules failed", errors);
    }
}
