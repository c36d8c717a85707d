using System.Text;
using Nabla.Kernels.Cuda.Ptx;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: the PTX below was written without ptxas or a GPU (checked on the tests' PTX emulator only).

/// <summary>Softmax, log-softmax and fused softmax cross-entropy over the rows of a [rows, cols] matrix.</summary>
/// <remarks>
/// <para>One block of 256 threads per row (grid-stride over rows). Pass 1: the row maximum m, NaN propagating
/// (block reduction). When m is finite, pass 2 sums exp(x − m) (block reduction) and lse = m + ln Σ; pass 3 writes
/// exp(x − m) / Σ, or x − lse for log-softmax. exp and ln come from the math library (PtxMath: evaluated in
/// float64, rounded once for float32), every other operation is in the dtype with .rn, as CpuSoftmax does.</para>
/// <para>Non-finite rows follow CpuSoftmax exactly: when m is +∞ or NaN, or the row is all −∞ (m = −∞), lse = m and
/// the outputs are exp(x − m) (softmax) or x − m (log-softmax). The decision depends on m only, which every thread
/// of the block holds, so the branches around the block reductions are block-uniform.</para>
/// <para>Cross-entropy: loss = Σ over nonzero label weights t of t·(lse − x) (dense, a block reduction; zero weights
/// are skipped, so a −∞ logit under weight 0 adds 0), or lse − x[label] (sparse; a label outside [0, cols) gives
/// NaN, and a row of zero columns gives 0 as on the CPU). backprop (when its address is not 0) = softmax − labels,
/// NaN throughout for a bad sparse label.</para>
/// </remarks>
internal static partial class ComputeKernels
{
    private static void SoftmaxLaunch(IKernelLauncher k, DType dtype, ulong x, ulong y, int rows, int cols, bool log)
    {
        if (!dtype.IsFloating()) throw new NotSupportedException($"Softmax is defined for float32 and float64, not {dtype.Name()}");
        if (rows == 0 || cols == 0) return;
        var function = k.Function($"compute.softmax.{dtype}.{(log ? "log" : "plain")}", () => SoftmaxPtx(dtype, log, crossEntropy: false, sparse: false, DType.Int32), "softmax");
        k.Launch(function, ((uint)Math.Min(rows, 65_535), 1, 1), LaunchShape.Block, 0,
            new KernelArgs().U64(x).U64(y).U64(0).U64(0).U32((uint)rows).U32((uint)cols));
    }

    private static void SoftmaxCrossEntropyLaunch(IKernelLauncher k, DType dtype, ulong logits, DType labelDType, ulong labels, bool sparse,
        int rows, int cols, ulong loss, ulong backprop)
    {
        if (!dtype.IsFloating()) throw new NotSupportedException($"SoftmaxCrossEntropy is defined for float32 and float64 logits, not {dtype.Name()}");
        if (sparse ? !labelDType.IsInteger() : labelDType != dtype)
            throw new NotSupportedException($"{(sparse ? "sparse labels must be int32 or int64" : "dense labels must have the logits' dtype")}, got {labelDType.Name()}");
        if (rows == 0) return;
        var key = $"compute.softmax_xent.{dtype}.{(sparse ? labelDType.ToString() : "dense")}";
        var function = k.Function(key, () => SoftmaxPtx(dtype, log: false, crossEntropy: true, sparse, labelDType), "softmax_xent");
        k.Launch(function, ((uint)Math.Min(rows, 65_535), 1, 1), LaunchShape.Block, 0,
            new KernelArgs().U64(logits).U64(backprop).U64(labels).U64(loss).U32((uint)rows).U32((uint)cols));
    }

    /// <summary>
    /// The softmax kernel (y = softmax or log-softmax) or the cross-entropy kernel (y = backprop, may be 0), with
    /// parameters (x, y, labels, loss, rows, cols).
    /// </summary>
    private static string SoftmaxPtx(DType dtype, bool log, bool crossEntropy, bool sparse, DType labelDType)
    {
        var t = PtxScalar.Of(dtype);
        var x = t.Suffix;
        var entryName = crossEntropy ? "softmax_xent" : "softmax";
        var writer = new PtxWriter($"{entryName} {dtype}");
        var e = writer.Entry(entryName);
        var px = e.Pointer("x").ToString();
        var py = e.Param("u64", "y").ToString();
        var pl = e.Pointer("labels").ToString();
        var ploss = e.Pointer("loss").ToString();
        var rows = e.Param("u32", "rows").ToString();
        var cols = e.Param("u32", "cols").ToString();
        var s = new StringBuilder();
        void Flush()
        {
            RawPtx.Emit(e, s.ToString());
            s.Clear();
        }
        string Combine(ReduceOp op) => ReduceCombine(op, t, "%acc", null, "%v", null);
        string Max(string a, string? ai, string b, string? bi) => ReduceCombine(ReduceOp.Max, t, a, ai, b, bi);
        string Sum(string a, string? ai, string b, string? bi) => ReduceCombine(ReduceOp.Sum, t, a, ai, b, bi);

        s.Append(ComputePtx.ShuffleRegisters);
        s.AppendLine(".reg .pred %stop, %finite, %c_nan, %c_idx, %has_y, %bad, %bad2, %lead");
        s.AppendLine(".reg .b32 %tx, %bs, %row, %j, %q");
        s.AppendLine(".reg .b64 %xr, %yr, %lr, %off, %a, %y, %lab, %jj");
        s.AppendLine($".reg .{x} %acc, %v, %m, %sum, %lse, %c_sum, %ex, %tw");
        s.AppendLine($"mov.b64 %y, {py}");
        s.AppendLine("setp.ne.u64 %has_y, %y, 0");
        s.AppendLine("@%has_y cvta.to.global.u64 %y, %y");
        s.AppendLine("mov.u32 %tx, %tid.x");
        s.AppendLine("mov.u32 %bs, %ntid.x");
        s.AppendLine("setp.eq.u32 %lead, %tx, 0");
        s.AppendLine("mov.u32 %row, %ctaid.x");
        s.AppendLine("$sm_row:");
        s.AppendLine($"setp.ge.u32 %stop, %row, {rows}");
        s.AppendLine("@%stop bra $sm_end");
        s.AppendLine($"mul.wide.u32 %off, %row, {cols}");
        s.AppendLine($"shl.b64 %off, %off, {t.Shift}");
        s.AppendLine($"add.s64 %xr, {px}, %off");
        s.AppendLine("add.s64 %yr, %y, %off");
        if (crossEntropy && !sparse) s.AppendLine($"add.s64 %lr, {pl}, %off");

        // A loop over this thread's columns j = tx, tx + bs, ...: %a = &x[row, j], %off = j·size; body between.
        var loops = 0;
        string LoopStart()
        {
            var name = $"$sm_loop{loops++}";
            s.AppendLine("mov.u32 %j, %tx");
            s.AppendLine($"{name}:");
            s.AppendLine($"setp.ge.u32 %stop, %j, {cols}");
            s.AppendLine($"@%stop bra {name}_done");
            s.AppendLine($"mul.wide.u32 %off, %j, {t.Size}");
            s.AppendLine("add.s64 %a, %xr, %off");
            s.AppendLine($"ld.global.{x} %v, [%a]");
            return name;
        }
        void LoopEnd(string name)
        {
            s.AppendLine("add.u32 %j, %j, %bs");
            s.AppendLine($"bra.uni {name}");
            s.AppendLine($"{name}_done:");
        }

        // Pass 1: the row maximum.
        s.AppendLine($"mov.{x} %acc, {t.Constant(double.NegativeInfinity)}");
        var l = LoopStart();
        s.Append(Combine(ReduceOp.Max));
        LoopEnd(l);
        ComputePtx.BlockReduce(s, t, "%acc", null, "%v", null, t.Constant(double.NegativeInfinity), "red_val", null, Max, "max");
        s.AppendLine($"mov.{x} %m, %acc");
        s.AppendLine($"abs.{x} %v, %m");
        s.AppendLine($"setp.lt.{x} %finite, %v, {t.Constant(double.PositiveInfinity)}");
        // Non-finite maximum: lse = m, Σ = 1 (softmax = exp(x − m) undivided, as the CPU).
        s.AppendLine($"mov.{x} %lse, %m");
        s.AppendLine($"mov.{x} %sum, {t.Constant(1)}");
        s.AppendLine("@!%finite bra $sm_have_lse");
        // Pass 2: Σ exp(x − m), lse = m + ln Σ.
        s.AppendLine($"mov.{x} %acc, {t.Constant(0)}");
        l = LoopStart();
        s.AppendLine($"sub.rn.{x} %v, %v, %m");
        Flush();
        RawPtx.Math(e, "exp", x, "%v", "%v");
        s.Append(Combine(ReduceOp.Sum));
        LoopEnd(l);
        ComputePtx.BlockReduce(s, t, "%acc", null, "%v", null, t.Constant(0), "red_val", null, Sum, "sum");
        s.AppendLine($"mov.{x} %sum, %acc");
        Flush();
        RawPtx.Math(e, "log", x, "%lse", "%sum");
        s.AppendLine($"add.rn.{x} %lse, %m, %lse");
        s.AppendLine("$sm_have_lse:");

        if (crossEntropy)
        {
            if (sparse)
            {
                // Thread 0: loss = lse − x[label], NaN for a label outside [0, cols), 0 for a row of no columns.
                s.AppendLine($"cvt.u64.u32 %off, %row");
                s.AppendLine($"shl.b64 %off, %off, {(labelDType.SizeOf() == 4 ? 2 : 3)}");
                s.AppendLine($"add.s64 %a, {pl}, %off");
                if (labelDType == DType.Int32)
                {
                    s.AppendLine("ld.global.s32 %q, [%a]");
                    s.AppendLine("cvt.s64.s32 %lab, %q");
                }
                else s.AppendLine("ld.global.s64 %lab, [%a]");
                s.AppendLine("cvt.u64.u32 %jj, " + cols);
                s.AppendLine("setp.lt.s64 %bad, %lab, 0");
                s.AppendLine("setp.ge.s64 %bad2, %lab, %jj");
                s.AppendLine("or.pred %bad, %bad, %bad2");
                s.AppendLine($"mov.{x} %acc, {t.Constant(double.NaN)}");
                s.AppendLine("@%bad bra $sm_loss");
                s.AppendLine($"shl.b64 %off, %lab, {t.Shift}");
                s.AppendLine("add.s64 %a, %xr, %off");
                s.AppendLine($"ld.global.{x} %v, [%a]");
                s.AppendLine($"sub.rn.{x} %acc, %lse, %v");
                s.AppendLine("$sm_loss:");
                s.AppendLine($"setp.eq.u32 %bad2, {cols}, 0");
                s.AppendLine($"@%bad2 mov.{x} %acc, {t.Constant(0)}");
            }
            else
            {
                // loss = Σ_{t ≠ 0} t·(lse − x), a block reduction.
                s.AppendLine($"mov.{x} %acc, {t.Constant(0)}");
                l = LoopStart();
                s.AppendLine("add.s64 %a, %lr, %off");
                s.AppendLine($"ld.global.{x} %tw, [%a]");
                s.AppendLine($"sub.rn.{x} %v, %lse, %v");
                s.AppendLine($"mul.rn.{x} %v, %tw, %v");
                s.AppendLine($"setp.ne.{x} %bad, %tw, {t.Constant(0)}");
                s.AppendLine($"@%bad add.rn.{x} %acc, %acc, %v");
                LoopEnd(l);
                ComputePtx.BlockReduce(s, t, "%acc", null, "%v", null, t.Constant(0), "red_val", null, Sum, "loss");
            }
            s.AppendLine("cvt.u64.u32 %off, %row");
            s.AppendLine($"shl.b64 %off, %off, {t.Shift}");
            s.AppendLine($"add.s64 %a, {ploss}, %off");
            s.AppendLine($"@%lead st.global.{x} [%a], %acc");
            s.AppendLine("@!%has_y bra $sm_next");
        }

        // Pass 3: the outputs.
        l = LoopStart();
        if (log && !crossEntropy) s.AppendLine($"sub.rn.{x} %v, %v, %lse");
        else
        {
            s.AppendLine($"sub.rn.{x} %v, %v, %m");
            Flush();
            RawPtx.Math(e, "exp", x, "%v", "%v");
            s.AppendLine($"div.rn.{x} %v, %v, %sum");
            if (crossEntropy && sparse)
            {
                s.AppendLine($"cvt.u64.u32 %jj, %j");
                s.AppendLine("setp.eq.s64 %bad2, %jj, %lab");
                s.AppendLine($"@%bad2 sub.rn.{x} %v, %v, {t.Constant(1)}");
                s.AppendLine($"@%bad mov.{x} %v, {t.Constant(double.NaN)}");
            }
            else if (crossEntropy)
            {
                s.AppendLine("add.s64 %a, %lr, %off");
                s.AppendLine($"ld.global.{x} %tw, [%a]");
                s.AppendLine($"sub.rn.{x} %v, %v, %tw");
            }
        }
        s.AppendLine("add.s64 %a, %yr, %off");
        s.AppendLine($"st.global.{x} [%a], %v");
        LoopEnd(l);
        s.AppendLine("$sm_next:");
        s.AppendLine("mov.u32 %q, %nctaid.x");
        s.AppendLine("add.u32 %row, %row, %q");
        s.AppendLine("bra.uni $sm_row");
        s.AppendLine("$sm_end:");
        Flush();
        // Module scope, as nvcc places (demotes) kernel-level __shared__ arrays.
        writer.Append($".shared .align 8 .b8 red_val[{ComputePtx.MaxWarps * 8}];\n");
        e.End();
        return writer.ToString();
    }
}
