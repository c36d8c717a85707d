using System.Runtime.CompilerServices;

namespace Nabla.Kernels;

/// <summary>What one instruction of a <see cref="FusedProgram"/> computes.</summary>
public enum FusedCode
{
    /// <summary>r = unary(A) (<see cref="FusedInstruction.Unary"/>).</summary>
    Unary,
    /// <summary>r = binary(A, B) (<see cref="FusedInstruction.Binary"/>); comparisons and logic give 1 or 0.</summary>
    Binary,
    /// <summary>r = A ≠ 0 ? B : C.</summary>
    Select,
    /// <summary>r = A ≠ 0 ? 1 : 0 (a cast to bool; NaN is nonzero).</summary>
    NotZero,
    /// <summary>r = 1 − A (logical not of a 0/1 value).</summary>
    LogicalNot,
    /// <summary>r = <see cref="FusedInstruction.Value"/> everywhere.</summary>
    Constant,
    /// <summary>r = the Philox uniform stream (<see cref="FusedInstruction.Key"/>, run counter number <see cref="FusedInstruction.A"/>) on [Lo, Hi), element by flat index.</summary>
    RandomUniform,
}

/// <summary>
/// One instruction of a fused element-wise program. Operands name registers: registers 0 … inputs − 1
/// hold the program's inputs, register inputs + k the result of instruction k.
/// </summary>
/// <param name="Code">What it computes.</param>
/// <param name="Unary">The function for <see cref="FusedCode.Unary"/>.</param>
/// <param name="Binary">The function for <see cref="FusedCode.Binary"/>.</param>
/// <param name="A">First operand register (for <see cref="FusedCode.RandomUniform"/>: the index of its run counter).</param>
/// <param name="B">Second operand register.</param>
/// <param name="C">Third operand register.</param>
/// <param name="Value">The constant of <see cref="FusedCode.Constant"/>.</param>
/// <param name="Key">The Philox key of <see cref="FusedCode.RandomUniform"/>.</param>
/// <param name="Lo">Lower bound of <see cref="FusedCode.RandomUniform"/>.</param>
/// <param name="Hi">Upper bound of <see cref="FusedCode.RandomUniform"/>.</param>
public readonly record struct FusedInstruction(FusedCode Code, UnaryOp Unary = default, BinaryOp Binary = default, int A = -1, int B = -1, int C = -1,
    double Value = 0, ulong Key = 0, double Lo = 0, double Hi = 1);

/// <summary>
/// A fused program compiled for one block of a host backend: registers[r] and offsets[r] locate register r's first
/// element of the block (inputs, and uniform draws), outputs[o] and outputOffsets[o] output o's; it computes
/// <paramref name="length"/> elements.
/// </summary>
internal delegate void FusedKernel(HostBackend backend, float[][] registers, int[] offsets, Array[] outputs, int[] outputOffsets, int length);

/// <summary>How a fused program reads one input, decided once from its broadcast strides.</summary>
public enum FusedAccess
{
    /// <summary>Element i of the result reads element i.</summary>
    Contiguous,
    /// <summary>One value for every element.</summary>
    Scalar,
    /// <summary>Element i reads element i mod <see cref="FusedInput.Period"/> (a row vector over leading dims: bias add).</summary>
    Periodic,
    /// <summary>Any other broadcast: an odometer over the strides.</summary>
    Strided,
}

/// <summary>One input of a fused program: its dtype (the compute dtype, or bool read as 0/1) and how it broadcasts.</summary>
public sealed class FusedInput
{
    /// <summary>Describes an input read with <paramref name="strides"/> (0 on broadcast dims) over the program's shape.</summary>
    public FusedInput(DType dtype, int[] strides, int[] shape)
    {
        DType = dtype;
        Strides = strides;
        (Access, Period) = Classify(strides, shape);
    }

    /// <summary>The stored dtype.</summary>
    public DType DType { get; }

    /// <summary>Element strides per dimension of the program's shape.</summary>
    public int[] Strides { get; }

    /// <summary>How the input is read.</summary>
    public FusedAccess Access { get; }

    /// <summary>The period of a <see cref="FusedAccess.Periodic"/> input.</summary>
    public int Period { get; }

    private static (FusedAccess, int) Classify(int[] strides, int[] shape)
    {
        // Dims of extent 1 never move the index; ignore them.
        var expect = 1;
        var d = shape.Length - 1;
        for (; d >= 0; d--)
        {
            if (shape[d] == 1) continue;
            if (strides[d] != expect) break;
            expect *= shape[d];
        }
        // Dims d+1.. are contiguous with period `expect`; the rest must all be broadcast for the periodic form.
        for (var k = d; k >= 0; k--)
            if (shape[k] != 1 && strides[k] != 0) return (FusedAccess.Strided, 0);
        if (d < 0) return (FusedAccess.Contiguous, 0);
        return expect == 1 ? (FusedAccess.Scalar, 0) : (FusedAccess.Periodic, expect);
    }
}

/// <summary>
/// A tree of element-wise work compiled into one pass (issue 10): a register program over the inputs,
/// evaluated block by block so every intermediate stays in cache and only the live outputs are written.
/// All arithmetic is in <see cref="Compute"/> (float32 or float64); boolean values are held as 0 and 1
/// of that type, so comparisons, casts to and from bool, logic and select need no second register type.
/// </summary>
/// <remarks>Each instruction applies the same scalar or vector function as the unfused kernel, in the same
/// order, so a fused result equals the unfused one bit for bit except where a vectorised transcendental
/// takes a different code path for a short tail (documented float32 tolerance).</remarks>
public sealed class FusedProgram
{
    /// <summary>Builds a program over <paramref name="shape"/>; registers are numbered inputs first, then one per instruction.</summary>
    /// <exception cref="ArgumentException">An operand names a register not yet defined, or the dtypes are not supported.</exception>
    public FusedProgram(DType compute, int[] shape, FusedInput[] inputs, FusedInstruction[] code, (int Register, DType DType)[] outputs, int counters)
    {
        if (compute is not (DType.Float32 or DType.Float64)) throw new ArgumentException($"a fused program computes in float32 or float64, not {compute.Name()}", nameof(compute));
        Compute = compute;
        Shape = shape;
        Inputs = inputs;
        Code = code;
        Outputs = outputs;
        Counters = counters;
        var n = 1L;
        foreach (var d in shape) n *= d;
        Length = checked((int)n);
        foreach (var i in inputs)
            if (i.DType != compute && i.DType != DType.Bool) throw new ArgumentException($"fused input dtype {i.DType.Name()} is neither {compute.Name()} nor bool", nameof(inputs));
        for (var k = 0; k < code.Length; k++)
        {
            var c = code[k];
            var defined = inputs.Length + k;
            if (c.Code is FusedCode.Unary or FusedCode.Binary or FusedCode.Select or FusedCode.NotZero or FusedCode.LogicalNot) Check(c.A, defined, k);
            if (c.Code is FusedCode.Binary or FusedCode.Select) Check(c.B, defined, k);
            if (c.Code is FusedCode.Select) Check(c.C, defined, k);
            if (c.Code is FusedCode.RandomUniform && (c.A < 0 || c.A >= counters)) throw new ArgumentException($"instruction {k}: counter {c.A} of {counters}", nameof(code));
        }
        DrawsRandom = Array.Exists(code, c => c.Code == FusedCode.RandomUniform);
        long period = 1;
        foreach (var i in inputs)
            if (i.Access == FusedAccess.Periodic && period <= MaxBlock) period = period / Gcd(period, i.Period) * i.Period;
        BlockSize = period <= MaxBlock ? (int)(MaxBlock / period * period) : MaxBlock;
        _directOutput = new int[inputs.Length + code.Length];
        Array.Fill(_directOutput, -1);
        for (var o = 0; o < outputs.Length; o++)
        {
            var (r, dt) = outputs[o];
            Check(r, inputs.Length + code.Length, code.Length);
            if (dt != compute && dt != DType.Bool) throw new ArgumentException($"fused output dtype {dt.Name()} is neither {compute.Name()} nor bool", nameof(outputs));
            // An instruction whose result is an output of the compute dtype writes straight into the output buffer.
            if (r >= inputs.Length && dt == compute && _directOutput[r] < 0) _directOutput[r] = o;
        }
    }

    private readonly int[] _directOutput;

    /// <summary>The program's generated kernel once a backend has compiled it (the value may be null: not compilable).</summary>
    internal StrongBox<FusedKernel?>? Kernel;

    /// <summary>The most elements a host backend evaluates per block (8 KiB of float32 per register).</summary>
    public const int MaxBlock = 2048;

    /// <summary>
    /// Elements per block on a host backend: <see cref="MaxBlock"/> rounded down to a multiple of the periodic inputs' common
    /// period when that fits (a bias of 6 channels gives 2046), so such an input is laid out once per range instead of once
    /// per block.
    /// </summary>
    public int BlockSize { get; }

    /// <summary>The output an instruction's register is computed straight into, or −1 (scratch).</summary>
    internal int DirectOutput(int register) => _directOutput[register];

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

    private static void Check(int register, int defined, int k)
    {
        if (register < 0 || register >= defined) throw new ArgumentException($"instruction {k} reads register {register}, but only {defined} are defined");
    }

    /// <summary>The dtype all arithmetic runs in.</summary>
    public DType Compute { get; }

    /// <summary>The shape every instruction's result has.</summary>
    public int[] Shape { get; }

    /// <summary>Elements of <see cref="Shape"/>.</summary>
    public int Length { get; }

    /// <summary>The inputs, in register order.</summary>
    public FusedInput[] Inputs { get; }

    /// <summary>The instructions, in evaluation order.</summary>
    public FusedInstruction[] Code { get; }

    /// <summary>The registers written out, with the dtype of each output buffer.</summary>
    public (int Register, DType DType)[] Outputs { get; }

    /// <summary>How many run counters (one per random stream) a launch passes.</summary>
    public int Counters { get; }

    /// <summary>Whether an instruction draws random numbers (a Philox draw costs ~10× a bias + ReLU per element).</summary>
    public bool DrawsRandom { get; }
}
