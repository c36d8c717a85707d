using System.Runtime.InteropServices;

namespace Nabla.Kernels.Cuda;

/// <summary>A kernel entry point that an <see cref="IKernelLauncher"/> resolved (a CUfunction on a GPU).</summary>
/// <param name="Handle">The launcher's own handle (CUfunction, or an index into an emulator's table).</param>
/// <param name="Module">The module's name: an embedded PTX file's name, or a generated module's key.</param>
/// <param name="Entry">The <c>.visible .entry</c> name.</param>
internal readonly record struct KernelHandle(nint Handle, string Module, string Entry);

/// <summary>
/// Where the CUDA kernel families send their launches: the driver on a GPU (<see cref="CudaLauncher"/>),
/// or a PTX emulator in the tests. The families (<c>Cuda/Kernels/*.cs</c>) see only device addresses,
/// launch shapes and kernel parameters, so the same launch code runs on both.
/// </summary>
/// <remarks>
/// Launches are queued in call order on one stream. Device addresses are plain 64-bit numbers; the
/// families never dereference them on the host.
/// </remarks>
internal interface IKernelLauncher
{
    /// <summary>The entry <paramref name="entry"/> of embedded module <paramref name="module"/> (native/cuda/{module}.ptx), loaded once.</summary>
    KernelHandle Function(string module, string entry);

    /// <summary>
    /// The entry <paramref name="entry"/> of a generated module, identified by <paramref name="key"/>:
    /// <paramref name="ptx"/> is called (and its text JIT-compiled) only the first time the key is seen.
    /// </summary>
    KernelHandle Function(string key, Func<string> ptx, string entry);

    /// <summary>
    /// Queues <paramref name="function"/> as a grid of <paramref name="grid"/> blocks (x, y, z) of
    /// <paramref name="block"/> threads (1-D), with <paramref name="sharedBytes"/> bytes of dynamic shared memory.
    /// </summary>
    void Launch(KernelHandle function, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, KernelArgs args);
}

/// <summary>
/// The parameters of one launch, in the order of the kernel's <c>.param</c> list, each at its natural
/// alignment, as <c>cuLaunchKernel</c>'s <c>kernelParams</c> wants them (one pointer per parameter).
/// Arrays of small values (shapes, strides) go in as one byte-array parameter
/// (<c>.param .align 8 .b8 name[N]</c>) via <see cref="AddBytes"/>.
/// </summary>
internal sealed class KernelArgs
{
    private byte[] _data = new byte[128];
    private readonly List<(int Offset, int Size)> _params = [];
    private int _used;

    /// <summary>Number of parameters added.</summary>
    public int Count => _params.Count;

    /// <summary>Offset and size in bytes of parameter <paramref name="index"/> within <see cref="Data"/>.</summary>
    public (int Offset, int Size) this[int index] => _params[index];

    /// <summary>The packed parameter bytes (each parameter at its <see cref="this[int]"/> offset).</summary>
    public ReadOnlySpan<byte> Data => _data.AsSpan(0, _used);

    /// <summary>Adds a .u64/.s64 (a device address or a 64-bit count).</summary>
    public KernelArgs U64(ulong value) => Add(value, 8);

    /// <summary>Adds a .s64.</summary>
    public KernelArgs S64(long value) => Add(value, 8);

    /// <summary>Adds a .u32/.s32.</summary>
    public KernelArgs U32(uint value) => Add(value, 4);

    /// <summary>Adds a .s32.</summary>
    public KernelArgs S32(int value) => Add(value, 4);

    /// <summary>Adds a .f32.</summary>
    public KernelArgs F32(float value) => Add(value, 4);

    /// <summary>Adds a .f64.</summary>
    public KernelArgs F64(double value) => Add(value, 8);

    /// <summary>Adds one byte-array parameter holding <paramref name="values"/> (declare it <c>.param .align 8 .b8 p[8·n]</c> for longs).</summary>
    public KernelArgs AddBytes<T>(ReadOnlySpan<T> values, int alignment = 8) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values);
        var offset = Reserve(Math.Max(bytes.Length, 1), alignment);
        bytes.CopyTo(_data.AsSpan(offset));
        return this;
    }

    private KernelArgs Add<T>(T value, int size) where T : unmanaged
    {
        var offset = Reserve(size, size);
        MemoryMarshal.Write(_data.AsSpan(offset), in value);
        return this;
    }

    private int Reserve(int size, int alignment)
    {
        var offset = (_used + alignment - 1) / alignment * alignment;
        if (offset + size > _data.Length) Array.Resize(ref _data, Math.Max(_data.Length * 2, offset + size));
        _params.Add((offset, size));
        _used = offset + size;
        return offset;
    }
}

/// <summary>Launch-shape helpers shared by the kernel families.</summary>
internal static class LaunchShape
{
    /// <summary>Threads per block of the element-wise and grid-stride kernels.</summary>
    public const uint Block = 256;

    /// <summary>A 1-D grid for a grid-stride loop over <paramref name="n"/> items: enough blocks to cover n once, at most 65,535.</summary>
    public static (uint X, uint Y, uint Z) Grid(long n, uint block = Block) => ((uint)Math.Clamp((n + block - 1) / block, 1, 65_535), 1, 1);
}
