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

    /// <summary>The sonames tried for <paramref name="library"/> on this OS, in order.</summary>
    internal static IReadOnlyList<string> Candidates(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"],
        // cuBLAS 13 ships with CUDA 13, 12 with CUDA 12; the v2 API used here is the same in both.
        CudaLibrary.Cublas => OperatingSystem.IsWindows()
            ? ["cublas64_13.dll", "cublas64_12.dll"]
            : ["libcublas.so.13", "libcublas.so.12", "libcublas.so"],
        CudaLibrary.Cudnn => OperatingSystem.IsWindows() ? ["cudnn64_9.dll"] : ["libcudnn.so.9", "libcudnn.so"],
        _ => throw new ArgumentOutOfRangeException(nameof(library), library, null),
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
            var candidates = Candidates(library);
            if (!TryLoadFirst(candidates, out var handle, out var name))
                throw new CudaLibraryNotFoundException(library, candidates);
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
