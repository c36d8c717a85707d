using System.Runtime.InteropServices;

namespace Nabla.Distributed;

/// <summary>
/// Thin bindings to the MPI C API (MPI-3.1), resolved through <see cref="MpiLibrary"/>. Every function
/// returns an MPI error code; callers pass it through <see cref="MpiLibrary.Check"/>.
/// </summary>
/// <remarks>
/// Handles (MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler) are passed as <c>nint</c>: in Open MPI they
/// are pointers to exported globals, in MPICH 32-bit integer constants, which the x86-64 and AArch64
/// calling conventions pass in the low half of the same register. Counts are C <c>int</c>.
/// </remarks>
internal static unsafe partial class MpiNative
{
#pragma warning disable CA1810 // an explicit static constructor is what guarantees the resolver is installed before a P/Invoke
    static MpiNative() => MpiLibrary.RegisterResolver();
#pragma warning restore CA1810

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Initialized(out int flag);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Finalized(out int flag);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Init_thread(nint argc, nint argv, int required, out int provided);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Finalize();

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Abort(nint comm, int errorcode);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Comm_rank(nint comm, out int rank);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Comm_size(nint comm, out int size);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Comm_set_errhandler(nint comm, nint errhandler);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Allreduce(void* sendbuf, void* recvbuf, int count, nint datatype, nint op, nint comm);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Bcast(void* buffer, int count, nint datatype, int root, nint comm);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Allgather(void* sendbuf, int sendcount, nint sendtype, void* recvbuf, int recvcount, nint recvtype, nint comm);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Barrier(nint comm);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Error_string(int errorcode, byte* text, out int resultlen);

    [LibraryImport(MpiLibrary.LogicalName)]
    internal static partial int MPI_Get_library_version(byte* version, out int resultlen);
}

/// <summary>dlopen from the C library: MPI must be opened with RTLD_GLOBAL (see <see cref="MpiLibrary"/>).</summary>
internal static partial class LibDl
{
    internal const int RtldNow = 0x2, RtldGlobal = 0x100;

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint DlOpen(string fileName, int flags);
}
