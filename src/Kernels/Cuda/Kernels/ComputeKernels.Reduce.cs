using System.Globalization;
using System.Text;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: the PTX below was written without ptxas or a GPU (checked on the tests' PTX emulator only).

/// <summary>Reductions over the middle axis of [outer, reduce, inner] (see <see cref="ReduceOp"/>).</summary>
/// <remarks>
/// Two kernels per (op, dtype), generated as PTX text:
/// <list type="bullet">
/// <item><c>reduce_rows</c> (inner == 1): one block of 256 threads per output row (grid-stride over rows);
/// each thread folds elements tid, tid + 256, ... and the block combines the partials with warp butterflies
/// (<c>shfl.sync.bfly</c>) and one shared slot per warp.</item>
/// <item><c>reduce_cols</c> (inner &gt; 1): one thread per output column, looping over the reduced axis;
/// consecutive threads read consecutive addresses, so every step is a coalesced row read.</item>
/// </list>
/// Float sums and products are therefore summed in a different order from the CPU's (within float
/// tolerance); max/min/arg ops are exact. Max and min propagate NaN (max.f32 alone would drop it).
/// ArgMax/ArgMin pick, among the candidates each thread keeps, the one with the greater (smaller)
/// value, NaN above everything, and the lower index on ties, which makes the result the CPU's
/// "first maximum, first NaN wins" whatever the order of combination. An empty axis gives the op's
/// identity (Sum 0, Mean 0/0 = NaN, Max −∞ or MinValue, Min +∞ or MaxValue, Prod 1) and index 0.
/// </remarks>
internal static partial class ComputeKernels
{
    private static void ReduceLaunch(IKernelLauncher k, ReduceOp op, DType dtype, ulong x, int outer, int reduce, int inner, ulong y)
    {
        if (!dtype.IsNumeric()) throw new NotSupportedException($"Reduce {op} is not defined for {dtype.Name()}");
        if (dtype.IsInteger() && op == ReduceOp.Mean) throw new NotSupportedException($"Reduce {op} is not defined for integers");
        if (outer == 0 || inner == 0) return;
        var rows = inner == 1;
        var key = $"compute.reduce.{op}.{dtype}.{(rows ? "rows" : "cols")}";
        var args = new KernelArgs().U64(x).U64(y).U32((uint)outer).U32((uint)reduce).U32((uint)inner);
        if (rows)
        {
            var function = k.Function(key, () => ReducePtx(op, dtype, rows: true), "reduce_rows");
            k.Launch(function, ((uint)Math.Min(outer, 65_535), 1, 1), LaunchShape.Block, 0, args);
        }
        else
        {
            var function = k.Function(key, () => ReducePtx(op, dtype, rows: false), "reduce_cols");
            k.Launch(function, LaunchShape.Grid((long)outer * inner), LaunchShape.Block, 0, args);
        }
    }

    /// <summary>The identity of <paramref name="op"/> on <paramref name="t"/>, as a PTX immediate.</summary>
    private static string ReduceIdentity(ReduceOp op, PtxScalar t) => op switch
    {
        ReduceOp.Sum or ReduceOp.Mean => t.IsFloat ? t.Constant(0) : t.Integer(0),
        ReduceOp.Prod => t.IsFloat ? t.Constant(1) : t.Integer(1),
        ReduceOp.Max or ReduceOp.ArgMax => t.IsFloat ? t.Constant(double.NegativeInfinity) : t.Integer(t.Wide ? long.MinValue : int.MinValue),
        _ => t.IsFloat ? t.Constant(double.PositiveInfinity) : t.Integer(t.Wide ? long.MaxValue : int.MaxValue),
    };

    /// <summary>PTX that folds b (index bi) into a (index ai) for <paramref name="op"/>; uses the predicates %c_*.</summary>
    private static string ReduceCombine(ReduceOp op, PtxScalar t, string a, string? ai, string b, string? bi)
    {
        var x = t.Suffix;
        switch (op)
        {
            case ReduceOp.Sum or ReduceOp.Mean:
                return t.IsFloat ? $"    add.rn.{x} {a}, {a}, {b};\n" : $"    add.{x} {a}, {a}, {b};\n";
            case ReduceOp.Prod:
                return t.IsFloat ? $"    mul.rn.{x} {a}, {a}, {b};\n" : $"    mul.lo.{x} {a}, {a}, {b};\n";
            case ReduceOp.Max or ReduceOp.Min:
                {
                    var m = op == ReduceOp.Max ? "max" : "min";
                    if (!t.IsFloat) return $"    {m}.{x} {a}, {a}, {b};\n";
                    // max/min return the other operand for one NaN input; a + b is NaN whenever either is.
                    return $"    setp.nan.{x} %c_nan, {a}, {b};\n    add.{x} %c_sum, {a}, {b};\n    {m}.{x} {a}, {a}, {b};\n    selp.{x} {a}, %c_sum, {a}, %c_nan;\n";
                }
            default:
                {
                    var better = op == ReduceOp.ArgMax ? "gt" : "lt";
                    var s = new StringBuilder();
                    s.Append(CultureInfo.InvariantCulture, $"    setp.lt.s32 %c_idx, {bi}, {ai};\n");
                    s.Append(CultureInfo.InvariantCulture, $"    setp.{better}.{x} %c_take, {b}, {a};\n");
                    s.Append(CultureInfo.InvariantCulture, $"    setp.eq.{x} %c_tie, {b}, {a};\n");
                    s.Append("    and.pred %c_tie, %c_tie, %c_idx;\n");
                    s.Append("    or.pred %c_take, %c_take, %c_tie;\n");
                    if (t.IsFloat)
                    {
                        // b wins as a NaN when a is not NaN, or both are and b comes first.
                        s.Append(CultureInfo.InvariantCulture, $"    setp.nan.{x} %c_bnan, {b}, {b};\n");
                        s.Append(CultureInfo.InvariantCulture, $"    setp.nan.{x} %c_anan, {a}, {a};\n");
                        s.Append("    not.pred %c_anan, %c_anan;\n");
                        s.Append("    or.pred %c_anan, %c_anan, %c_idx;\n");
                        s.Append("    and.pred %c_bnan, %c_bnan, %c_anan;\n");
                        s.Append("    or.pred %c_take, %c_take, %c_bnan;\n");
                    }
                    s.Append(CultureInfo.InvariantCulture, $"    selp.{x} {a}, {b}, {a}, %c_take;\n");
                    s.Append(CultureInfo.InvariantCulture, $"    selp.b32 {ai}, {bi}, {ai}, %c_take;\n");
                    return s.ToString();
                }
        }
    }

    /// <summary>Writes the result for output element %out (.u64 element index) from %acc / %ai.</summary>
    private static void ReduceStore(StringBuilder s, ReduceOp op, PtxScalar t)
    {
        var arg = op is ReduceOp.ArgMax or ReduceOp.ArgMin;
        if (op == ReduceOp.Mean)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    cvt.rn.{t.Suffix}.u32 %v, %reduce;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    div.rn.{t.Suffix} %acc, %acc, %v;");
        }
        if (arg)
        {
            // An empty axis leaves the sentinel index; it reports 0.
            s.AppendLine("    setp.eq.s32 %c_idx, %ai, 0x7fffffff;");
            s.AppendLine("    selp.b32 %ai, 0, %ai, %c_idx;");
            s.AppendLine("    cvt.s64.s32 %a, %ai;");
            s.AppendLine("    shl.b64 %off, %out, 3;");
            s.AppendLine("    add.s64 %off, %y, %off;");
            s.AppendLine("    st.global.s64 [%off], %a;");
        }
        else
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    shl.b64 %off, %out, {t.Shift};");
            s.AppendLine("    add.s64 %off, %y, %off;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    st.global.{t.Suffix} [%off], %acc;");
        }
    }

    private static string ReducePtx(ReduceOp op, DType dtype, bool rows)
    {
        var t = PtxScalar.Of(dtype);
        var arg = op is ReduceOp.ArgMax or ReduceOp.ArgMin;
        var identity = ReduceIdentity(op, t);
        var s = new StringBuilder(ComputePtx.Header);
        if (rows)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $".shared .align 8 .b8 red_val[{ComputePtx.MaxWarps * 8}];");
            s.AppendLine(CultureInfo.InvariantCulture, $".shared .align 4 .b8 red_idx[{ComputePtx.MaxWarps * 4}];");
        }
        var entry = rows ? "reduce_rows" : "reduce_cols";
        s.AppendLine(CultureInfo.InvariantCulture, $".visible .entry {entry}(.param .u64 p_x, .param .u64 p_y, .param .u32 p_outer, .param .u32 p_reduce, .param .u32 p_inner)");
        s.AppendLine("{");
        s.Append(ComputePtx.ShuffleRegisters);
        s.AppendLine("    .reg .pred %p_end, %c_nan, %c_idx, %c_take, %c_tie, %c_bnan, %c_anan;");
        s.AppendLine("    .reg .b32 %tx, %bs, %outer, %reduce, %inner, %r, %ai, %bi, %row;");
        s.AppendLine("    .reg .b64 %x, %y, %a, %off, %out, %total, %stride, %step;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .reg .{t.Suffix} %acc, %v, %c_sum;");
        s.AppendLine("    ld.param.u64 %x, [p_x];");
        s.AppendLine("    ld.param.u64 %y, [p_y];");
        s.AppendLine("    ld.param.u32 %outer, [p_outer];");
        s.AppendLine("    ld.param.u32 %reduce, [p_reduce];");
        s.AppendLine("    ld.param.u32 %inner, [p_inner];");
        s.AppendLine("    cvta.to.global.u64 %x, %x;");
        s.AppendLine("    cvta.to.global.u64 %y, %y;");
        s.AppendLine("    mov.u32 %tx, %tid.x;");
        s.AppendLine("    mov.u32 %bs, %ntid.x;");
        string Combine(string a, string? ai, string b, string? bi) => ReduceCombine(op, t, a, ai, b, bi);
        if (rows)
        {
            s.AppendLine("    mov.u32 %row, %ctaid.x;");
            s.AppendLine("$row_loop:");
            s.AppendLine("    setp.ge.u32 %p_end, %row, %outer;");
            s.AppendLine("    @%p_end bra $done;");
            s.AppendLine("    mul.wide.u32 %a, %row, %reduce;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    shl.b64 %a, %a, {t.Shift};");
            s.AppendLine("    add.s64 %a, %x, %a;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    mov.{t.Move} %acc, {identity};");
            s.AppendLine("    mov.b32 %ai, 0x7fffffff;");
            s.AppendLine("    mov.u32 %r, %tx;");
            s.AppendLine("$elem_loop:");
            s.AppendLine("    setp.ge.u32 %p_end, %r, %reduce;");
            s.AppendLine("    @%p_end bra $elem_done;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    mul.wide.u32 %off, %r, {t.Size};");
            s.AppendLine("    add.s64 %off, %a, %off;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    ld.global.{t.Suffix} %v, [%off];");
            s.AppendLine("    mov.b32 %bi, %r;");
            s.Append(Combine("%acc", "%ai", "%v", "%bi"));
            s.AppendLine("    add.u32 %r, %r, %bs;");
            s.AppendLine("    bra.uni $elem_loop;");
            s.AppendLine("$elem_done:");
            ComputePtx.BlockReduce(s, t, "%acc", arg ? "%ai" : null, "%v", arg ? "%bi" : null, identity, "red_val", arg ? "red_idx" : null, Combine, "over the row");
            s.AppendLine("    setp.ne.u32 %p_end, %tx, 0;");
            s.AppendLine("    @%p_end bra $next_row;");
            s.AppendLine("    cvt.u64.u32 %out, %row;");
            ReduceStore(s, op, t);
            s.AppendLine("$next_row:");
            s.AppendLine("    mov.u32 %r, %nctaid.x;");
            s.AppendLine("    add.u32 %row, %row, %r;");
            s.AppendLine("    bra.uni $row_loop;");
        }
        else
        {
            // out = o·inner + i over outer·inner outputs; element r of column out is x[(o·reduce + r)·inner + i].
            s.AppendLine("    mul.wide.u32 %total, %outer, %inner;");
            s.AppendLine("    mov.u32 %r, %ctaid.x;");
            s.AppendLine("    mul.wide.u32 %out, %r, %bs;");
            s.AppendLine("    cvt.u64.u32 %a, %tx;");
            s.AppendLine("    add.s64 %out, %out, %a;");
            s.AppendLine("    mov.u32 %r, %nctaid.x;");
            s.AppendLine("    mul.wide.u32 %stride, %r, %bs;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    mul.wide.u32 %step, %inner, {t.Size};");
            s.AppendLine("$col_loop:");
            s.AppendLine("    setp.ge.u64 %p_end, %out, %total;");
            s.AppendLine("    @%p_end bra $done;");
            s.AppendLine("    cvt.u64.u32 %a, %inner;");
            s.AppendLine("    div.u64 %off, %out, %a;");            // o
            s.AppendLine("    mul.lo.u64 %a, %off, %a;");
            s.AppendLine("    sub.u64 %a, %out, %a;");               // i
            s.AppendLine("    cvt.u64.u32 %total, %reduce;");
            s.AppendLine("    mul.lo.u64 %off, %off, %total;");
            s.AppendLine("    cvt.u64.u32 %total, %inner;");
            s.AppendLine("    mul.lo.u64 %off, %off, %total;");
            s.AppendLine("    add.s64 %off, %off, %a;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    shl.b64 %off, %off, {t.Shift};");
            s.AppendLine("    add.s64 %a, %x, %off;");
            s.AppendLine("    mul.wide.u32 %total, %outer, %inner;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    mov.{t.Move} %acc, {identity};");
            s.AppendLine("    mov.b32 %ai, 0x7fffffff;");
            s.AppendLine("    mov.u32 %r, 0;");
            s.AppendLine("$elem_loop:");
            s.AppendLine("    setp.ge.u32 %p_end, %r, %reduce;");
            s.AppendLine("    @%p_end bra $elem_done;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    ld.global.{t.Suffix} %v, [%a];");
            s.AppendLine("    mov.b32 %bi, %r;");
            s.Append(Combine("%acc", "%ai", "%v", "%bi"));
            s.AppendLine("    add.s64 %a, %a, %step;");
            s.AppendLine("    add.u32 %r, %r, 1;");
            s.AppendLine("    bra.uni $elem_loop;");
            s.AppendLine("$elem_done:");
            ReduceStore(s, op, t);
            s.AppendLine("    add.s64 %out, %out, %stride;");
            s.AppendLine("    bra.uni $col_loop;");
        }
        s.AppendLine("$done:");
        s.AppendLine("    ret;");
        s.AppendLine("}");
        return s.ToString();
    }
}
