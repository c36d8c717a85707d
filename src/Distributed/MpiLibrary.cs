using System.Reflection;
using System.Runtime.InteropServices;

namespace Nabla.Distributed;

/// <summary>The two MPI ABIs the binding speaks.</summary>
public enum MpiAbi
{
    /// <summary>Open MPI (libmpi.so.40): handles are addresses of exported globals such as <c>ompi_mpi_comm_world</c>.</summary>
    OpenMpi,
    /// <summary>MPICH and its derivatives (libmpich.so.12, libmpi.so.12): handles are integer constants from mpi.h.</summary>
    Mpich,
}

/// <summary>
/// Finds and opens the MPI library once per process and resolves the handles of its ABI.
/// </summary>
/// <remarks>
/// The library is opened with <c>dlopen(RTLD_NOW | RTLD_GLOBAL)</c>, as mpi4py does: Open MPI loads its
/// transport components as plugins that expect libmpi's symbols to be global. Candidates, in order:
/// <c>$NABLA_MPI_LIBRARY</c> alone when set, else libmpi.so.40 (Open MPI 3–5), libmpich.so.12 and libmpi.so.12 (MPICH).
/// The MPICH constants are MPICH's mpi.h values (unchanged since MPICH 3.0); both ABIs are tested
/// (Open MPI 4.1.4, MPICH 4.0.2).
/// </remarks>
internal static class MpiLibrary
{
    internal const string LogicalName = "mpi";

    private static readonly Lock s_gate = new();
    private static bool s_resolverRegistered;
    private static Loaded? s_loaded;

    internal sealed record Loaded(nint Handle, string Name, MpiAbi Abi, nint CommWorld, nint Float, nint Double, nint Byte,
        nint OpSum, nint OpMax, nint ErrorsReturn, nint InPlace);

    /// <summary>The sonames tried, in order.</summary>
    internal static IReadOnlyList<string> Candidates()
    {
        // An explicit choice is the only one tried: a wrong path fails instead of silently using another MPI.
        if (Environment.GetEnvironmentVariable("NABLA_MPI_LIBRARY") is { Length: > 0 } explicitPath) return [explicitPath];
        return OperatingSystem.IsWindows() ? ["msmpi.dll"] : ["libmpi.so.40", "libmpich.so.12", "libmpi.so.12"];
    }

    /// <summary>True when an MPI library can be opened (nothing is initialised).</summary>
    internal static bool IsAvailable()
    {
        try
        {
            Load();
            return true;
        }
        catch (MpiLibraryNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Opens the library (once) and resolves its handles.</summary>
    /// <exception cref="MpiLibraryNotFoundException">No candidate could be opened, or it is not an MPI library this binding knows.</exception>
    internal static Loaded Load()
    {
        lock (s_gate)
        {
            if (s_loaded is not null) return s_loaded;
            s_loaded = Open(Candidates());
            RegisterResolver();
            return s_loaded;
        }
    }

    /// <summary>Opens the first of <paramref name="candidates"/> that loads and resolves its ABI (no caching).</summary>
    /// <exception cref="MpiLibraryNotFoundException">None could be opened.</exception>
    internal static Loaded Open(IReadOnlyList<string> candidates)
    {
        if (OperatingSystem.IsWindows()) throw new MpiLibraryNotFoundException("MS-MPI (msmpi.dll) uses another ABI that this binding does not speak; run on Linux with Open MPI or MPICH");
        foreach (var name in candidates)
        {
            var handle = LibDl.DlOpen(name, LibDl.RtldNow | LibDl.RtldGlobal);
            if (handle != 0) return Resolve(handle, name);
        }
        throw new MpiLibraryNotFoundException(candidates);
    }

    private static Loaded Resolve(nint handle, string name)
    {
        if (NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out var world))
        {
            nint Export(string symbol) => NativeLibrary.TryGetExport(handle, symbol, out var address)
                ? address
                : throw new MpiLibraryNotFoundException($"{name} looks like Open MPI but does not export {symbol}");
            return new Loaded(handle, name, MpiAbi.OpenMpi, world, Export("ompi_mpi_float"), Export("ompi_mpi_double"), Export("ompi_mpi_byte"),
                Export("ompi_mpi_op_sum"), Export("ompi_mpi_op_max"), Export("ompi_mpi_errors_return"), 1);
        }
        if (!NativeLibrary.TryGetExport(handle, "MPI_Init_thread", out _))
            throw new MpiLibraryNotFoundException($"{name} opened but exports no MPI_Init_thread: not an MPI library");
        // MPICH mpi.h: MPI_COMM_WORLD, MPI_FLOAT, MPI_DOUBLE, MPI_BYTE, MPI_SUM, MPI_MAX, MPI_ERRORS_RETURN, MPI_IN_PLACE.
        return new Loaded(handle, name, MpiAbi.Mpich, 0x44000000, 0x4c00040a, 0x4c00080b, 0x4c00010d,
            0x58000003, 0x58000001, 0x54000001, -1);
    }

    /// <summary>Throws <see cref="CollectiveException"/> naming <paramref name="call"/> and MPI's error text unless <paramref name="code"/> is MPI_SUCCESS.</summary>
    internal static void Check(int code, string call)
    {
        if (code != 0) throw new CollectiveException($"{call} failed: {ErrorString(code)} (MPI error {code})");
    }

    private static unsafe string ErrorString(int code)
    {
        var text = stackalloc byte[512]; // MPI_MAX_ERROR_STRING is 256 in Open MPI, 512 in MPICH
        return MpiNative.MPI_Error_string(code, text, out var length) == 0 ? System.Text.Encoding.UTF8.GetString(text, Math.Clamp(length, 0, 511)) : "unknown error";
    }

    internal static void RegisterResolver()
    {
        lock (s_gate)
        {
            if (s_resolverRegistered) return;
            NativeLibrary.SetDllImportResolver(typeof(MpiLibrary).Assembly, ResolveImport);
            s_resolverRegistered = true;
        }
    }

    private static nint ResolveImport(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == LogicalName ? Load().Handle : 0;
}
