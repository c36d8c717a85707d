namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware (see CudaBackend.cs).

internal sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public bool SupportsFusion => true;

    /// <inheritdoc/>
    /// <remarks>One generated PTX kernel per program (<see cref="ElementwiseKernels.Fused"/>), JIT-compiled once per program by the launcher. No output epilogues: MatMul is cuBLAS.</remarks>
    public void Fused(FusedProgram program, ReadOnlySpan<DeviceBuffer> inputs, ReadOnlySpan<DeviceBuffer> outputs, ReadOnlySpan<ulong> counters)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (inputs.Length != program.Inputs.Length) throw new ArgumentException($"the program reads {program.Inputs.Length} inputs, {inputs.Length} given", nameof(inputs));
        if (outputs.Length != program.Outputs.Length) throw new ArgumentException($"the program writes {program.Outputs.Length} outputs, {outputs.Length} given", nameof(outputs));
        if (counters.Length != program.Counters) throw new ArgumentException($"the program draws from {program.Counters} random streams, {counters.Length} counters given", nameof(counters));
        var ins = new ulong[inputs.Length];
        for (var i = 0; i < ins.Length; i++) ins[i] = A(inputs[i], nameof(inputs));
        var outs = new ulong[outputs.Length];
        for (var i = 0; i < outs.Length; i++)
        {
            var o = B(outputs[i], nameof(outputs));
            if (o.Length != program.Length) throw new ArgumentException($"output {i} holds {o.Length} elements, the program's shape {program.Length}", nameof(outputs));
            outs[i] = o.Address;
        }
        if (program.Length == 0) return;
        var ctr = counters.ToArray();
        Guard(() => ElementwiseKernels.Fused(K, program, ins, outs, ctr));
    }
}
