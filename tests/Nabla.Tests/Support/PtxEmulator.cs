using Nabla.Kernels.Cuda;

namespace Nabla.Tests.Support;

/// <summary>
/// A PTX interpreter that stands in for the GPU in the tests: <see cref="IKernelLauncher"/> over
/// emulated global memory (<see cref="Memory"/>). Modules are parsed once (embedded native/cuda files by
/// name, generated text by key); launches run synchronously on the calling thread.
/// </summary>
/// <remarks>
/// The emulator is the oracle for kernels written without a GPU, so it is strict where the hardware
/// would fault or the ISA leaves results undefined: out-of-bounds and misaligned accesses, reads of
/// inactive lanes in shfl, barrier deadlocks, integer division by zero, parameter lists that do not
/// match the kernel, and more than 48 KiB of shared memory (the default limit without opt-in) all
/// throw <see cref="PtxEmulatorException"/>; unsupported PTX throws <see cref="NotSupportedException"/>
/// when the module is parsed. What it does not model: the memory model (threads of a block run one at
/// a time between synchronisation points, so data races are invisible and atomics are trivially
/// atomic), timing, and the few-ulp error of the hardware's .approx functions (computed accurately here).
/// </remarks>
internal sealed class PtxEmulator : IKernelLauncher
{
    /// <summary>Shared memory a block may use without cuFuncSetAttribute opt-in.</summary>
    public const int MaxSharedBytes = 48 * 1024;

    private readonly Dictionary<string, PtxModule> _modules = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Module, string Entry), KernelHandle> _handles = [];
    private readonly List<(string Module, PtxKernel Kernel)> _functions = [];

    /// <summary>Emulated global memory.</summary>
    public PtxMemory Memory { get; } = new();

    /// <summary>Instructions one launch may execute before it is declared an endless loop.</summary>
    public long InstructionBudget { get; set; } = 1_000_000_000;

    /// <summary>
    /// Whether plain shared-memory accesses are checked for data races between barriers (default on): a
    /// read of a byte another thread wrote since the last barrier, or a write of a byte another thread read
    /// or wrote, throws. Turn off only to study a kernel that races on purpose.
    /// </summary>
    public bool SharedRaceCheck { get; set; } = true;

    /// <summary>
    /// Whether plain global stores are checked for write-write races (default on): a store that changes a
    /// byte another thread wrote earlier in the same launch, from another block or with no barrier between,
    /// throws; such accumulations need atom/red.
    /// </summary>
    public bool GlobalRaceCheck { get; set; } = true;

    /// <summary>Launches run so far.</summary>
    public int Launches { get; private set; }

    /// <summary>Instructions executed by all launches so far.</summary>
    public long InstructionsExecuted { get; private set; }

    /// <summary>Modules parsed so far (embedded and generated).</summary>
    public int ModuleCount => _modules.Count;

    /// <inheritdoc/>
    public KernelHandle Function(string module, string entry) => Resolve(module, entry, () => PtxModules.Read(module));

    /// <inheritdoc/>
    public KernelHandle Function(string key, Func<string> ptx, string entry) => Resolve(key, entry, ptx);

    /// <summary>Parses <paramref name="text"/> as module <paramref name="name"/> (for tests that only check parsing).</summary>
    public static PtxModule Parse(string name, string text) => PtxParser.Parse(name, text);

    private KernelHandle Resolve(string module, string entry, Func<string> text)
    {
        if (_handles.TryGetValue((module, entry), out var handle)) return handle;
        if (!_modules.TryGetValue(module, out var parsed))
        {
            parsed = PtxParser.Parse(module, text());
            _modules.Add(module, parsed);
        }
        if (!parsed.Kernels.TryGetValue(entry, out var kernel))
            throw new PtxEmulatorException($"module '{module}' has no entry '{entry}' (it has: {string.Join(", ", parsed.Kernels.Keys)})");
        _functions.Add((module, kernel));
        handle = new KernelHandle(_functions.Count - 1, module, entry);
        _handles.Add((module, entry), handle);
        return handle;
    }

    /// <inheritdoc/>
    public void Launch(KernelHandle function, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, KernelArgs args)
    {
        if (function.Handle < 0 || function.Handle >= _functions.Count || _functions[(int)function.Handle].Kernel.Name != function.Entry)
            throw new PtxEmulatorException($"launch of {function.Module}:{function.Entry} with a handle this emulator did not issue");
        var (module, kernel) = _functions[(int)function.Handle];
        var what = $"launch of {module}:{kernel.Name}";
        if (block is 0 or > 1024) throw new PtxEmulatorException($"{what}: block of {block} threads (1..1024)");
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0 || grid.X > int.MaxValue || grid.Y > 65_535 || grid.Z > 65_535)
            throw new PtxEmulatorException($"{what}: invalid grid ({grid.X},{grid.Y},{grid.Z})");
        if ((long)kernel.DynamicSharedOffset + sharedBytes > MaxSharedBytes)
            throw new PtxEmulatorException($"{what}: {kernel.StaticSharedBytes} static + {sharedBytes} dynamic shared bytes exceed {MaxSharedBytes} (more needs cuFuncSetAttribute)");
        var param = PackParameters(what, kernel, args);
        var run = new PtxExecution(module, kernel, Memory, grid, block, sharedBytes, param, InstructionBudget) { RaceCheck = SharedRaceCheck, GlobalRaceCheck = GlobalRaceCheck };
        Launches++; // counted before running: a launch that faults was still made
        try
        {
            run.Run();
        }
        finally
        {
            InstructionsExecuted += run.Executed;
        }
    }

    /// <summary>
    /// Copies each argument into the kernel's parameter layout. As with cuLaunchKernel's kernelParams,
    /// the kernel's declaration decides each parameter's offset; the count and each size must match.
    /// </summary>
    private static byte[] PackParameters(string what, PtxKernel kernel, KernelArgs args)
    {
        if (args.Count != kernel.Params.Length)
            throw new PtxEmulatorException($"{what}: {args.Count} argument(s) for {kernel.Params.Length} parameter(s) ({Describe(kernel)})");
        var param = new byte[kernel.ParamBytes];
        var data = args.Data;
        for (var p = 0; p < args.Count; p++)
        {
            var (offset, size) = args[p];
            var declared = kernel.Params[p];
            if (size != declared.Size)
                throw new PtxEmulatorException($"{what}: argument {p} has {size} bytes but parameter '{declared.Name}' (.{PtxTypes.Name(declared.Type)}) has {declared.Size} ({Describe(kernel)})");
            data.Slice(offset, size).CopyTo(param.AsSpan(declared.Offset));
        }
        return param;
    }

    private static string Describe(PtxKernel k) =>
        string.Join(", ", k.Params.Select(p => $"{p.Name}: {p.Size} bytes"));
}
