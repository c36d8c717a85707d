using System.Reflection;
using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

/// <summary>The three NVIDIA libraries the CUDA bindings call.</summary>
public enum CudaLibrary
{
    /// <summary>The driver API (libcuda), installed with the NVIDIA driver.</summary>
    Driver,
    /// <summary>cuBLAS (libcublas), from the CUDA toolkit or the nvidia-cublas wheel.</summary>
    Cublas,
    /// <summary>cuDNN 9 (libcudnn, the shim that loads libcudnn_ops/_cnn/_graph).</summary>
    Cudnn,
}

/// <summary>
/// Lazy loading of libcuda, libcublas and libcudnn. The bindings are written as
/// <c>[LibraryImport("cuda")]</c> (and "cublas", "cudnn"); a <see cref="DllImportResolver"/> on this
/// assembly maps those logical names to the handle this class loaded, so nothing native is opened
/// until a CUDA device is requested, and a missing library is reported with every name that was tried.
/// </summary>
/// <remarks>
/// Candidates are bare sonames handed to <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/>, which
/// calls dlopen and therefore honours LD_LIBRARY_PATH, the ld.so cache and RUNPATH, exactly as a C
/// program linked against the library would. The versioned soname comes first because the unversioned
/// <c>libcuda.so</c> symlink ships only with development packages (and in the toolkit as a stub that
/// fails cuInit with CUDA_ERROR_STUB_LIBRARY).
/// </remarks>
internal static class CudaLibraries
{
    /// <summary>Logical names used in the <c>[LibraryImport]</c> attributes.</summary>
    internal const string DriverName = "cuda", CublasName = "cublas", CudnnName = "cudnn";

    private static readonly Lock s_gate = new();
    private static readonly Dictionary<CudaLibrary, (IntPtr Handle, string Name)> s_loaded = [];
    private static bool s_resolverRegistered;

    /// <summary>
    /// The first CUDA driver version (<c>cuDriverGetVersion</c>: 1000·major + 10·minor) under which
    /// cuBLAS 13 is tried: the CUDA 13 libraries need a CUDA 13 driver.
    /// </summary>
    internal const int Cuda13DriverVersion = 13000;

    /// <summary>
    /// The sonames tried for <paramref name="library"/> on this OS, in order. <paramref name="driverVersion"/>
    /// (what <c>cuDriverGetVersion</c> reported, 0 when unknown) matters for cuBLAS only; see <see cref="CublasCandidates"/>.
    /// </summary>
    internal static IReadOnlyList<string> Candidates(CudaLibrary library, int driverVersion) => library switch
    {
        CudaLibrary.Driver => OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"],
        CudaLibrary.Cublas => CublasCandidates(driverVersion, OperatingSystem.IsWindows()),
        CudaLibrary.Cudnn => OperatingSystem.IsWindows() ? ["cudnn64_9.dll"] : ["libcudnn.so.9", "libcudnn.so"],
        _ => throw new ArgumentOutOfRangeException(nameof(library), library, null),
    };

    /// <summary>
    /// The cuBLAS major a driver of <paramref name="driverVersion"/> can run: 13 for a CUDA 13 (or newer)
    /// driver, else 12 (also when the version is unknown, 0).
    /// </summary>
    internal static int CublasMajor(int driverVersion) => driverVersion >= Cuda13DriverVersion ? 13 : 12;

    /// <summary>
    /// The cuBLAS sonames to try under a driver reporting <paramref name="driverVersion"/>. The v2 API
    /// bound here is the same in cuBLAS 12 and 13, so either serves, but cuBLAS 13 needs a CUDA 13
    /// driver: under one it comes first, then 12 (a machine with only the CUDA 12 toolkit); under an
    /// older driver it is not tried at all, since it would load and then fail at cublasCreate with a
    /// less telling status. The unversioned development symlink comes last.
    /// </summary>
    internal static IReadOnlyList<string> CublasCandidates(int driverVersion, bool windows) =>
        (CublasMajor(driverVersion), windows) switch
        {
            (13, false) => ["libcublas.so.13", "libcublas.so.12", "libcublas.so"],
            (_, false) => ["libcublas.so.12", "libcublas.so"],
            (13, true) => ["cublas64_13.dll", "cublas64_12.dll"],
            (_, true) => ["cublas64_12.dll"],
        };

    /// <summary>
    /// Tries each candidate in order; returns the first handle that opened and its name.
    /// </summary>
    internal static bool TryLoadFirst(IReadOnlyList<string> candidates, out IntPtr handle, out string? loadedName)
    {
        foreach (var name in candidates)
        {
            if (NativeLibrary.TryLoad(name, out handle))
            {
                loadedName = name;
                return true;
            }
        }
        handle = IntPtr.Zero;
        loadedName = null;
        return false;
    }

    /// <summary>
    /// Looks up each of <paramref name="symbols"/> in order in the library behind <paramref name="handle"/>;
    /// returns the first that is exported, with its address. For entry points that a newer header
    /// renamed (cuEventElapsedTime → cuEventElapsedTime_v2), where the new name must be preferred and
    /// the old one kept for older drivers.
    /// </summary>
    internal static bool TryGetFirstExport(IntPtr handle, IReadOnlyList<string> symbols, out IntPtr address, out string? symbol)
    {
        foreach (var name in symbols)
        {
            if (NativeLibrary.TryGetExport(handle, name, out address))
            {
                symbol = name;
                return true;
            }
        }
        address = IntPtr.Zero;
        symbol = null;
        return false;
    }

    /// <summary>True once <paramref name="library"/> has been loaded by this process.</summary>
    internal static bool IsLoaded(CudaLibrary library)
    {
        lock (s_gate) return s_loaded.ContainsKey(library);
    }

    /// <summary>The candidate name that opened <paramref name="library"/>, or null if it is not loaded.</summary>
    internal static string? LoadedName(CudaLibrary library)
    {
        lock (s_gate) return s_loaded.TryGetValue(library, out var l) ? l.Name : null;
    }

    /// <summary>
    /// Loads <paramref name="library"/> (once) and installs the import resolver, so that the
    /// <c>[LibraryImport]</c> bindings of that library can be called afterwards.
    /// </summary>
    /// <exception cref="CudaLibraryNotFoundException">No candidate could be opened.</exception>
    internal static IntPtr Load(CudaLibrary library)
    {
        lock (s_gate)
        {
            if (s_loaded.TryGetValue(library, out var existing)) return existing.Handle;
        }
        // cuBLAS's candidates depend on the driver's version. Probed outside the gate: the probe loads
        // the driver through this method. Without a driver the version is 0: cuBLAS 12 only.
        var driverVersion = library == CudaLibrary.Cublas ? CudaDriver.Probe().DriverVersion : 0;
        var candidates = Candidates(library, driverVersion);
        lock (s_gate)
        {
            if (s_loaded.TryGetValue(library, out var existing)) return existing.Handle;
            if (!TryLoadFirst(candidates, out var handle, out var name))
                throw new CudaLibraryNotFoundException(library, candidates, driverVersion);
            s_loaded[library] = (handle, name!);
            RegisterResolver();
            return handle;
        }
    }

    /// <summary>
    /// Installs the resolver for this assembly. Called from <see cref="Load"/> and from the static
    /// constructors of the binding classes, so a binding can never be resolved by the default probing
    /// (which would look for "libcuda.so", the development symlink, and miss "libcuda.so.1").
    /// </summary>
    internal static void RegisterResolver()
    {
        lock (s_gate)
        {
            if (s_resolverRegistered) return;
            // One resolver per assembly is allowed; Nabla.Kernels has no other native imports.
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
            s_resolverRegistered = true;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        CudaLibrary? library = name switch
        {
            DriverName => CudaLibrary.Driver,
            CublasName => CudaLibrary.Cublas,
            CudnnName => CudaLibrary.Cudnn,
            _ => null,
        };
        // Zero hands an unknown name back to the runtime's default probing.
        if (library is null) return IntPtr.Zero;
        // A binding called before its library was loaded: load it now, and let a missing library
        // surface as CudaLibraryNotFoundException rather than the runtime's DllNotFoundException.
        return Load(library.Value);
    }
}
