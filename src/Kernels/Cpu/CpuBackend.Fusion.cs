using System.Runtime.CompilerServices;

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

    /// <summary>Run float32 fused programs as generated code (<see cref="Cpu.FusedCodegen"/>) instead of the interpreter; results are bit-identical. Off for a backend made directly; sessions set it from <c>SessionOptions.FusedCodegen</c> (on by default).</summary>
    public bool FusedCodegen { get; init; }

    /// <inheritdoc/>
    private protected override FusedKernel? CompiledKernel(FusedProgram program)
    {
        if (!FusedCodegen) return null;
        var compiled = program.Kernel ??= new StrongBox<FusedKernel?>(Cpu.FusedCodegen.Compile(program));
        return compiled.Value;
    }

    private OutputEpilogue? _epilogue;

    /// <inheritdoc/>
    /// <remarks>float32 programs only; 2-D float32 MatMul and the direct float32 convolution take it.</remarks>
    public override bool ArmOutputEpilogue(FusedProgram program, DeviceBuffer[] inputs, DeviceBuffer[] outputs, ulong[] counters)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (program.Compute != DType.Float32 || _epilogue is not null) return false;
        _epilogue = new OutputEpilogue(this, program, inputs, outputs, counters);
        return true;
    }

    /// <inheritdoc/>
    public override bool DisarmOutputEpilogue()
    {
        var armed = _epilogue is not null;
        _epilogue = null;
        return armed;
    }

    /// <summary>Takes the armed epilogue if it fits an output of <paramref name="length"/> elements (a kernel then must report every element and call Finish).</summary>
    private OutputEpilogue? TakeEpilogue(long length)
    {
        if (_epilogue is not { } e || e.Length != length) return null;
        _epilogue = null;
        return e;
    }
}
