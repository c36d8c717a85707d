using System.Globalization;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: written without ptxas or a GPU; run only on the tests' PTX emulator
// (CudaElementwiseKernelTests). The GPU subclass of those tests checks it on the first machine with one.

/// <summary>
/// The PTX text of the generated element-wise kernels of <see cref="ElementwiseKernels"/>: one kernel per
/// (family, op, dtype, rank), JIT-compiled once per key by the launcher. Every kernel is a 1-D
/// grid-stride loop over the n elements of the (collapsed) output shape, any block size and grid ≥ 1.
/// </summary>
/// <remarks>
/// <para>Index arithmetic is 32-bit: n ≤ int.MaxValue (buffers hold at most int.MaxValue elements),
/// and an element's offset from its view's first element fits in an int even when partial sums of
/// index·stride wrap, because two's-complement wrap is exact modulo 2³².</para>
/// <para>A strided operand's address is base + elementSize·Σ i_d·stride_d; the linear index is
/// split into i_d by dividing by the shape's dimensions from the last (fastest) to the second; the first
/// dimension takes the quotient that remains, so a rank-1 kernel divides nothing.</para>
/// <para>Bools are one byte holding 0 or 1; they are loaded into a 16-bit register (as nvcc does) and
/// computed on as 0/1 in 32 bits.</para>
/// </remarks>
internal static partial class ElementwisePtx
{
    /// <summary>An operand of a generated loop: a pointer parameter, its element size, and whether it is strided (else contiguous: element i).</summary>
    private readonly record struct Operand(string Name, int Size, bool Strided);

    /// <summary>
    /// The shared skeleton: parameters (one .u64 per operand, .u32 n, then for strided operands one byte array
    /// p of int32 [shape[rank], strides of each strided operand[rank]], then what <paramref name="prologue"/> declares),
    /// the grid-stride loop, and per element the operands' addresses handed to <paramref name="body"/>.
    /// The prologue runs once per thread before the loop and may branch to the label it is given to skip the loop.
    /// </summary>
    private static string Loop(string entry, string header, int rank, IReadOnlyList<Operand> operands,
        Action<PtxKernelBuilder, string> prologue, Action<PtxKernelBuilder, string[]> body)
    {
        var k = new PtxKernelBuilder(entry);
        var pointerParams = operands.Select(o => k.Param(".u64", o.Name)).ToArray();
        var nParam = k.Param(".u32", "n");
        var stridedCount = operands.Count(o => o.Strided);
        var pParam = stridedCount > 0 ? k.ParamBytes("p", 4 * rank * (1 + stridedCount)) : null;
        var done = k.NewLabel("done");
        var loop = k.NewLabel("loop");

        var bases = new string[operands.Count];
        for (var o = 0; o < operands.Count; o++)
        {
            var raw = k.B64();
            k.Emit($"ld.param.u64 {raw}, [{pointerParams[o]}];");
            bases[o] = k.B64();
            k.Emit($"cvta.to.global.u64 {bases[o]}, {raw};");
        }
        var n = k.B32();
        k.Emit($"ld.param.u32 {n}, [{nParam}];");

        // shape[d] for d ≥ 1 (dimension 0 needs no division) and each strided operand's strides.
        var shape = new string[rank];
        var strides = new string[stridedCount][];
        if (pParam is not null)
        {
            for (var d = 1; d < rank; d++)
            {
                shape[d] = k.B32();
                k.Emit($"ld.param.u32 {shape[d]}, [{pParam}+{4 * d}];");
            }
            for (var s = 0; s < stridedCount; s++)
            {
                strides[s] = new string[rank];
                for (var d = 0; d < rank; d++)
                {
                    strides[s][d] = k.B32();
                    k.Emit($"ld.param.u32 {strides[s][d]}, [{pParam}+{4 * (rank * (1 + s) + d)}];");
                }
            }
        }

        prologue(k, done);

        string ctaid = k.B32(), ntid = k.B32(), tid = k.B32(), nctaid = k.B32(), i = k.B32(), step = k.B32();
        k.Emit($"mov.u32 {ctaid}, %ctaid.x;");
        k.Emit($"mov.u32 {ntid}, %ntid.x;");
        k.Emit($"mov.u32 {tid}, %tid.x;");
        k.Emit($"mov.u32 {nctaid}, %nctaid.x;");
        k.Emit($"mad.lo.u32 {i}, {ctaid}, {ntid}, {tid};");
        k.Emit($"mul.lo.u32 {step}, {nctaid}, {ntid};");

        k.Place(loop);
        var stop = k.Pred();
        k.Emit($"setp.ge.u32 {stop}, {i}, {n};");
        k.Emit($"@{stop} bra {done};");

        // Offsets (in elements) of the strided operands.
        var offsets = new string[stridedCount];
        if (stridedCount > 0)
        {
            var index = i;
            for (var d = rank - 1; d >= 1; d--)
            {
                string q = k.B32(), t = k.B32(), r = k.B32();
                k.Emit($"div.u32 {q}, {index}, {shape[d]};");
                k.Emit($"mul.lo.u32 {t}, {q}, {shape[d]};");
                k.Emit($"sub.u32 {r}, {index}, {t};");
                for (var s = 0; s < stridedCount; s++) offsets[s] = MultiplyAdd(k, r, strides[s][d], offsets[s]);
                index = q;
            }
            for (var s = 0; s < stridedCount; s++) offsets[s] = MultiplyAdd(k, index, strides[s][0], offsets[s]);
        }

        var addresses = new string[operands.Count];
        for (int o = 0, s = 0; o < operands.Count; o++)
        {
            var bytes = k.B64();
            if (operands[o].Strided) k.Emit($"mul.wide.s32 {bytes}, {offsets[s++]}, {operands[o].Size};");
            else k.Emit($"mul.wide.u32 {bytes}, {i}, {operands[o].Size};");
            addresses[o] = k.B64();
            k.Emit($"add.s64 {addresses[o]}, {bases[o]}, {bytes};");
        }

        body(k, addresses);

        k.Emit($"add.u32 {i}, {i}, {step};");
        k.Emit($"bra.uni {loop};");
        k.Place(done);
        k.Emit("ret;");
        return k.Build(header);
    }

    /// <summary>offset + index·stride in 32 bits (the first term is a plain product).</summary>
    private static string MultiplyAdd(PtxKernelBuilder k, string index, string stride, string? offset)
    {
        var result = k.B32();
        if (offset is null) k.Emit($"mul.lo.s32 {result}, {index}, {stride};");
        else k.Emit($"mad.lo.s32 {result}, {index}, {stride}, {offset};");
        return result;
    }

    private static void NoPrologue(PtxKernelBuilder k, string done) { }

    /// <summary>The register kind a dtype's values live in (bools as 0/1 in 32 bits).</summary>
    private static string Kind(DType t) => t switch
    {
        DType.Float32 => "f32",
        DType.Float64 => "f64",
        DType.Int64 => "b64",
        _ => "b32",
    };

    /// <summary>The PTX instruction type of arithmetic on a dtype.</summary>
    private static string Type(DType t) => t switch
    {
        DType.Float32 => "f32",
        DType.Float64 => "f64",
        DType.Int32 => "s32",
        DType.Int64 => "s64",
        DType.Bool => "u32",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "no PTX type"),
    };

    /// <summary>Loads an element of dtype <paramref name="t"/> at <paramref name="address"/> into a fresh register.</summary>
    private static string Load(PtxKernelBuilder k, DType t, string address)
    {
        if (t == DType.Bool)
        {
            string h = k.B16(), r = k.B32();
            k.Emit($"ld.global.u8 {h}, [{address}];");
            k.Emit($"cvt.u32.u16 {r}, {h};");
            return r;
        }
        var v = k.Reg(Kind(t));
        k.Emit($"ld.global.{Type(t)} {v}, [{address}];");
        return v;
    }

    /// <summary>Stores <paramref name="value"/> (a register of <see cref="Kind"/>) as an element of dtype <paramref name="t"/>.</summary>
    private static void Store(PtxKernelBuilder k, DType t, string address, string value)
    {
        if (t == DType.Bool)
        {
            var h = k.B16();
            k.Emit($"cvt.u16.u32 {h}, {value};");
            k.Emit($"st.global.u8 [{address}], {h};");
            return;
        }
        k.Emit($"st.global.{Type(t)} [{address}], {value};");
    }

    /// <summary>Loads <paramref name="width"/> raw bytes (1, 4 or 8) at <paramref name="address"/>.</summary>
    private static string LoadRaw(PtxKernelBuilder k, int width, string address)
    {
        var (reg, type) = Raw(k, width);
        k.Emit($"ld.global.{type} {reg}, [{address}];");
        return reg;
    }

    /// <summary>Stores the raw <paramref name="width"/> bytes of <paramref name="value"/>.</summary>
    private static void StoreRaw(PtxKernelBuilder k, int width, string address, string value) =>
        k.Emit($"st.global.{RawType(width)} [{address}], {value};");

    private static (string Reg, string Type) Raw(PtxKernelBuilder k, int width) => width switch
    {
        1 => (k.B16(), "u8"),
        4 => (k.B32(), "b32"),
        8 => (k.B64(), "b64"),
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "element widths are 1, 4 and 8 bytes"),
    };

    private static string RawType(int width) => width switch
    {
        1 => "u8",
        4 => "b32",
        8 => "b64",
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "element widths are 1, 4 and 8 bytes"),
    };

    /// <summary>A decimal immediate.</summary>
    private static string Imm(long value) => value.ToString(CultureInfo.InvariantCulture);
}
