// UNVERIFIED on hardware: the generated kernels ran on the tests' PTX emulator against HostBackend.Fused, not yet on a GPU.
using System.Globalization;
using System.Text;

namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>
/// One PTX kernel per <see cref="FusedProgram"/>: each thread of a grid-stride loop takes one flat index, loads every input
/// element it reads (as its <see cref="FusedAccess"/> says), runs the program's instructions in registers, and stores the
/// outputs. The operations are those of HostBackend's interpreter, in the same order and rounding (IEEE arithmetic without
/// contraction, the PtxMath functions, the same comparisons and selects, the Philox stream), so results equal the CPU's
/// bit for bit except for the transcendental functions (within an ulp or two of each other).
/// </summary>
internal static class FusedPtx
{
    /// <summary>The entry name of every fused module.</summary>
    public const string Entry = "fused";

    /// <summary>
    /// The canonical text of a program: compute dtype, shape, inputs (dtype and strides), instructions (every field, floats
    /// as their bits), outputs and counter count. Equal programs give equal keys, so they share one generated module.
    /// </summary>
    public static string Key(FusedProgram p)
    {
        var s = new StringBuilder("fused;");
        s.Append(p.Compute.Name()).Append(";shape=").Append(string.Join(',', p.Shape));
        foreach (var i in p.Inputs) s.Append(";in=").Append(i.DType.Name()).Append(':').Append(string.Join(',', i.Strides));
        foreach (var c in p.Code)
        {
            s.Append(";op=").Append(c.Code);
            switch (c.Code)
            {
                case FusedCode.Unary: s.Append(':').Append(c.Unary).Append(':').Append(c.A); break;
                case FusedCode.Binary: s.Append(':').Append(c.Binary).Append(':').Append(c.A).Append(',').Append(c.B); break;
                case FusedCode.Select: s.Append(':').Append(c.A).Append(',').Append(c.B).Append(',').Append(c.C); break;
                case FusedCode.NotZero or FusedCode.LogicalNot: s.Append(':').Append(c.A); break;
                case FusedCode.Constant: s.Append(':').Append(Bits(c.Value)); break;
                case FusedCode.RandomUniform:
                    s.Append(':').Append(c.Key.ToString("X16", CultureInfo.InvariantCulture)).Append(':').Append(c.A)
                        .Append(':').Append(Bits(c.Lo)).Append(',').Append(Bits(c.Hi));
                    break;
                default: throw new NotSupportedException($"fused instruction {c.Code}");
            }
        }
        foreach (var (r, dtype) in p.Outputs) s.Append(";out=").Append(r).Append(':').Append(dtype.Name());
        s.Append(";counters=").Append(p.Counters);
        return s.ToString();
    }

    private static string Bits(double v) => BitConverter.DoubleToUInt64Bits(v).ToString("X16", CultureInfo.InvariantCulture);

    /// <summary>
    /// The module of <paramref name="p"/>: entry <c>fused(in0 … in(k−1), out0 …, counter0 …, n)</c>, all .u64 (addresses of
    /// element 0 of each buffer, the Philox run counters, and the element count).
    /// </summary>
    public static string Module(FusedProgram p, string key)
    {
        var w = new PtxWriter($"fused element-wise program: {key}");
        var e = w.Entry(Entry);
        var inputs = Enumerable.Range(0, p.Inputs.Length).Select(j => e.Pointer($"in{j}")).ToArray();
        var outputs = Enumerable.Range(0, p.Outputs.Length).Select(o => e.Pointer($"out{o}")).ToArray();
        var counters = Enumerable.Range(0, p.Counters).Select(c => e.Param("u64", $"counter{c}")).ToArray();
        var n = e.Param("u64", "n");
        var compute = PtxEntry.ClassOf(p.Compute);
        var t = compute == PtxType.F32 ? "f32" : "f64";
        e.GridStride(n, i =>
        {
            var regs = new Reg[p.Inputs.Length + p.Code.Length];
            for (var j = 0; j < p.Inputs.Length; j++) regs[j] = LoadInput(e, p, j, inputs[j], i, compute);
            for (var k = 0; k < p.Code.Length; k++)
            {
                var c = p.Code[k];
                e.Comment($"r{p.Inputs.Length + k} = {c.Code} {(c.Code == FusedCode.Unary ? c.Unary : c.Code == FusedCode.Binary ? c.Binary : "")}");
                regs[p.Inputs.Length + k] = c.Code switch
                {
                    FusedCode.Unary => PtxMath.Unary(e, c.Unary, regs[c.A]),
                    FusedCode.Binary => FusedBinary(e, c.Binary, regs[c.A], regs[c.B]),
                    FusedCode.Select => Select(e, regs[c.A], regs[c.B], regs[c.C]),
                    FusedCode.NotZero => NotZero(e, regs[c.A]),
                    FusedCode.LogicalNot => Op(e, $"sub.rn.{t}", PtxMath.Imm(regs[c.A], 1.0), regs[c.A]),
                    FusedCode.Constant => e.Const(compute, c.Value),
                    FusedCode.RandomUniform => Uniform(e, compute, c.Key, counters[c.A], c.Lo, c.Hi, i),
                    _ => throw new NotSupportedException($"fused instruction {c.Code}"),
                };
            }
            for (var o = 0; o < p.Outputs.Length; o++)
            {
                var (r, dtype) = p.Outputs[o];
                var v = regs[r];
                if (dtype == DType.Bool)
                {
                    var nz = e.Reg(PtxType.Pred);
                    e.Op($"setp.neu.{t} {nz}, {v}, {PtxMath.Zero(v)}");
                    var b = e.Reg(PtxType.B32);
                    e.Op($"selp.u32 {b}, 1, 0, {nz}");
                    v = b;
                }
                e.Store(dtype, outputs[o], i, v);
            }
        });
        e.End();
        return w.ToString();
    }

    /// <summary>Input j's element for flat index i, in the compute class (bool as 0 or 1).</summary>
    private static Reg LoadInput(PtxEntry e, FusedProgram p, int j, Reg address, Reg i, PtxType compute)
    {
        var input = p.Inputs[j];
        Reg index;
        switch (input.Access)
        {
            case FusedAccess.Contiguous: index = i; break;
            case FusedAccess.Scalar: index = e.ConstU64(0); break;
            case FusedAccess.Periodic:
                index = e.Reg(PtxType.B64);
                e.Op($"rem.u64 {index}, {i}, {input.Period}");
                break;
            default: index = e.StridedOffset(i, p.Shape, input.Strides); break;
        }
        var v = e.Load(input.DType, address, index);
        if (input.DType != DType.Bool) return v;
        var f = e.Reg(compute);
        e.Op($"cvt.rn.{(compute == PtxType.F32 ? "f32" : "f64")}.u32 {f}, {v}");
        return f;
    }

    private static Reg Op(PtxEntry e, string op, params object[] operands)
    {
        var y = e.Reg(operands.OfType<Reg>().First(r => r.Type is PtxType.F32 or PtxType.F64).Type);
        e.Op($"{op} {y}, {string.Join(", ", operands)}");
        return y;
    }

    /// <summary>A binary instruction as the interpreter's BinaryBlock: logical and/or as product/maximum of 0/1 values, comparisons giving 1 or 0.</summary>
    internal static Reg FusedBinary(PtxEntry e, BinaryOp op, Reg a, Reg b)
    {
        var t = PtxMath.Suffix(a);
        switch (op)
        {
            case BinaryOp.LogicalAnd: return PtxMath.EmitBinary(e, Arithmetic.Ptx(BinaryOp.Mul), a, b);
            case BinaryOp.LogicalOr: return PtxMath.EmitBinary(e, Arithmetic.Ptx(BinaryOp.Maximum), a, b);
            case BinaryOp.Pow: return PtxMath.Pow(e, a, b);
            case BinaryOp.Equal: return Compare(e, "eq", a, b);
            case BinaryOp.NotEqual or BinaryOp.LogicalXor: return Compare(e, "neu", a, b);
            case BinaryOp.Less: return Compare(e, "lt", a, b);
            case BinaryOp.LessEqual: return Compare(e, "le", a, b);
            case BinaryOp.Greater: return Compare(e, "gt", a, b);
            case BinaryOp.GreaterEqual: return Compare(e, "ge", a, b);
            default:
                if (Arithmetic.Has(op)) return PtxMath.EmitBinary(e, Arithmetic.Ptx(op), a, b);
                throw new NotSupportedException($"fused binary {op} in {t}");
        }
    }

    /// <summary>pred(a, b) ? 1 : 0 (ordered comparisons are false with NaN; neu, ≠, is true).</summary>
    private static Reg Compare(PtxEntry e, string cmp, Reg a, Reg b)
    {
        var t = PtxMath.Suffix(a);
        var p = e.Reg(PtxType.Pred);
        e.Op($"setp.{cmp}.{t} {p}, {a}, {b}");
        var y = e.Reg(a.Type);
        e.Op($"selp.{t} {y}, {PtxMath.Imm(a, 1.0)}, {PtxMath.Zero(a)}, {p}");
        return y;
    }

    /// <summary>c ≠ 0 ? a : b (NaN counts as nonzero, as the interpreter's c != 0).</summary>
    private static Reg Select(PtxEntry e, Reg c, Reg a, Reg b)
    {
        var t = PtxMath.Suffix(c);
        var p = e.Reg(PtxType.Pred);
        e.Op($"setp.neu.{t} {p}, {c}, {PtxMath.Zero(c)}");
        var y = e.Reg(a.Type);
        e.Op($"selp.{t} {y}, {a}, {b}, {p}");
        return y;
    }

    /// <summary>x ≠ 0 ? 1 : 0 (NaN is nonzero).</summary>
    private static Reg NotZero(PtxEntry e, Reg x)
    {
        var t = PtxMath.Suffix(x);
        var p = e.Reg(PtxType.Pred);
        e.Op($"setp.neu.{t} {p}, {x}, {PtxMath.Zero(x)}");
        var y = e.Reg(x.Type);
        e.Op($"selp.{t} {y}, {PtxMath.Imm(x, 1.0)}, {PtxMath.Zero(x)}, {p}");
        return y;
    }

    /// <summary>
    /// Uniform element i of the Philox stream (key, counter) on [lo, hi), as Philox.Uniform: the bits are word i mod 4 of
    /// block (⌊i/4⌋, counter), u = (bits ≫ 8)·2⁻²⁴, and lo + (hi − lo)·u in float64 (rounded once to float32 for F32).
    /// </summary>
    private static Reg Uniform(PtxEntry e, PtxType compute, ulong key, Reg counter, double lo, double hi, Reg i)
    {
        var block = e.Reg(PtxType.B64);
        e.Op($"shr.u64 {block}, {i}, 2");
        var (x0, x1, x2, x3) = PhiloxBlock(e, key, block, counter);
        var lane = e.Reg(PtxType.B32);
        e.Op($"cvt.u32.u64 {lane}, {i}");
        e.Op($"and.b32 {lane}, {lane}, 3");
        var bits = e.Reg(PtxType.B32);
        var p = e.Reg(PtxType.Pred);
        e.Op($"mov.b32 {bits}, {x3}");
        e.Op($"setp.eq.u32 {p}, {lane}, 2");
        e.Op($"selp.b32 {bits}, {x2}, {bits}, {p}");
        e.Op($"setp.eq.u32 {p}, {lane}, 1");
        e.Op($"selp.b32 {bits}, {x1}, {bits}, {p}");
        e.Op($"setp.eq.u32 {p}, {lane}, 0");
        e.Op($"selp.b32 {bits}, {x0}, {bits}, {p}");
        e.Op($"shr.u32 {bits}, {bits}, 8");
        var u = e.Reg(PtxType.F64);
        e.Op($"cvt.rn.f64.u32 {u}, {bits}");
        e.Op($"mul.rn.f64 {u}, {u}, {PtxWriter.F64(1.0 / 16777216.0)}");
        // lo + (hi − lo)·u, each step rounded as the C# expression (no fma).
        e.Op($"mul.rn.f64 {u}, {u}, {PtxWriter.F64(hi - lo)}");
        e.Op($"add.rn.f64 {u}, {u}, {PtxWriter.F64(lo)}");
        if (compute == PtxType.F64) return u;
        var f = e.Reg(PtxType.F32);
        e.Op($"cvt.rn.f32.f64 {f}, {u}");
        return f;
    }

    private static string Hex(uint v) => "0x" + v.ToString("X8", CultureInfo.InvariantCulture);

    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>
    /// Philox 4x32-10 (Philox.Block) of counter (c0 = <paramref name="c0"/>, c1 = <paramref name="c1"/>) under a key known when
    /// the kernel is generated (so the ten round keys are immediates); mul.hi/mul.lo give the 64-bit products' halves.
    /// </summary>
    internal static (Reg X0, Reg X1, Reg X2, Reg X3) PhiloxBlock(PtxEntry e, ulong key, Reg c0, Reg c1)
    {
        Reg x0 = e.Reg(PtxType.B32), x1 = e.Reg(PtxType.B32), x2 = e.Reg(PtxType.B32), x3 = e.Reg(PtxType.B32);
        var tmp = e.Reg(PtxType.B64);
        e.Op($"cvt.u32.u64 {x0}, {c0}");
        e.Op($"shr.u64 {tmp}, {c0}, 32");
        e.Op($"cvt.u32.u64 {x1}, {tmp}");
        e.Op($"cvt.u32.u64 {x2}, {c1}");
        e.Op($"shr.u64 {tmp}, {c1}, 32");
        e.Op($"cvt.u32.u64 {x3}, {tmp}");
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        Reg hi0 = e.Reg(PtxType.B32), lo0 = e.Reg(PtxType.B32), hi1 = e.Reg(PtxType.B32), lo1 = e.Reg(PtxType.B32);
        for (var r = 0; r < 10; r++)
        {
            e.Op($"mul.hi.u32 {hi0}, {x0}, {Hex(M0)}");
            e.Op($"mul.lo.u32 {lo0}, {x0}, {Hex(M0)}");
            e.Op($"mul.hi.u32 {hi1}, {x2}, {Hex(M1)}");
            e.Op($"mul.lo.u32 {lo1}, {x2}, {Hex(M1)}");
            // y0 = hi(p1) ^ x1 ^ k0, y1 = lo(p1), y2 = hi(p0) ^ x3 ^ k1, y3 = lo(p0).
            e.Op($"xor.b32 {x0}, {hi1}, {x1}");
            e.Op($"xor.b32 {x0}, {x0}, {Hex(k0)}");
            e.Op($"mov.b32 {x1}, {lo1}");
            e.Op($"xor.b32 {x2}, {hi0}, {x3}");
            e.Op($"xor.b32 {x2}, {x2}, {Hex(k1)}");
            e.Op($"mov.b32 {x3}, {lo0}");
            k0 += W0;
            k1 += W1;
        }
        return (x0, x1, x2, x3);
    }
}
