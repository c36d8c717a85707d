namespace Nabla.Tests.Support;

// Instruction decoding of PtxKernelParser: one case per opcode, each consuming its qualifiers and
// checking its operands; leftover qualifiers are rejected so nothing is silently ignored.
internal sealed partial class PtxKernelParser
{
    private static readonly string[] Cmps = ["eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs", "equ", "neu", "ltu", "leu", "gtu", "geu", "num", "nan"];

    private PtxInstr ParseInstruction(string text)
    {
        var i = new PtxInstr();
        var rest = text;
        if (rest.StartsWith('@'))
        {
            var sp = rest.IndexOf(' ', StringComparison.Ordinal);
            if (sp < 0) throw Error("a guard predicate without an instruction");
            i.Pred = PredSrc(rest[1..sp], out i.PredNeg);
            rest = rest[(sp + 1)..].TrimStart();
        }
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        var opcode = space < 0 ? rest : rest[..space];
        var ops = SplitOperands(space < 0 ? "" : rest[(space + 1)..]);
        var parts = opcode.Split('.');
        var q = SplitQualifiers(parts.Skip(1));
        switch (parts[0])
        {
            case "ld" or "st": ParseLdSt(i, parts[0] == "ld", q, ops); break;
            case "mov": ParseMov(i, q, ops); break;
            case "cvta": ParseCvta(i, q, ops); break;
            case "add" or "sub" or "mul" or "mad" or "fma" or "div" or "rem" or "min" or "max": ParseArith(i, parts[0], q, ops); break;
            case "abs" or "neg": ParseUnaryArith(i, parts[0], q, ops); break;
            case "and" or "or" or "xor" or "not" or "cnot": ParseLogic(i, parts[0], q, ops); break;
            case "shl" or "shr": ParseShift(i, parts[0], q, ops); break;
            case "setp" or "set": ParseSetp(i, parts[0] == "set", q, ops); break;
            case "selp": ParseSelp(i, q, ops); break;
            case "slct": ParseSlct(i, q, ops); break;
            case "cvt": ParseCvt(i, q, ops); break;
            case "rcp" or "sqrt" or "rsqrt" or "ex2" or "lg2" or "sin" or "cos" or "tanh": ParseMath(i, parts[0], q, ops); break;
            case "copysign": ParseCopysign(i, q, ops); break;
            case "testp": ParseTestp(i, q, ops); break;
            case "popc" or "clz" or "brev" or "bfe" or "bfi" or "prmt": ParseBits(i, parts[0], q, ops); break;
            case "bra":
                q.Take("uni");
                Expect(ops, 1);
                i.Op = PtxOp.Bra;
                _branches.Add((i, ops[0]));
                break;
            case "ret" or "exit":
                Expect(ops, 0);
                i.Op = PtxOp.Exit;
                break;
            case "bar" or "barrier":
                ParseBar(i, q, ops);
                i.Aligned = parts[0] == "bar" || parts.Contains("aligned");
                break;
            case "shfl": ParseShfl(i, q, ops); break;
            case "vote": ParseVote(i, q, ops); break;
            case "atom" or "red": ParseAtom(i, parts[0] == "red", q, ops); break;
            case "membar" or "fence":
                q.TakeAny("gl", "sys", "cta", "sc", "proxy", "async");
                i.Op = PtxOp.Nop;
                break;
            default: throw Error($"instruction '{parts[0]}' is not supported by the emulator");
        }
        if (q.Words.Count > 0) throw Error($"unsupported qualifier(s) .{string.Join(" .", q.Words)} on {parts[0]}");
        return i;
    }

    private void Expect(List<string> ops, int n)
    {
        if (ops.Count != n) throw Error($"expected {n} operand(s), found {ops.Count}");
    }

    private PtxType OneType(Quals q, Func<PtxType, bool> allowed)
    {
        if (q.Types.Count != 1) throw Error("expected exactly one type qualifier");
        var t = q.Types[0];
        if (!allowed(t)) throw Error($"type .{PtxTypes.Name(t)} is not valid here");
        return t;
    }

    private PtxSpace TakeSpace(Quals q) => q.TakeAny("global", "shared", "local", "param", "const") switch
    {
        "global" => PtxSpace.Global,
        "shared" => PtxSpace.Shared,
        "local" => PtxSpace.Local,
        "param" => PtxSpace.Param,
        "const" => throw Error(".const space is not emulated"),
        _ => PtxSpace.Generic,
    };

    private PtxRound TakeRound(Quals q) => q.TakeAny("rn", "rz", "rm", "rp", "rni", "rzi", "rmi", "rpi") switch
    {
        "rn" => PtxRound.Rn, "rz" => PtxRound.Rz, "rm" => PtxRound.Rm, "rp" => PtxRound.Rp,
        "rni" => PtxRound.Rni, "rzi" => PtxRound.Rzi, "rmi" => PtxRound.Rmi, "rpi" => PtxRound.Rpi,
        _ => PtxRound.None,
    };

    private void ParseLdSt(PtxInstr i, bool load, Quals q, List<string> ops)
    {
        i.Op = load ? PtxOp.Ld : PtxOp.St;
        i.Space = TakeSpace(q);
        i.Vec = q.TakeAny("v2", "v4") switch { "v2" => 2, "v4" => 4, _ => 1 };
        i.T = OneType(q, t => t != PtxType.Pred);
        if (!load && i.Space == PtxSpace.Param) throw Error("st.param is for call arguments; calls are not emulated");
        Expect(ops, 2);
        var (data, addr) = load ? (ops[0], ops[1]) : (ops[1], ops[0]);
        Address(addr, i);
        if (i.Vec == 1)
        {
            if (load) i.D = Dst(data, i.T, wider: true);
            else i.B = Src(data, i.T, wider: true);
        }
        else
        {
            var items = VectorItems(data, i.Vec);
            i.Regs = items.Select(x => load ? Dst(x, i.T, wider: true) : Src(x, i.T, wider: true)).ToArray();
        }
    }

    private string[] VectorItems(string token, int n)
    {
        if (!token.StartsWith('{') || !token.EndsWith('}')) throw Error($"expected a vector {{...}} of {n}, got '{token}'");
        var items = token[1..^1].Split(',', StringSplitOptions.TrimEntries);
        if (items.Length != n) throw Error($"expected {n} vector elements, got {items.Length}");
        return items;
    }

    private void ParseMov(PtxInstr i, Quals q, List<string> ops)
    {
        i.T = OneType(q, _ => true);
        Expect(ops, 2);
        if (ops[1].StartsWith('{') || ops[0].StartsWith('{'))
        {
            if (!PtxTypes.IsBits(i.T) || PtxTypes.Size(i.T) < 4) throw Error("vector mov packs .b32/.b64 only");
            var pack = ops[1].StartsWith('{');
            var items = (pack ? ops[1] : ops[0])[1..^1].Split(',', StringSplitOptions.TrimEntries);
            if (items.Length is not (2 or 4)) throw Error("vector mov needs 2 or 4 elements");
            i.Vec = items.Length;
            var elem = (PtxTypes.Size(i.T) / items.Length) switch { 4 => PtxType.B32, 2 => PtxType.B16, _ => throw Error("vector mov elements must be 16 or 32 bits") };
            i.Op = pack ? PtxOp.MovPack : PtxOp.MovUnpack;
            i.Regs = items.Select(x => pack ? Src(x, elem) : Dst(x, elem)).ToArray();
            if (pack) i.D = Dst(ops[0], i.T); else i.A = Src(ops[1], i.T);
            return;
        }
        i.Op = PtxOp.Mov;
        i.D = Dst(ops[0], i.T);
        if (_symbols.TryGetValue(ops[1], out var sym))
        {
            if (PtxTypes.Size(i.T) < 4 || !PtxTypes.IsInt(i.T)) throw Error("the address of a variable needs a .u32/.u64/.b32/.b64 mov");
            i.A = Constant((ulong)sym.Offset);
            return;
        }
        i.A = Src(ops[1], i.T);
    }

    private void ParseCvta(PtxInstr i, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Cvta;
        i.Mode = q.Take("to") ? 1 : 0;
        i.Space = TakeSpace(q);
        if (i.Space is PtxSpace.Generic or PtxSpace.Param) throw Error("cvta needs .global, .shared or .local");
        i.T = OneType(q, t => t is PtxType.U32 or PtxType.U64);
        Expect(ops, 2);
        i.D = Dst(ops[0], i.T);
        i.A = _symbols.TryGetValue(ops[1], out var sym) ? Constant((ulong)sym.Offset) : Src(ops[1], i.T);
    }

    private void ParseArith(PtxInstr i, string name, Quals q, List<string> ops)
    {
        i.Op = name switch
        {
            "add" => PtxOp.Add, "sub" => PtxOp.Sub, "mul" => PtxOp.Mul, "mad" => PtxOp.Mad, "fma" => PtxOp.Fma,
            "div" => PtxOp.Div, "rem" => PtxOp.Rem, "min" => PtxOp.Min, _ => PtxOp.Max,
        };
        i.T = OneType(q, t => t is not (PtxType.Pred or PtxType.F16 or PtxType.BF16) && PtxTypes.Size(t) >= 2);
        var isFloat = PtxTypes.IsFloat(i.T);
        var three = i.Op is PtxOp.Mad or PtxOp.Fma;
        Expect(ops, three ? 4 : 3);
        if (isFloat)
        {
            i.Round = TakeRound(q);
            i.Ftz = q.Take("ftz");
            i.Sat = q.Take("sat");
            i.NaN = q.Take("NaN");
            i.Approx = q.TakeAny("approx", "full") is not null;
            if (i.Round is not (PtxRound.None or PtxRound.Rn)) throw Error($"rounding .{i.Round.ToString().ToLowerInvariant()} of float arithmetic is not emulated (only .rn)");
            if (i.Op == PtxOp.Rem) throw Error("rem has no float form");
            if (i.Op is PtxOp.Fma or PtxOp.Mad && i.Round != PtxRound.Rn) throw Error($"{name}.f32/.f64 needs .rn (required for sm_20 and later)");
            if (i.Op == PtxOp.Div && i.Round == PtxRound.None && !i.Approx) throw Error("div.f32/.f64 needs .rn, .approx or .full");
            if (i.Op == PtxOp.Div && i.T == PtxType.F64 && i.Approx) throw Error("div.f64 has no .approx/.full");
            if (i.Approx && i.Op != PtxOp.Div) throw Error($".approx is not valid on {name}");
            if (i.Sat && i.T == PtxType.F64) throw Error(".sat is not valid on f64");
            if (i.NaN && i.Op is not (PtxOp.Min or PtxOp.Max)) throw Error(".NaN is only valid on min/max");
            if (i.NaN) RequireTarget(80, "min/max .NaN");
            if (i.Round != PtxRound.None && i.Op is PtxOp.Min or PtxOp.Max) throw Error("min/max take no rounding");
        }
        else
        {
            if (i.Op == PtxOp.Fma) throw Error("fma is float only");
            var mode = q.TakeAny("lo", "hi", "wide");
            i.Sat = q.Take("sat");
            if (i.Sat && !(i.T == PtxType.S32 && i.Op is PtxOp.Add or PtxOp.Sub || i.T == PtxType.S32 && i.Op == PtxOp.Mad && mode == "hi"))
                throw Error(".sat on integers is only valid for add/sub.s32 (and mad.hi.sat.s32)");
            if (i.Op is PtxOp.Mul or PtxOp.Mad)
            {
                if (mode is null) throw Error($"integer {name} needs .lo, .hi or .wide");
                i.Mode = mode == "lo" ? 0 : mode == "hi" ? 1 : 2;
                if (i.Mode == 2 && PtxTypes.Size(i.T) == 8) throw Error($"{name}.wide is for 16- and 32-bit types");
            }
            else if (mode is not null) throw Error($".{mode} is not valid on {name}");
        }
        var dType = i.Mode == 2 ? Widen(i.T) : i.T;
        i.D = Dst(ops[0], dType);
        i.A = Src(ops[1], i.T);
        i.B = Src(ops[2], i.T);
        if (three) i.C = Src(ops[3], dType);
    }

    private PtxType Widen(PtxType t) => t switch
    {
        PtxType.U16 => PtxType.U32, PtxType.S16 => PtxType.S32, PtxType.U32 => PtxType.U64, PtxType.S32 => PtxType.S64,
        _ => throw Error($".wide of .{PtxTypes.Name(t)}"),
    };

    private void ParseUnaryArith(PtxInstr i, string name, Quals q, List<string> ops)
    {
        i.Op = name == "abs" ? PtxOp.Abs : PtxOp.Neg;
        i.T = OneType(q, t => t is PtxType.S16 or PtxType.S32 or PtxType.S64 or PtxType.F32 or PtxType.F64);
        i.Ftz = q.Take("ftz");
        Expect(ops, 2);
        i.D = Dst(ops[0], i.T);
        i.A = Src(ops[1], i.T);
    }

    private void ParseLogic(PtxInstr i, string name, Quals q, List<string> ops)
    {
        i.Op = name switch { "and" => PtxOp.And, "or" => PtxOp.Or, "xor" => PtxOp.Xor, "not" => PtxOp.Not, _ => PtxOp.Cnot };
        i.T = OneType(q, t => t == PtxType.Pred ? i.Op != PtxOp.Cnot : PtxTypes.IsBits(t) && PtxTypes.Size(t) >= 2);
        var unary = i.Op is PtxOp.Not or PtxOp.Cnot;
        Expect(ops, unary ? 2 : 3);
        i.D = Dst(ops[0], i.T);
        i.A = Src(ops[1], i.T);
        if (!unary) i.B = Src(ops[2], i.T);
    }

    private void ParseShift(PtxInstr i, string name, Quals q, List<string> ops)
    {
        i.Op = name == "shl" ? PtxOp.Shl : PtxOp.Shr;
        i.T = OneType(q, t => PtxTypes.IsInt(t) && PtxTypes.Size(t) >= 2 && (i.Op == PtxOp.Shr || PtxTypes.IsBits(t)));
        Expect(ops, 3);
        i.D = Dst(ops[0], i.T);
        i.A = Src(ops[1], i.T);
        i.B = Src(ops[2], PtxType.U32);
    }

    private void ParseSetp(PtxInstr i, bool set, Quals q, List<string> ops)
    {
        i.Op = set ? PtxOp.Set : PtxOp.Setp;
        var cmp = q.TakeAny(Cmps) ?? throw Error("missing comparison");
        i.Cmp = (PtxCmp)Array.IndexOf(Cmps, cmp);
        i.Mode = q.TakeAny("and", "or", "xor") switch { "and" => 1, "or" => 2, "xor" => 3, _ => 0 };
        i.Ftz = q.Take("ftz");
        PtxType dtype = PtxType.Pred;
        if (set)
        {
            if (q.Types.Count != 2) throw Error("set needs a destination and a source type");
            dtype = q.Types[0];
            if (dtype is not (PtxType.U32 or PtxType.S32 or PtxType.F32)) throw Error("set's destination type is .u32, .s32 or .f32");
            q.Types.RemoveAt(0);
        }
        i.T2 = OneType(q, t => t != PtxType.Pred && PtxTypes.Size(t) >= 2 && t is not (PtxType.F16 or PtxType.BF16));
        i.T = dtype;
        var isFloat = PtxTypes.IsFloat(i.T2);
        if (isFloat ? i.Cmp is PtxCmp.Lo or PtxCmp.Ls or PtxCmp.Hi or PtxCmp.Hs
                    : i.Cmp >= PtxCmp.Equ || (PtxTypes.IsBits(i.T2) && i.Cmp is not (PtxCmp.Eq or PtxCmp.Ne)) || (PtxTypes.IsSigned(i.T2) && i.Cmp is PtxCmp.Lo or PtxCmp.Ls or PtxCmp.Hi or PtxCmp.Hs))
            throw Error($"comparison .{cmp} is not valid for .{PtxTypes.Name(i.T2)}");
        if (i.Ftz && i.T2 != PtxType.F32) throw Error(".ftz is only valid with .f32");
        Expect(ops, i.Mode == 0 ? 3 : 4);
        var dests = ops[0].Split('|', StringSplitOptions.TrimEntries);
        if (dests.Length > (set ? 1 : 2)) throw Error("too many destinations");
        i.D = Dst(dests[0], dtype);
        if (dests.Length == 2) i.D2 = Dst(dests[1], PtxType.Pred);
        i.A = Src(ops[1], i.T2);
        i.B = Src(ops[2], i.T2);
        if (i.Mode != 0) i.C = PredSrc(ops[3], out i.NegC);
    }

    private void ParseSelp(PtxInstr i, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Selp;
        i.T = OneType(q, t => t != PtxType.Pred && PtxTypes.Size(t) >= 2);
        Expect(ops, 4);
        i.D = Dst(ops[0], i.T);
        i.A = Src(ops[1], i.T);
        i.B = Src(ops[2], i.T);
        i.C = Src(ops[3], PtxType.Pred);
    }

    private void ParseSlct(PtxInstr i, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Slct;
        i.Ftz = q.Take("ftz");
        if (q.Types.Count != 2 || q.Types[1] is not (PtxType.S32 or PtxType.F32)) throw Error("slct needs .dtype.s32 or .dtype.f32");
        (i.T, i.T2) = (q.Types[0], q.Types[1]);
        q.Types.Clear();
        Expect(ops, 4);
        i.D = Dst(ops[0], i.T);
        i.A = Src(ops[1], i.T);
        i.B = Src(ops[2], i.T);
        i.C = Src(ops[3], i.T2);
    }

    private void ParseCvt(PtxInstr i, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Cvt;
        i.Round = TakeRound(q);
        i.Ftz = q.Take("ftz");
        i.Sat = q.Take("sat");
        if (q.Types.Count != 2 || q.Types.Contains(PtxType.Pred)) throw Error("cvt needs a destination and a source type");
        (i.T, i.T2) = (q.Types[0], q.Types[1]);
        q.Types.Clear();
        bool dFloat = PtxTypes.IsFloat(i.T), sFloat = PtxTypes.IsFloat(i.T2);
        var integerRound = i.Round is PtxRound.Rni or PtxRound.Rzi or PtxRound.Rmi or PtxRound.Rpi;
        var floatRound = i.Round is PtxRound.Rn or PtxRound.Rz or PtxRound.Rm or PtxRound.Rp;
        if (i.T == PtxType.BF16 || i.T2 == PtxType.BF16) throw Error("cvt with .bf16 is not emulated");
        if (dFloat && sFloat)
        {
            var narrowing = PtxTypes.Size(i.T) < PtxTypes.Size(i.T2);
            if (i.T == i.T2 ? !(integerRound || i.Round == PtxRound.None) : narrowing ? !floatRound : i.Round != PtxRound.None)
                throw Error(i.T == i.T2 ? "cvt between the same float type takes an integer rounding (.rni/.rzi/.rmi/.rpi) or none"
                    : narrowing ? "a narrowing float cvt needs .rn/.rz/.rm/.rp" : "a widening float cvt takes no rounding");
        }
        else if (dFloat && !floatRound) throw Error("integer-to-float cvt needs .rn/.rz/.rm/.rp");
        else if (sFloat && !integerRound) throw Error("float-to-integer cvt needs .rni/.rzi/.rmi/.rpi");
        else if (!dFloat && !sFloat && i.Round != PtxRound.None) throw Error("integer-to-integer cvt takes no rounding");
        Expect(ops, 2);
        i.D = Dst(ops[0], i.T, wider: true);
        i.A = Src(ops[1], i.T2, wider: true);
    }

    private void ParseMath(PtxInstr i, string name, Quals q, List<string> ops)
    {
        i.Op = name switch
        {
            "rcp" => PtxOp.Rcp, "sqrt" => PtxOp.Sqrt, "rsqrt" => PtxOp.Rsqrt, "ex2" => PtxOp.Ex2, "lg2" => PtxOp.Lg2,
            "sin" => PtxOp.Sin, "cos" => PtxOp.Cos, _ => PtxOp.Tanh,
        };
        i.Approx = q.Take("approx");
        i.Round = TakeRound(q);
        i.Ftz = q.Take("ftz");
        i.T = OneType(q, t => t is PtxType.F32 or PtxType.F64);
        if (i.Round is not (PtxRound.None or PtxRound.Rn)) throw Error("only .rn (or .approx) rounding is emulated");
        var exact = i.Op is PtxOp.Rcp or PtxOp.Sqrt;
        if (exact ? i.Approx == (i.Round == PtxRound.Rn) : !i.Approx || i.Round != PtxRound.None)
            throw Error(exact ? $"{name} needs exactly one of .rn and .approx" : $"{name} needs .approx");
        if (i.T == PtxType.F64 && i.Approx && i.Op is not (PtxOp.Rcp or PtxOp.Rsqrt))
            throw Error($"{name}.approx.f64 does not exist");
        if (i.T == PtxType.F64 && i.Op == PtxOp.Rcp && i.Approx && !i.Ftz) throw Error("rcp.approx.f64 needs .ftz");
        if (i.Op == PtxOp.Tanh && i.Ftz) throw Error("tanh.approx has no .ftz");
        if (i.Op == PtxOp.Tanh) RequireTarget(75, "tanh.approx");
        Expect(ops, 2);
        i.D = Dst(ops[0], i.T);
        i.A = Src(ops[1], i.T);
    }

    private void ParseCopysign(PtxInstr i, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Copysign;
        i.T = OneType(q, t => t is PtxType.F32 or PtxType.F64);
        Expect(ops, 3);
        i.D = Dst(ops[0], i.T);
        i.A = Src(ops[1], i.T);
        i.B = Src(ops[2], i.T);
    }

    private static readonly string[] TestpModes = ["finite", "infinite", "number", "notanumber", "normal", "subnormal"];

    private void ParseTestp(PtxInstr i, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Testp;
        var mode = q.TakeAny(TestpModes) ?? throw Error("testp needs a test (.finite, .infinite, .number, .notanumber, .normal, .subnormal)");
        i.Mode = Array.IndexOf(TestpModes, mode);
        i.T = OneType(q, t => t is PtxType.F32 or PtxType.F64);
        Expect(ops, 2);
        i.D = Dst(ops[0], PtxType.Pred);
        i.A = Src(ops[1], i.T);
    }

    private void ParseBits(PtxInstr i, string name, Quals q, List<string> ops)
    {
        i.Op = name switch { "popc" => PtxOp.Popc, "clz" => PtxOp.Clz, "brev" => PtxOp.Brev, "bfe" => PtxOp.Bfe, "bfi" => PtxOp.Bfi, _ => PtxOp.Prmt };
        switch (i.Op)
        {
            case PtxOp.Popc or PtxOp.Clz or PtxOp.Brev:
                i.T = OneType(q, t => t is PtxType.B32 or PtxType.B64);
                Expect(ops, 2);
                i.D = Dst(ops[0], i.Op == PtxOp.Brev ? i.T : PtxType.U32);
                i.A = Src(ops[1], i.T);
                break;
            case PtxOp.Bfe:
                i.T = OneType(q, t => t is PtxType.U32 or PtxType.S32 or PtxType.U64 or PtxType.S64);
                Expect(ops, 4);
                i.D = Dst(ops[0], i.T);
                i.A = Src(ops[1], i.T);
                i.B = Src(ops[2], PtxType.U32);
                i.C = Src(ops[3], PtxType.U32);
                break;
            case PtxOp.Bfi:
                i.T = OneType(q, t => t is PtxType.B32 or PtxType.B64);
                Expect(ops, 5);
                i.D = Dst(ops[0], i.T);
                i.A = Src(ops[1], i.T);
                i.B = Src(ops[2], i.T);
                i.C = Src(ops[3], PtxType.U32);
                i.E = Src(ops[4], PtxType.U32);
                break;
            default:
                i.T = OneType(q, t => t == PtxType.B32);
                if (q.Words.Count > 0) throw Error("prmt modes (.f4e, .b4e, .rc8, ...) are not emulated");
                Expect(ops, 4);
                i.D = Dst(ops[0], i.T);
                i.A = Src(ops[1], i.T);
                i.B = Src(ops[2], i.T);
                i.C = Src(ops[3], i.T);
                break;
        }
    }

    private void ParseBar(PtxInstr i, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Bar;
        var kind = q.TakeAny("sync", "arrive", "red");
        if (kind != "sync") throw Error("only bar.sync / barrier.sync is emulated");
        if (ops.Count == 2) throw Error("bar.sync with a thread count is not emulated (all threads of the block must arrive)");
        Expect(ops, 1);
        i.A = Src(ops[0], PtxType.U32);
    }

    private void ParseShfl(PtxInstr i, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Shfl;
        if (!q.Take("sync")) throw Error("shfl without .sync was removed for sm_70 and later");
        var mode = q.TakeAny("up", "down", "bfly", "idx") ?? throw Error("shfl needs .up/.down/.bfly/.idx");
        i.Mode = mode switch { "up" => 0, "down" => 1, "bfly" => 2, _ => 3 };
        i.T = OneType(q, t => t == PtxType.B32);
        Expect(ops, 5);
        var dests = ops[0].Split('|', StringSplitOptions.TrimEntries);
        i.D = Dst(dests[0], PtxType.B32);
        if (dests.Length == 2) i.D2 = Dst(dests[1], PtxType.Pred);
        i.A = Src(ops[1], PtxType.B32);
        i.B = Src(ops[2], PtxType.B32);
        i.C = Src(ops[3], PtxType.B32);
        i.E = Src(ops[4], PtxType.B32);
    }

    private void ParseVote(PtxInstr i, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Vote;
        if (!q.Take("sync")) throw Error("vote without .sync was removed for sm_70 and later");
        var mode = q.TakeAny("all", "any", "uni", "ballot") ?? throw Error("vote needs .all/.any/.uni/.ballot");
        i.Mode = mode switch { "all" => 0, "any" => 1, "uni" => 2, _ => 3 };
        i.T = OneType(q, t => i.Mode == 3 ? t == PtxType.B32 : t == PtxType.Pred);
        Expect(ops, 3);
        i.D = Dst(ops[0], i.T);
        i.A = PredSrc(ops[1], out i.NegC);
        i.E = Src(ops[2], PtxType.B32);
    }

    private static readonly string[] AtomOps = ["add", "min", "max", "exch", "cas", "and", "or", "xor", "inc", "dec"];

    private void ParseAtom(PtxInstr i, bool red, Quals q, List<string> ops)
    {
        i.Op = PtxOp.Atom;
        i.Space = TakeSpace(q);
        if (i.Space is PtxSpace.Param or PtxSpace.Local) throw Error("atom/red work on .global, .shared or generic addresses");
        var op = q.TakeAny(AtomOps) ?? throw Error("atom/red needs an operation");
        i.Mode = Array.IndexOf(AtomOps, op);
        i.Ftz = q.Take("ftz");
        q.Take("noftz");
        i.T = OneType(q, t => op switch
        {
            "add" => t is PtxType.U32 or PtxType.S32 or PtxType.U64 or PtxType.S64 or PtxType.F32 or PtxType.F64,
            "min" or "max" => t is PtxType.U32 or PtxType.S32 or PtxType.U64 or PtxType.S64,
            "exch" or "cas" or "and" or "or" or "xor" => t is PtxType.B32 or PtxType.B64,
            _ => t == PtxType.U32,
        });
        if (red && op is "cas" or "exch") throw Error($"red has no .{op}");
        if (op == "add" && i.T == PtxType.F64) RequireTarget(60, "atom/red .add.f64");
        var n = (op == "cas" ? 4 : 3) - (red ? 1 : 0);
        Expect(ops, n);
        var k = 0;
        if (!red) i.D = Dst(ops[k++], i.T);
        Address(ops[k++], i);
        i.B = Src(ops[k++], i.T);
        if (op == "cas") i.C = Src(ops[k], i.T);
    }
}
