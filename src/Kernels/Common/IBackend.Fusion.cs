namespace Nabla.Kernels;

public partial interface IBackend
{
    /// <summary>
    /// Whether <see cref="Fused"/> runs fused element-wise programs. The plan compiler fuses only for
    /// backends that say so; the reference backend never does, so it stays the oracle.
    /// </summary>
    bool SupportsFusion => false;

    /// <summary>
    /// Evaluates <paramref name="program"/> over its shape in one pass: reads each input once (broadcast as
    /// its <see cref="FusedInput"/> says) and writes each output once; intermediates never reach memory.
    /// <paramref name="counters"/> holds one Philox block counter per random stream of the program.
    /// </summary>
    /// <exception cref="NotSupportedException">The backend does not fuse (<see cref="SupportsFusion"/> is false).</exception>
    /// <exception cref="ArgumentException">The numbers of inputs, outputs or counters differ from the program's, or an output's length from its shape's.</exception>
    void Fused(FusedProgram program, ReadOnlySpan<DeviceBuffer> inputs, ReadOnlySpan<DeviceBuffer> outputs, ReadOnlySpan<ulong> counters) =>
        throw new NotSupportedException($"backend '{Name}' does not run fused programs");

    /// <summary>
    /// Arms <paramref name="program"/> (whose shape is the output's) to run on the output of the next <see cref="MatMul"/> or
    /// <see cref="Conv2D"/> call as the kernel produces it (see <see cref="OutputEpilogue"/>). A kernel that cannot leaves it
    /// armed. Returns false when this backend has no epilogues: the caller then runs the program itself, after the kernel.
    /// </summary>
    bool ArmOutputEpilogue(FusedProgram program, DeviceBuffer[] inputs, DeviceBuffer[] outputs, ulong[] counters) => false;

    /// <summary>
    /// Disarms an epilogue the kernel did not take. Returns true when one was still armed: the caller must then run the program
    /// itself (with the same inputs, outputs and counters); false when the kernel ran it.
    /// </summary>
    bool DisarmOutputEpilogue() => false;
}
