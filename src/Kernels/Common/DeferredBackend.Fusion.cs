namespace Nabla.Kernels;

public sealed partial class DeferredBackend
{
    /// <inheritdoc/>
    public bool SupportsFusion => _inner.SupportsFusion;

    /// <inheritdoc/>
    public void Fused(FusedProgram program, ReadOnlySpan<DeviceBuffer> inputs, ReadOnlySpan<DeviceBuffer> outputs, ReadOnlySpan<ulong> counters)
    {
        // The caller may reuse its argument arrays for the next launch: queue copies.
        DeviceBuffer[] i = inputs.ToArray(), o = outputs.ToArray();
        var c = counters.ToArray();
        Enqueue(() => _inner.Fused(program, i, o, c));
    }
}
