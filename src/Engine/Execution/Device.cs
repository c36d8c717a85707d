using Nabla.Kernels;
using Nabla.Kernels.Cpu;
using Nabla.Kernels.Cuda;
using Nabla.Kernels.Reference;

namespace Nabla;

/// <summary>Where a session runs its kernels.</summary>
public abstract class Device
{
    /// <summary>The float32 CPU backend (SIMD kernels, blocked GEMM).</summary>
    public static Device Cpu { get; } = new HostDevice("cpu", static o => new CpuBackend(o.Deterministic) { FusedCodegen = o.FusedCodegen });

    /// <summary>The float64 oracle backend (simple loops, MathNet).</summary>
    public static Device Reference { get; } = new HostDevice("reference", static _ => new ReferenceBackend());

    /// <summary>
    /// True when a CUDA driver is installed, initialises, and reports at least one device. Probes once
    /// per process (loading libcuda if present); never throws.
    /// </summary>
    public static bool CudaAvailable => CudaDriver.Probe().Available;

    /// <summary>
    /// What the CUDA driver reports: its version and device count, or why CUDA is unavailable
    /// (version 0, no devices and a reason on a machine without the NVIDIA driver). Never throws.
    /// </summary>
    public static CudaDriverInfo CudaInfo => CudaDriver.Probe();

    /// <summary>The CUDA device with the given ordinal (0 = first visible device).</summary>
    /// <remarks>
    /// Each session on it gets its own stream, caching allocator, cuBLAS and cuDNN handles (<c>CudaBackend</c>). Float32
    /// products stay in float32 unless <see cref="SessionOptions.AllowTf32"/> is set. Not yet run on hardware: this
    /// build's CUDA backend is tested on a PTX emulator only (see the README).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is negative.</exception>
    /// <exception cref="DeviceException">No CUDA driver or no such device, e.g. <c>CUDA device 0 is unavailable: no CUDA driver
    /// (libcuda.so.1 not found; probed: libcuda.so.1, libcuda.so). Use Device.Cpu, or install the NVIDIA driver.</c></exception>
    public static Device Cuda(int ordinal = 0) => CudaDevices.Open(ordinal);

    /// <summary>Name ("cpu", "reference", "cuda:0").</summary>
    public abstract string Name { get; }

    /// <summary>A backend for one session, configured by its options.</summary>
    internal abstract IBackend CreateBackend(SessionOptions options);

    /// <inheritdoc/>
    public override string ToString() => Name;

    private sealed class HostDevice(string name, Func<SessionOptions, IBackend> factory) : Device
    {
        public override string Name => name;

        internal override IBackend CreateBackend(SessionOptions options) => factory(options);
    }
}
