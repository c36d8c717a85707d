namespace Nabla;

/// <summary>The CPU kernels' threading, for the layers assembly (which does not see <c>Nabla.Kernels</c>' internals).</summary>
internal static class CpuKernelThreads
{
    /// <summary>
    /// Until disposed, the parallel loops of the CPU kernels started on this thread run on it alone
    /// (<see cref="Nabla.Kernels.KernelThreads.Inline"/>): for replicas that already occupy every core.
    /// </summary>
    public static IDisposable OnThisThreadOnly() => Nabla.Kernels.KernelThreads.Inline();
}
