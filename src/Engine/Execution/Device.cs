using Nabla.Kernels;
using Nabla.Kernels.Cpu;
using Nabla.Kernels.Reference;

namespace Nabla;

/// <summary>Where a session runs its kernels.</summary>
public abstract class Device
{
    /// <summary>The float32 CPU backend (SIMD kernels, blocked GEMM).</summary>
    public static Device Cpu { get; } = new HostDevice("cpu", static () => new CpuBackend());

    /// <summary>The float64 oracle backend (simple loops, MathNet).</summary>
    public static Device Reference { get; } = new HostDevice("reference", static () => new ReferenceBackend());

    /// <summary>Name ("cpu", "reference").</summary>
    public abstract string Name { get; }

    internal abstract IBackend CreateBackend();

    /// <inheritdoc/>
    public override string ToString() => Name;

    private sealed class HostDevice(string name, Func<IBackend> factory) : Device
    {
        public override string Name => name;

        internal override IBackend CreateBackend() => factory();
    }
}
