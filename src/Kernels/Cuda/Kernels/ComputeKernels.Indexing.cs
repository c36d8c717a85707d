using System.Globalization;
using System.Text;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: the PTX below was written without ptxas or a GPU (checked on the tests' PTX emulator only).

/// <summary>Gather, scatter-add and the device-side checks.</summary>
internal static partial class ComputeKernels
{
    /// <summary>
    /// Emits the decomposition of the flat element index %e (.u64) of an [outer, count, inner] array into
    /// %o, %j, %i (.u64), with %count and %inner (.u64) loaded.
    /// </summary>
    private static void Decompose(StringBuilder s)
    {
        s.AppendLine("    div.u64 %t, %e, %inner;");
        s.AppendLine("    mul.lo.u64 %i, %t, %inner;");
        s.AppendLine("    sub.u64 %i, %e, %i;");
        s.AppendLine("    div.u64 %o, %t, %count;");
        s.AppendLine("    mul.lo.u64 %j, %o, %count;");
        s.AppendLine("    sub.u64 %j, %t, %j;");
    }

    /// <summary>Loads indices[%j] into %k (.s64) and sets %bad when it is outside [0, %axis).</summary>
    private static void LoadIndex(StringBuilder s, DType indexDType)
    {
        if (indexDType == DType.Int32)
        {
            s.AppendLine("    shl.b64 %t, %j, 2;");
            s.AppendLine("    add.s64 %t, %idx, %t;");
            s.AppendLine("    ld.global.s32 %k32, [%t];");
            s.AppendLine("    cvt.s64.s32 %k, %k32;");
        }
        else
        {
            s.AppendLine("    shl.b64 %t, %j, 3;");
            s.AppendLine("    add.s64 %t, %idx, %t;");
            s.AppendLine("    ld.global.s64 %k, [%t];");
        }
        s.AppendLine("    setp.lt.s64 %bad, %k, 0;");
        s.AppendLine("    setp.ge.s64 %bad2, %k, %axis;");
        s.AppendLine("    or.pred %bad, %bad, %bad2;");
    }

    /// <summary>The grid-stride prologue over %n (.u64) elements: %e is this thread's first element, %stride the step.</summary>
    private static void GridStride(StringBuilder s)
    {
        s.AppendLine("    mov.u32 %r1, %ctaid.x;");
        s.AppendLine("    mov.u32 %r2, %ntid.x;");
        s.AppendLine("    mul.wide.u32 %e, %r1, %r2;");
        s.AppendLine("    mov.u32 %r1, %tid.x;");
        s.AppendLine("    cvt.u64.u32 %t, %r1;");
        s.AppendLine("    add.s64 %e, %e, %t;");
        s.AppendLine("    mov.u32 %r1, %nctaid.x;");
        s.AppendLine("    mul.wide.u32 %stride, %r1, %r2;");
    }

    private static void IndexIndexChecks(DType indexDType)
    {
        if (indexDType is not (DType.Int32 or DType.Int64)) throw new NotSupportedException($"indices must be int32 or int64, not {indexDType.Name()}");
    }

    private static void GatherLaunch(IKernelLauncher k, DType dtype, ulong src, DType indexDType, ulong indices, int count, int outer, int axisDim, int inner, ulong dst)
    {
        IndexIndexChecks(indexDType);
        var total = (long)outer * count * inner;
        if (total == 0) return;
        var function = k.Function($"compute.gather.{dtype}.{indexDType}", () => IndexingPtx(scatter: false, dtype, indexDType), "gather");
        k.Launch(function, LaunchShape.Grid(total), LaunchShape.Block, 0,
            new KernelArgs().U64(src).U64(indices).U64(dst).U64((ulong)total).U64((ulong)count).U64((ulong)axisDim).U64((ulong)inner));
    }

    private static void ScatterAddLaunch(IKernelLauncher k, DType dtype, ulong updates, DType indexDType, ulong indices, int count, int outer, int axisDim, int inner, ulong dst)
    {
        IndexIndexChecks(indexDType);
        if (!dtype.IsNumeric()) throw new NotSupportedException($"ScatterAdd is not defined for {dtype.Name()}");
        var total = (long)outer * count * inner;
        if (total == 0) return;
        var function = k.Function($"compute.scatter_add.{dtype}.{indexDType}", () => IndexingPtx(scatter: true, dtype, indexDType), "scatter_add");
        k.Launch(function, LaunchShape.Grid(total), LaunchShape.Block, 0,
            new KernelArgs().U64(updates).U64(indices).U64(dst).U64((ulong)total).U64((ulong)count).U64((ulong)axisDim).U64((ulong)inner));
    }

    /// <summary>
    /// gather: dst[e] = src[(o·axis + k)·inner + i] or 0 for an out-of-range k, for e = (o·count + j)·inner + i.
    /// scatter_add: dst[(o·axis + k)·inner + i] += updates[e] with atom.global.add (float adds are unordered,
    /// so sums of colliding indices may differ from the CPU's by rounding); out-of-range k is skipped.
    /// Integers add with atom.add.u32/.u64: two's-complement wrap-around, as the CPU's unchecked +.
    /// </summary>
    private static string IndexingPtx(bool scatter, DType dtype, DType indexDType)
    {
        var t = PtxScalar.Of(dtype);
        var entry = scatter ? "scatter_add" : "gather";
        var s = new StringBuilder(ComputePtx.Header);
        s.AppendLine(CultureInfo.InvariantCulture, $".visible .entry {entry}(.param .u64 p_src, .param .u64 p_idx, .param .u64 p_dst, .param .u64 p_n, .param .u64 p_count, .param .u64 p_axis, .param .u64 p_inner)");
        s.AppendLine("{");
        s.AppendLine("    .reg .pred %done, %bad, %bad2;");
        s.AppendLine("    .reg .b32 %r1, %r2, %k32;");
        s.AppendLine("    .reg .b64 %src, %idx, %dst, %n, %count, %axis, %inner, %e, %stride, %t, %o, %j, %i, %k, %at;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .reg .{(scatter ? t.Register : t.Size == 1 ? "b16" : t.Bits)} %v, %old;");
        foreach (var p in new[] { "src", "idx", "dst", "n", "count", "axis", "inner" })
            s.AppendLine(CultureInfo.InvariantCulture, $"    ld.param.u64 %{p}, [p_{p}];");
        s.AppendLine("    cvta.to.global.u64 %src, %src;");
        s.AppendLine("    cvta.to.global.u64 %idx, %idx;");
        s.AppendLine("    cvta.to.global.u64 %dst, %dst;");
        GridStride(s);
        s.AppendLine("$loop:");
        s.AppendLine("    setp.ge.u64 %done, %e, %n;");
        s.AppendLine("    @%done bra $end;");
        Decompose(s);
        LoadIndex(s, indexDType);
        // Offset of row k: (o·axis + k)·inner + i (k is only used when in range, so non-negative).
        s.AppendLine("    mul.lo.u64 %at, %o, %axis;");
        s.AppendLine("    add.s64 %at, %at, %k;");
        s.AppendLine("    mul.lo.u64 %at, %at, %inner;");
        s.AppendLine("    add.s64 %at, %at, %i;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    shl.b64 %at, %at, {t.Shift};");
        s.AppendLine(CultureInfo.InvariantCulture, $"    shl.b64 %t, %e, {t.Shift};");
        if (!scatter)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"    mov.{(t.Size == 1 ? "b16" : t.Bits)} %v, 0;");
            s.AppendLine("    add.s64 %at, %src, %at;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    @!%bad ld.global.{LoadType(t)} %v, [%at];");
            s.AppendLine("    add.s64 %t, %dst, %t;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    st.global.{LoadType(t)} [%t], %v;");
        }
        else
        {
            var atomType = t.Suffix switch { "s32" => "u32", "s64" => "u64", _ => t.Suffix };
            s.AppendLine("    @%bad bra $next;");
            s.AppendLine("    add.s64 %t, %src, %t;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    ld.global.{t.Suffix} %v, [%t];");
            s.AppendLine("    add.s64 %at, %dst, %at;");
            s.AppendLine(CultureInfo.InvariantCulture, $"    atom.global.add.{atomType} %old, [%at], %v;");
        }
        GridStrideEnd(s);
        return s.ToString();
    }

    /// <summary>The type to move raw elements with: bits of the same size (u8 for bool).</summary>
    private static string LoadType(PtxScalar t) => t.Size switch { 1 => "u8", 4 => "b32", _ => "b64" };

    // ---- Check -------------------------------------------------------------------------------------

    /// <summary>flags[2·site] while this call's scan runs: armed, nothing found yet (all ones).</summary>
    internal const ulong CheckArmed = ulong.MaxValue;

    /// <summary>flags[2·site] = CheckPending | (position + 1) while this call's scan runs: a failure found here.</summary>
    internal const ulong CheckPending = 1UL << 63;

    /// <summary>
    /// Three launches on the stream, so the lowest failing position wins deterministically and a site set
    /// by an earlier call stays as it is:
    /// <list type="number">
    /// <item><c>check_arm</c> (one thread): a clear site (0) becomes <see cref="CheckArmed"/>; a set site
    /// (a position + 1 below 2⁶³) is left alone.</item>
    /// <item><c>check_scan</c> (grid-stride over x): a failing element at position p does
    /// <c>atom.global.min.u64</c> of <see cref="CheckPending"/> | (p + 1) on the site's word. Every such
    /// value is above any earlier call's position word, so an earlier failure is never replaced, while on an
    /// armed word the minimum is the lowest failing position.</item>
    /// <item><c>check_finish</c> (one thread): armed → 0 (nothing failed); pending → the position + 1, and
    /// the value word re-read from x at that position (the integer sign-extended, or the float as float64 bits);
    /// anything else (an earlier failure) stays.</item>
    /// </list>
    /// </summary>
    private static void CheckLaunch(IKernelLauncher k, CheckKind kind, DType dtype, ulong x, long n, long bound, ulong flags, int site)
    {
        var valid = kind == CheckKind.Finite ? dtype.IsFloating() : dtype.IsInteger();
        if (!valid) throw new NotSupportedException($"Check {kind} is not defined for {dtype.Name()}");
        if (n == 0) return;
        var key = $"compute.check.{kind}.{dtype}";
        var word = flags + 16UL * (ulong)site;
        k.Launch(k.Function(key, () => CheckPtx(kind, dtype), "check_arm"), (1, 1, 1), 1, 0, new KernelArgs().U64(word));
        k.Launch(k.Function(key, () => CheckPtx(kind, dtype), "check_scan"), LaunchShape.Grid(n), LaunchShape.Block, 0,
            new KernelArgs().U64(x).U64((ulong)n).S64(bound).U64(word));
        k.Launch(k.Function(key, () => CheckPtx(kind, dtype), "check_finish"), (1, 1, 1), 1, 0, new KernelArgs().U64(x).U64(word));
    }

    private static string CheckPtx(CheckKind kind, DType dtype)
    {
        var t = PtxScalar.Of(dtype);
        var s = new StringBuilder(ComputePtx.Header);
        // check_arm
        s.AppendLine(".visible .entry check_arm(.param .u64 p_word)");
        s.AppendLine("{");
        s.AppendLine("    .reg .pred %clear;");
        s.AppendLine("    .reg .b64 %word, %w;");
        s.AppendLine("    ld.param.u64 %word, [p_word];");
        s.AppendLine("    cvta.to.global.u64 %word, %word;");
        s.AppendLine("    ld.global.u64 %w, [%word];");
        s.AppendLine("    setp.eq.u64 %clear, %w, 0;");
        // st takes its value from a register (nvcc never stores an immediate).
        s.AppendLine("    mov.b64 %w, 0xFFFFFFFFFFFFFFFF;");
        s.AppendLine("    @%clear st.global.u64 [%word], %w;");
        s.AppendLine("    ret;");
        s.AppendLine("}");
        s.AppendLine();
        // check_scan
        s.AppendLine(".visible .entry check_scan(.param .u64 p_x, .param .u64 p_n, .param .s64 p_bound, .param .u64 p_word)");
        s.AppendLine("{");
        s.AppendLine("    .reg .pred %done, %fail, %f2;");
        s.AppendLine("    .reg .b32 %r1, %r2;");
        s.AppendLine("    .reg .b64 %x, %n, %bound, %word, %e, %stride, %t, %w, %val;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .reg .{t.Suffix} %v, %av;");
        s.AppendLine("    ld.param.u64 %x, [p_x];");
        s.AppendLine("    ld.param.u64 %n, [p_n];");
        s.AppendLine("    ld.param.s64 %bound, [p_bound];");
        s.AppendLine("    ld.param.u64 %word, [p_word];");
        s.AppendLine("    cvta.to.global.u64 %x, %x;");
        s.AppendLine("    cvta.to.global.u64 %word, %word;");
        // A site an earlier call set (a word below 2^63, nonzero after check_arm) needs no scan.
        s.AppendLine("    ld.global.s64 %w, [%word];");
        s.AppendLine("    setp.ge.s64 %done, %w, 0;");
        s.AppendLine("    @%done bra $end;");
        GridStride(s);
        s.AppendLine("$loop:");
        s.AppendLine("    setp.ge.u64 %done, %e, %n;");
        s.AppendLine("    @%done bra $end;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    shl.b64 %t, %e, {t.Shift};");
        s.AppendLine("    add.s64 %t, %x, %t;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    ld.global.{t.Suffix} %v, [%t];");
        switch (kind)
        {
            case CheckKind.Finite:
                // |v| < ∞ is false for ±∞ and (unordered) NaN.
                s.AppendLine(CultureInfo.InvariantCulture, $"    abs.{t.Suffix} %av, %v;");
                s.AppendLine(CultureInfo.InvariantCulture, $"    setp.lt.{t.Suffix} %fail, %av, {t.Constant(double.PositiveInfinity)};");
                s.AppendLine("    not.pred %fail, %fail;");
                break;
            case CheckKind.IndexInRange:
                s.AppendLine(t.Wide ? "    mov.b64 %val, %v;" : "    cvt.s64.s32 %val, %v;");
                s.AppendLine("    setp.lt.s64 %fail, %val, 0;");
                s.AppendLine("    setp.ge.s64 %f2, %val, %bound;");
                s.AppendLine("    or.pred %fail, %fail, %f2;");
                break;
            default:
                s.AppendLine(CultureInfo.InvariantCulture, $"    setp.eq.{t.Suffix} %fail, %v, 0;");
                break;
        }
        s.AppendLine("    @!%fail bra $next;");
        s.AppendLine("    add.s64 %t, %e, 1;");
        s.AppendLine("    or.b64 %t, %t, 0x8000000000000000;");
        s.AppendLine("    atom.global.min.u64 %w, [%word], %t;");
        GridStrideEnd(s);
        s.AppendLine();
        // check_finish
        s.AppendLine(".visible .entry check_finish(.param .u64 p_x, .param .u64 p_word)");
        s.AppendLine("{");
        s.AppendLine("    .reg .pred %armed, %earlier;");
        s.AppendLine("    .reg .b64 %x, %word, %w, %p, %t, %val;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    .reg .{t.Suffix} %v;");
        s.AppendLine("    .reg .f64 %d;");
        s.AppendLine("    ld.param.u64 %x, [p_x];");
        s.AppendLine("    ld.param.u64 %word, [p_word];");
        s.AppendLine("    cvta.to.global.u64 %x, %x;");
        s.AppendLine("    cvta.to.global.u64 %word, %word;");
        s.AppendLine("    ld.global.u64 %w, [%word];");
        s.AppendLine("    setp.eq.u64 %armed, %w, 0xFFFFFFFFFFFFFFFF;");
        s.AppendLine("    mov.b64 %p, 0;");
        s.AppendLine("    @%armed st.global.u64 [%word], %p;");
        s.AppendLine("    @%armed bra $end;");
        s.AppendLine("    setp.lt.u64 %earlier, %w, 0x8000000000000000;");
        s.AppendLine("    @%earlier bra $end;");
        s.AppendLine("    and.b64 %p, %w, 0x7FFFFFFFFFFFFFFF;");
        s.AppendLine("    st.global.u64 [%word], %p;");
        s.AppendLine("    sub.s64 %p, %p, 1;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    shl.b64 %t, %p, {t.Shift};");
        s.AppendLine("    add.s64 %t, %x, %t;");
        s.AppendLine(CultureInfo.InvariantCulture, $"    ld.global.{t.Suffix} %v, [%t];");
        s.AppendLine(t.Suffix switch
        {
            "f32" => "    cvt.f64.f32 %d, %v;\n    mov.b64 %val, %d;",
            "f64" => "    mov.b64 %val, %v;",
            "s32" => "    cvt.s64.s32 %val, %v;",
            _ => "    mov.b64 %val, %v;",
        });
        s.AppendLine("    st.global.u64 [%word+8], %val;");
        s.AppendLine("$end:");
        s.AppendLine("    ret;");
        s.AppendLine("}");
        return s.ToString();
    }

    /// <summary>Closes a grid-stride loop over %e (labels $next, $loop, $end) and the entry.</summary>
    private static void GridStrideEnd(StringBuilder s)
    {
        s.AppendLine("$next:");
        s.AppendLine("    add.s64 %e, %e, %stride;");
        s.AppendLine("    bra.uni $loop;");
        s.AppendLine("$end:");
        s.AppendLine("    ret;");
        s.AppendLine("}");
    }
}
