namespace Nabla.Kernels.Cuda;

/// <summary>
/// A CUDA driver, cuBLAS or cuDNN call returned an error status. The message names the call and the
/// status, e.g. <c>cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)</c>.
/// </summary>
/// <remarks>
/// Nabla.Kernels cannot see the engine's <c>Nabla.DeviceException</c> (the engine references the kernels,
/// not the other way round), so this type derives from <see cref="Exception"/>; the engine wraps it in a
/// <c>DeviceException</c> where a CUDA call crosses into its public API (see <c>Device.Cuda</c>).
/// </remarks>
public class CudaException : Exception
{
    /// <summary>Creates the exception for a failed call.</summary>
    public CudaException(CudaLibrary library, string call, int code, string codeName)
        : base(Format(call, code, codeName))
    {
        Library = library;
        Call = call;
        Code = code;
        CodeName = codeName;
    }

    /// <summary>Creates the exception.</summary>
    public CudaException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public CudaException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public CudaException() { }

    /// <summary>The library whose call failed.</summary>
    public CudaLibrary Library { get; }

    /// <summary>The exported function that failed, e.g. <c>cuMemAlloc_v2</c>; null when no call was made.</summary>
    public string? Call { get; }

    /// <summary>The raw status (CUresult, cublasStatus_t or cudnnStatus_t); 0 when no call was made.</summary>
    public int Code { get; }

    /// <summary>The status's enumerator name, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>; null when no call was made.</summary>
    public string? CodeName { get; }

    /// <summary>The message of a failed call: <c>{call} failed: {name} ({code})</c>.</summary>
    public static string Format(string call, int code, string codeName) => $"{call} failed: {codeName} ({code})";
}

/// <summary>
/// None of the sonames of a CUDA library could be opened; the message lists every name tried, e.g.
/// <c>libcuda.so.1 not found; probed: libcuda.so.1, libcuda.so</c>, and for cuBLAS and cuDNN on Linux
/// says how to make libraries installed from pip wheels findable (<see cref="WheelHint"/>).
/// </summary>
public sealed class CudaLibraryNotFoundException : CudaException
{
    /// <summary>
    /// What the message of a missing cuBLAS or cuDNN adds on Linux. The pip wheels (nvidia-cublas,
    /// nvidia-cudnn-cu13, the ones PyTorch installs) put the libraries in site-packages folders that
    /// no loader searches; dlopen reads LD_LIBRARY_PATH once, when the process starts, so setting it
    /// from inside the process (Environment.SetEnvironmentVariable) does not help, and cuDNN's shim
    /// opens libcudnn_ops/_cnn/_graph by soname, so its folder must be on the path, not just named.
    /// </summary>
    public const string WheelHint =
        "cuBLAS and cuDNN installed from pip wheels are found only when their lib folders " +
        "(site-packages/nvidia/cu13/lib for CUDA 13's cuBLAS, nvidia/cublas/lib for CUDA 12's, nvidia/cudnn/lib) " +
        "are on LD_LIBRARY_PATH before the process starts";

    /// <summary>Creates the exception for a library whose candidates all failed to load.</summary>
    public CudaLibraryNotFoundException(CudaLibrary library, IReadOnlyList<string> probed)
        : this(library, probed, 0) { }

    /// <summary>
    /// Creates the exception for a library whose candidates all failed to load, under a driver
    /// reporting <paramref name="driverVersion"/> (0 when unknown; for cuBLAS, a pre-13 driver is named
    /// in the message because it is why cuBLAS 13 was not tried).
    /// </summary>
    internal CudaLibraryNotFoundException(CudaLibrary library, IReadOnlyList<string> probed, int driverVersion)
        : base(Describe(library, probed, driverVersion, OperatingSystem.IsWindows()))
    {
        MissingLibrary = library;
        Probed = probed;
    }

    /// <summary>Creates the exception.</summary>
    public CudaLibraryNotFoundException(string message) : base(message) => Probed = [];

    /// <summary>Creates the exception with a cause.</summary>
    public CudaLibraryNotFoundException(string message, Exception inner) : base(message, inner) => Probed = [];

    /// <summary>Creates the exception.</summary>
    public CudaLibraryNotFoundException() => Probed = [];

    /// <summary>The library that could not be loaded.</summary>
    public CudaLibrary MissingLibrary { get; }

    /// <summary>The names handed to dlopen (LoadLibrary on Windows), in order.</summary>
    public IReadOnlyList<string> Probed { get; }

    /// <summary>
    /// <c>{first} not found; probed: {all}</c>, then for cuBLAS under a pre-13 driver why cuBLAS 13 was
    /// not tried, and for cuBLAS and cuDNN on Linux the <see cref="WheelHint"/>.
    /// </summary>
    internal static string Describe(CudaLibrary library, IReadOnlyList<string> probed, int driverVersion, bool windows)
    {
        var text = probed.Count == 0 ? "no candidate names" : $"{probed[0]} not found; probed: {string.Join(", ", probed)}";
        if (library == CudaLibrary.Cublas && driverVersion > 0 && driverVersion < CudaLibraries.Cuda13DriverVersion)
            text += $" (cuBLAS 13 not tried: it needs a CUDA 13 driver, this one is CUDA {driverVersion / 1000}.{driverVersion % 1000 / 10})";
        if (library != CudaLibrary.Driver && !windows) text += ". " + WheelHint;
        return text;
    }
}
