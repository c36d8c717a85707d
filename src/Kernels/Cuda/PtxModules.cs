using System.Text;

namespace Nabla.Kernels.Cuda;

/// <summary>
/// The hand-written PTX files of native/cuda, embedded in this assembly as
/// <c>Nabla.Kernels.Ptx.{file}.ptx</c> (see Nabla.Kernels.csproj), and loading them into a context.
/// The driver JIT-compiles PTX for the current device on <c>cuModuleLoadData</c>, so no CUDA toolkit
/// is needed at build or run time.
/// </summary>
internal static class PtxModules
{
    /// <summary>
    /// The PTX ISA every module declares (<c>.version</c>): 8.0 is CUDA 12.0's, so any CUDA 12 or 13
    /// driver JIT-compiles the modules. Raise it only for an instruction that needs a newer ISA.
    /// </summary>
    internal const string IsaVersion = "8.0";

    /// <summary>
    /// The virtual architecture every module declares (<c>.target</c>): sm_75 (Turing), the oldest
    /// that CUDA 13 still supports, so the same text loads on every GPU a CUDA 13 driver runs (the
    /// driver compiles PTX of a lower target for the device it has). The kernels use nothing newer;
    /// a kernel that needs sm_90 features (wgmma, TMA, clusters) would get a module of its own.
    /// </summary>
    internal const string Target = "sm_75";

    /// <summary>Manifest resource prefix given by the csproj's LogicalName.</summary>
    internal const string ResourcePrefix = "Nabla.Kernels.Ptx.";

    private const string Suffix = ".ptx";

    /// <summary>Module names (file names without .ptx), sorted, e.g. "binary", "cast", "fill", "unary".</summary>
    internal static IReadOnlyList<string> Names { get; } = typeof(PtxModules).Assembly.GetManifestResourceNames()
        .Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal) && r.EndsWith(Suffix, StringComparison.Ordinal))
        .Select(r => r[ResourcePrefix.Length..^Suffix.Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>The PTX text of module <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No module has that name; the message lists those that exist.</exception>
    internal static string Read(string name) => Encoding.UTF8.GetString(ReadBytes(name));

    /// <summary>The PTX bytes followed by a NUL, as <c>cuModuleLoadData</c> expects of a text image.</summary>
    internal static byte[] ReadNullTerminated(string name)
    {
        var bytes = ReadBytes(name);
        var image = new byte[bytes.Length + 1];
        bytes.CopyTo(image, 0);
        return image;
    }

    private static byte[] ReadBytes(string name)
    {
        using var stream = typeof(PtxModules).Assembly.GetManifestResourceStream(ResourcePrefix + name + Suffix)
            ?? throw new ArgumentException($"No PTX module '{name}'; embedded modules: {string.Join(", ", Names)}.", nameof(name));
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}

/// <summary>A loaded PTX module; unloaded on dispose. Its context must be current when it is used.</summary>
internal sealed unsafe class CudaModule : IDisposable
{
    private nint _module;

    private CudaModule(string name, nint module)
    {
        Name = name;
        _module = module;
    }

    /// <summary>The module's name in <see cref="PtxModules.Names"/>.</summary>
    public string Name { get; }

    /// <summary>JIT-compiles embedded module <paramref name="name"/> in the current context.</summary>
    /// <exception cref="CudaException">The driver rejected the PTX (CUDA_ERROR_INVALID_PTX, _UNSUPPORTED_PTX_VERSION, ...).</exception>
    public static CudaModule Load(string name)
    {
        var image = PtxModules.ReadNullTerminated(name);
        nint module;
        fixed (byte* p = image)
            CuDriver.Check(CuDriver.cuModuleLoadData(out module, p), nameof(CuDriver.cuModuleLoadData) + $"('{name}.ptx')");
        return new CudaModule(name, module);
    }

    /// <summary>JIT-compiles generated PTX <paramref name="text"/> in the current context, as module <paramref name="name"/>.</summary>
    /// <exception cref="CudaException">The driver rejected the PTX.</exception>
    public static CudaModule LoadText(string name, string text)
    {
        var image = Encoding.UTF8.GetBytes(text + "\0");
        nint module;
        fixed (byte* p = image)
            CuDriver.Check(CuDriver.cuModuleLoadData(out module, p), nameof(CuDriver.cuModuleLoadData) + $"(generated '{name}')");
        return new CudaModule(name, module);
    }

    /// <summary>The CUfunction of the <c>.visible .entry</c> named <paramref name="entry"/>.</summary>
    public nint Function(string entry)
    {
        ObjectDisposedException.ThrowIf(_module == 0, this);
        var bytes = Encoding.UTF8.GetBytes(entry + "\0");
        nint function;
        fixed (byte* p = bytes)
            CuDriver.Check(CuDriver.cuModuleGetFunction(out function, _module, p), nameof(CuDriver.cuModuleGetFunction) + $"('{entry}')");
        return function;
    }

    /// <summary>
    /// Launches <paramref name="function"/> as a 1-D grid of <paramref name="grid"/> blocks of
    /// <paramref name="block"/> threads on <paramref name="stream"/>. <paramref name="args"/> holds one
    /// pointer per kernel parameter, each to a value of that parameter's exact size.
    /// </summary>
    public static void Launch(nint function, uint grid, uint block, nint stream, void** args) =>
        CuDriver.Check(CuDriver.cuLaunchKernel(function, grid, 1, 1, block, 1, 1, 0, stream, args, null), nameof(CuDriver.cuLaunchKernel));

    /// <summary>
    /// Blocks for a grid-stride kernel over <paramref name="n"/> elements with <paramref name="block"/>
    /// threads each: enough to cover n once, capped at 65,535 because each thread loops past the grid.
    /// </summary>
    public static uint GridFor(long n, uint block = 256) => (uint)Math.Clamp((n + block - 1) / block, 1, 65_535);

    /// <summary>Unloads the module; a driver error is thrown.</summary>
    public void Dispose()
    {
        if (_module == 0) return;
        var module = _module;
        _module = 0;
        CuDriver.Check(CuDriver.cuModuleUnload(module), nameof(CuDriver.cuModuleUnload));
    }
}
