namespace Nabla.Tests.Support;

/// <summary>
/// A kernel did something the PTX ISA leaves undefined or the hardware faults on: an access outside
/// every allocation or outside shared/param/local bounds, a misaligned access, a barrier or warp
/// collective that can never complete (deadlock), integer division by zero, a launch whose parameters
/// do not match the kernel's declaration. The message names the kernel, the source line and the
/// address or values involved.
/// </summary>
public sealed class PtxEmulatorException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PtxEmulatorException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public PtxEmulatorException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public PtxEmulatorException() { }
}

/// <summary>PTX fundamental types (the <c>.type</c> qualifiers of instructions and declarations).</summary>
internal enum PtxType : byte
{
    None, Pred, B8, B16, B32, B64, U8, U16, U32, U64, S8, S16, S32, S64, F16, BF16, F32, F64,
}

/// <summary>Facts about <see cref="PtxType"/>.</summary>
internal static class PtxTypes
{
    /// <summary>Size in bytes (0 for .pred and None).</summary>
    public static int Size(PtxType t) => t switch
    {
        PtxType.B8 or PtxType.U8 or PtxType.S8 => 1,
        PtxType.B16 or PtxType.U16 or PtxType.S16 or PtxType.F16 or PtxType.BF16 => 2,
        PtxType.B32 or PtxType.U32 or PtxType.S32 or PtxType.F32 => 4,
        PtxType.B64 or PtxType.U64 or PtxType.S64 or PtxType.F64 => 8,
        _ => 0,
    };

    public static bool IsFloat(PtxType t) => t is PtxType.F16 or PtxType.BF16 or PtxType.F32 or PtxType.F64;

    public static bool IsSigned(PtxType t) => t is PtxType.S8 or PtxType.S16 or PtxType.S32 or PtxType.S64;

    public static bool IsBits(PtxType t) => t is PtxType.B8 or PtxType.B16 or PtxType.B32 or PtxType.B64;

    public static bool IsInt(PtxType t) => Size(t) > 0 && !IsFloat(t);

    public static bool TryParse(string s, out PtxType t)
    {
        t = s switch
        {
            "pred" => PtxType.Pred,
            "b8" => PtxType.B8, "b16" => PtxType.B16, "b32" => PtxType.B32, "b64" => PtxType.B64,
            "u8" => PtxType.U8, "u16" => PtxType.U16, "u32" => PtxType.U32, "u64" => PtxType.U64,
            "s8" => PtxType.S8, "s16" => PtxType.S16, "s32" => PtxType.S32, "s64" => PtxType.S64,
            "f16" => PtxType.F16, "bf16" => PtxType.BF16, "f32" => PtxType.F32, "f64" => PtxType.F64,
            _ => PtxType.None,
        };
        return t != PtxType.None;
    }

    /// <summary>The type's name as PTX spells it, e.g. "u32".</summary>
    public static string Name(PtxType t) => t.ToString().ToLowerInvariant();
}

/// <summary>The instructions the emulator executes (PTX opcodes after parsing; <c>ret</c> is <see cref="Exit"/>).</summary>
internal enum PtxOp : byte
{
    Nop, Ld, St, Mov, MovPack, MovUnpack, Cvta, Add, Sub, Mul, Mad, Fma, Div, Rem, Abs, Neg, Min, Max,
    And, Or, Xor, Not, Cnot, Shl, Shr, Setp, Selp, Slct, Set, Cvt, Rcp, Sqrt, Rsqrt, Ex2, Lg2, Sin, Cos,
    Tanh, Copysign, Testp, Popc, Clz, Brev, Bfe, Bfi, Prmt, Bra, Exit, Bar, Shfl, Vote, Atom,
}

/// <summary>State spaces.</summary>
internal enum PtxSpace : byte { Generic, Global, Shared, Local, Param }

/// <summary>Rounding modifiers.</summary>
internal enum PtxRound : byte { None, Rn, Rz, Rm, Rp, Rni, Rzi, Rmi, Rpi }

/// <summary>setp/set comparison operators.</summary>
internal enum PtxCmp : byte { Eq, Ne, Lt, Le, Gt, Ge, Lo, Ls, Hi, Hs, Equ, Neu, Ltu, Leu, Gtu, Geu, Num, Nan }

/// <summary>
/// One pre-decoded instruction. Operands are indices into the thread's register file, which holds the
/// declared registers, then the special registers (%tid.x, ...), then the instruction immediates, so
/// every operand read is one array access.
/// </summary>
internal sealed class PtxInstr
{
    public PtxOp Op;
    public PtxType T;
    /// <summary>Second type: cvt's source, setp/set's compared type, slct's selector type.</summary>
    public PtxType T2;
    public int D = -1, D2 = -1, A = -1, B = -1, C = -1, E = -1;
    /// <summary>Guard predicate register, or -1.</summary>
    public int Pred = -1;
    public bool PredNeg;
    /// <summary>setp/vote: the C (or A for vote) predicate is negated.</summary>
    public bool NegC;
    public PtxCmp Cmp;
    /// <summary>Mode of setp's boolean combine (0 none, 1 and, 2 or, 3 xor), of shfl (0 up, 1 down, 2 bfly, 3 idx), vote (0 all, 1 any, 2 uni, 3 ballot), testp, atom, mul/mad (0 lo, 1 hi, 2 wide).</summary>
    public int Mode;
    public PtxRound Round;
    public bool Ftz, Sat, Approx, NaN;
    /// <summary>bar.sync / barrier.sync.aligned: every thread must reach the same instruction.</summary>
    public bool Aligned;
    public PtxSpace Space;
    /// <summary>Number of vector elements of ld/st/mov pack (1 for scalars).</summary>
    public int Vec = 1;
    /// <summary>Vector registers of ld/st.</summary>
    public int[] Regs = [];
    /// <summary>Declared registers the instruction reads (guard excluded), checked for being written first.</summary>
    public int[] Sources = [];
    /// <summary>Address offset: register + Offset, or the symbol's offset + Offset when A is -1.</summary>
    public long Offset;
    /// <summary>For a symbol-relative address: the symbol's extent [SymLo, SymHi) in its space, else (0, long.MaxValue).</summary>
    public long SymLo, SymHi = long.MaxValue;
    /// <summary>Branch target (instruction index).</summary>
    public int Target;
    public int Line;
    public string Text = "";
}

/// <summary>A kernel parameter: its name, offset and size in the param space.</summary>
internal readonly record struct PtxParam(string Name, PtxType Type, int Offset, int Size);

/// <summary>A parsed <c>.entry</c>.</summary>
internal sealed class PtxKernel
{
    public required string Name { get; init; }
    public required PtxParam[] Params { get; init; }
    public required int ParamBytes { get; init; }
    public required PtxInstr[] Code { get; init; }
    /// <summary>Declared registers (0 .. RegisterCount-1).</summary>
    public required int RegisterCount { get; init; }
    /// <summary>Names of the declared registers, by index.</summary>
    public required string[] RegisterNames { get; init; }
    /// <summary>Register file size: registers, special registers, immediates.</summary>
    public required int FileSize { get; init; }
    /// <summary>Immediate values, stored at <see cref="SpecialBase"/> + <see cref="SpecialCount"/> onward.</summary>
    public required ulong[] Constants { get; init; }
    /// <summary>Bytes of static shared memory (module and kernel scope); dynamic shared starts at <see cref="DynamicSharedOffset"/>.</summary>
    public required int StaticSharedBytes { get; init; }
    public required int DynamicSharedOffset { get; init; }
    public required int LocalBytes { get; init; }

    /// <summary>Index of the first special register.</summary>
    public int SpecialBase => RegisterCount;

    /// <summary>Number of special registers (see <see cref="PtxSpecial"/>).</summary>
    public const int SpecialCount = 19;
}

/// <summary>Special registers, in their order in the register file after the declared registers.</summary>
internal static class PtxSpecial
{
    public static readonly string[] Names =
    [
        "%tid.x", "%tid.y", "%tid.z", "%ntid.x", "%ntid.y", "%ntid.z", "%ctaid.x", "%ctaid.y", "%ctaid.z",
        "%nctaid.x", "%nctaid.y", "%nctaid.z", "%laneid", "%warpid",
        "%lanemask_eq", "%lanemask_lt", "%lanemask_le", "%lanemask_gt", "%lanemask_ge",
    ];

    public static int IndexOf(string name) => Array.IndexOf(Names, name);
}

/// <summary>A parsed module: its kernels by name.</summary>
internal sealed class PtxModule
{
    public required string Name { get; init; }
    public required Dictionary<string, PtxKernel> Kernels { get; init; }
}
