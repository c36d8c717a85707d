namespace Nabla.Kernels.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    /// <remarks>The same vector kernels as <see cref="Unary"/>, and the same C-library fallback in deterministic mode.</remarks>
    protected override void FusedUnaryFloat(UnaryOp op, ReadOnlySpan<float> x, Span<float> y)
    {
        if (Deterministic && CpuUnary.IsTierDependent(op)) base.FusedUnaryFloat(op, x, y);
        else CpuUnary.Apply(op, x, y);
    }

    /// <inheritdoc/>
    protected override void FusedUniformFloat(ulong key, ulong counter, double a, double b, long start, Span<float> y) =>
        PhiloxSimd.Uniform(key, counter, a, b, start, y);
}
