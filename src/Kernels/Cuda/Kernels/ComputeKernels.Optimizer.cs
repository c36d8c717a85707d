using System.Globalization;
using System.Text;
using Nabla.Kernels.Cuda.Ptx;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: the PTX below was written without ptxas or a GPU (checked on the tests' PTX emulator only).

/// <summary>The fused optimizer updates (<see cref="OptimizerKind"/>), one generated kernel per (kind, variant, dtype).</summary>
/// <remarks>
/// <para>Thread 0 of every block does the per-step scalar work once: it scans the abort flags (any nonzero
/// flags[2·s] skips the whole update), reads the hyper-parameter buffers (in <see cref="OptimizerArgs.ScalarNames"/>
/// order, each as its own dtype, float32 or float64) and folds them in float64 exactly as <see cref="OptimizerArgs.Fold"/> does, with
/// βᵗ = exp(t·ln β) from the math library (within a few ulp of Math.Pow), then rounds each folded scalar to the
/// dtype (as OptimizerLoops' T.CreateTruncating) and shares them through shared memory.</para>
/// <para>The element pass is OptimizerLoops.Apply operation for operation: every add, mul, div and sqrt carries
/// .rn, which also forbids the JIT from contracting them into FMAs, so a float32 update equals the CPU's to the
/// last bit wherever the folded scalars do.</para>
/// </remarks>
internal static partial class ComputeKernels
{
    /// <summary>Shared slots of the folded scalars (8 bytes each), then the abort word.</summary>
    private const int OptLr = 0, OptEps = 1, OptMu = 2, OptC1 = 3, OptC2 = 4, OptMs = 5, OptGs = 6, OptVd = 7, OptRho = 8, OptOmr = 9, OptAbort = 10;

    /// <summary>Validates and launches one optimizer kernel; scalarDTypes is the dtype of each scalar buffer, null when all have the variable's dtype.</summary>
    private static void ApplyOptimizerLaunch(IKernelLauncher k, OptimizerKind kind, bool nesterov, DType dtype, ReadOnlySpan<ulong> scalars, DType[]? scalarDTypes,
        ulong variable, ulong grad, ulong slot1, ulong slot2, ulong slot3, long n, ulong abortFlags, int flagCount)
    {
        if (!dtype.IsFloating()) throw new NotSupportedException($"optimizer updates are defined for float32 and float64 variables, not {dtype.Name()}");
        var names = OptimizerArgs.ScalarNames(kind);
        if (scalars.Length != names.Count)
            throw new ArgumentException($"{kind} takes {names.Count} scalars ({string.Join(", ", names)}), got {scalars.Length}", nameof(scalars));
        scalarDTypes ??= Enumerable.Repeat(dtype, scalars.Length).ToArray();
        if (scalarDTypes.Length != scalars.Length)
            throw new ArgumentException($"{scalars.Length} scalars but {scalarDTypes.Length} scalar dtypes", nameof(scalarDTypes));
        for (var i = 0; i < scalarDTypes.Length; i++)
            if (!scalarDTypes[i].IsFloating())
                throw new NotSupportedException($"optimizer scalar {i} ({names[i]}) must be float32 or float64, got {scalarDTypes[i].Name()}");
        if (n == 0) return;
        bool momentumSlot = kind == OptimizerKind.RMSProp && slot2 != 0, centered = kind == OptimizerKind.RMSProp && slot3 != 0;
        nesterov &= kind == OptimizerKind.Momentum;
        // One letter per scalar dtype (s: float32, d: float64) in the key: each combination is its own kernel.
        var scalarTypes = new string(scalarDTypes.Select(d => d == DType.Float32 ? 's' : 'd').ToArray());
        var key = $"compute.optimizer.{kind}.{dtype}.{(nesterov ? "nesterov" : "plain")}.{(momentumSlot ? "momentum" : "none")}.{(centered ? "centered" : "plain")}.{scalarTypes}";
        var function = k.Function(key, () => OptimizerPtx(kind, nesterov, dtype, momentumSlot, centered, scalarDTypes), "optimizer");
        var args = new KernelArgs().U64(variable).U64(grad).U64(slot1).U64(slot2).U64(slot3).U64((ulong)n).U64(abortFlags).U32((uint)(abortFlags == 0 ? 0 : flagCount));
        for (var i = 0; i < 6; i++) args.U64(i < scalars.Length ? scalars[i] : 0);
        k.Launch(function, LaunchShape.Grid(n), LaunchShape.Block, 0, args);
    }

    private static string OptimizerPtx(OptimizerKind kind, bool nesterov, DType dtype, bool momentumSlot, bool centered, DType[] scalarDTypes)
    {
        var t = PtxScalar.Of(dtype).Suffix;
        var writer = new PtxWriter($"optimizer {kind} {dtype}");
        var e = writer.Entry("optimizer");
        string w = e.Pointer("w").ToString(), g = e.Pointer("g").ToString(), s1 = e.Pointer("s1").ToString(), s2 = e.Pointer("s2").ToString(), s3 = e.Pointer("s3").ToString();
        var n = e.Param("u64", "n").ToString();
        var flags = e.Param("u64", "flags").ToString();
        var flagCount = e.Param("u32", "flag_count").ToString();
        var sc = new string[6];
        for (var i = 0; i < 6; i++) sc[i] = e.Param("u64", $"scalar{i}").ToString();

        var s = new StringBuilder();
        s.AppendLine(".reg .pred %lead, %stop, %flagset");
        s.AppendLine(".reg .b32 %tx, %q, %abort, %so");
        s.AppendLine(".reg .b64 %fa, %fw, %e, %stride, %off, %tmp");
        s.AppendLine(".reg .f64 %d0, %d1, %d2, %d3, %d4, %d5, %x, %y, %z, %u, %pw1, %pw2, %ut, %utn");
        s.AppendLine(".reg .f32 %ld32");
        s.AppendLine($".reg .{t} %lr, %eps, %mu, %c1, %c2, %ms, %gs, %vd, %rho, %omr, %vw, %vg, %vm, %vv, %va, %t1, %t2, %t3");
        s.AppendLine("mov.u32 %tx, %tid.x");
        s.AppendLine("mov.u32 %so, opt_shared");
        s.AppendLine("setp.ne.u32 %lead, %tx, 0");
        s.AppendLine("@%lead bra $opt_wait");
        // Thread 0: the abort flags (every even entry below flag_count).
        s.AppendLine("mov.u32 %abort, 0");
        s.AppendLine("mov.u32 %q, 0");
        s.AppendLine($"cvta.to.global.u64 %fa, {flags}");
        s.AppendLine("$opt_flags:");
        s.AppendLine($"setp.ge.u32 %stop, %q, {flagCount}");
        s.AppendLine("@%stop bra $opt_fold");
        s.AppendLine("mul.wide.u32 %off, %q, 8");
        s.AppendLine("add.s64 %off, %fa, %off");
        s.AppendLine("ld.global.u64 %fw, [%off]");
        s.AppendLine("setp.ne.u64 %flagset, %fw, 0");
        s.AppendLine("@%flagset mov.u32 %abort, 1");
        s.AppendLine("add.u32 %q, %q, 2");
        s.AppendLine("bra.uni $opt_flags");
        s.AppendLine("$opt_fold:");
        s.AppendLine($"st.shared.u32 [%so+{8 * OptAbort}], %abort");
        var count = OptimizerArgs.ScalarNames(kind).Count;
        for (var i = 0; i < count; i++)
        {
            s.AppendLine($"cvta.to.global.u64 %tmp, {sc[i]}");
            if (scalarDTypes[i] == DType.Float64) s.AppendLine($"ld.global.f64 %d{i}, [%tmp]");
            else
            {
                s.AppendLine("ld.global.f32 %ld32, [%tmp]");
                s.AppendLine($"cvt.f64.f32 %d{i}, %ld32");
            }
        }
        RawPtx.Emit(e, s.ToString());
        s.Clear();

        // Folds (f64 → dtype, rounded to nearest as T.CreateTruncating) and stores slot k.
        void Store(int slot, string f64)
        {
            RawPtx.Emit(e, t == "f64" ? $"mov.f64 %t1, {f64}" : $"cvt.rn.f32.f64 %t1, {f64}");
            RawPtx.Emit(e, $"st.shared.{t} [%so+{8 * slot}], %t1");
        }
        // dst = base^exponent = exp(exponent·ln base), with x^0 = 1 as Math.Pow (ln 0 · 0 would be NaN).
        void Pow(string dst, string b, string exponent)
        {
            RawPtx.Math(e, "log", "f64", "%x", b);
            RawPtx.Emit(e, $"mul.rn.f64 %x, %x, {exponent}");
            RawPtx.Math(e, "exp", "f64", dst, "%x");
            RawPtx.Emit(e, $"setp.eq.f64 %flagset, {exponent}, {ComputePtx.F64(0)}\n@%flagset mov.f64 {dst}, {ComputePtx.F64(1)}");
        }
        var one = ComputePtx.F64(1);
        switch (kind)
        {
            case OptimizerKind.GradientDescent:
                Store(OptLr, "%d0");
                break;
            case OptimizerKind.Momentum:
                Store(OptLr, "%d0");
                Store(OptMu, "%d1");
                break;
            case OptimizerKind.Adam:
                // α = η·√(1 − β₂ᵗ) / (1 − β₁ᵗ)
                Pow("%pw2", "%d2", "%d4");
                Pow("%pw1", "%d1", "%d4");
                RawPtx.Emit(e, $"sub.rn.f64 %y, {one}, %pw2\nsqrt.rn.f64 %y, %y\nmul.rn.f64 %y, %d0, %y\nsub.rn.f64 %z, {one}, %pw1\ndiv.rn.f64 %y, %y, %z");
                Store(OptLr, "%y");
                RawPtx.Emit(e, $"sub.rn.f64 %y, {one}, %d1\nsub.rn.f64 %z, {one}, %d2");
                Store(OptC1, "%y");
                Store(OptC2, "%z");
                Store(OptEps, "%d3");
                break;
            case OptimizerKind.Nadam:
                {
                    // uₜ = β₁(1 − ½·0.96ᵗ), uₜ₊₁ likewise; ms = uₜ₊₁ / (1 − Π·uₜ₊₁); gs = (1 − uₜ) / (1 − Π); vd = 1 − β₂ᵗ.
                    var c096 = ComputePtx.F64(0.96);
                    var half = ComputePtx.F64(0.5);
                    RawPtx.Emit(e, $"mov.f64 %u, {c096}");
                    Pow("%pw1", "%u", "%d4");
                    RawPtx.Emit(e, $"mul.rn.f64 %ut, {half}, %pw1\nsub.rn.f64 %ut, {one}, %ut\nmul.rn.f64 %ut, %d1, %ut");
                    RawPtx.Emit(e, $"add.rn.f64 %z, %d4, {one}");
                    Pow("%pw1", "%u", "%z");
                    RawPtx.Emit(e, $"mul.rn.f64 %utn, {half}, %pw1\nsub.rn.f64 %utn, {one}, %utn\nmul.rn.f64 %utn, %d1, %utn");
                    RawPtx.Emit(e, $"mul.rn.f64 %y, %d5, %utn\nsub.rn.f64 %y, {one}, %y\ndiv.rn.f64 %y, %utn, %y");
                    Store(OptMs, "%y");
                    RawPtx.Emit(e, $"sub.rn.f64 %y, {one}, %ut\nsub.rn.f64 %z, {one}, %d5\ndiv.rn.f64 %y, %y, %z");
                    Store(OptGs, "%y");
                    Pow("%pw2", "%d2", "%d4");
                    RawPtx.Emit(e, $"sub.rn.f64 %y, {one}, %pw2");
                    Store(OptVd, "%y");
                    RawPtx.Emit(e, $"sub.rn.f64 %y, {one}, %d1\nsub.rn.f64 %z, {one}, %d2");
                    Store(OptC1, "%y");
                    Store(OptC2, "%z");
                    Store(OptLr, "%d0");
                    Store(OptEps, "%d3");
                    break;
                }
            case OptimizerKind.RMSProp:
                Store(OptLr, "%d0");
                Store(OptRho, "%d1");
                Store(OptMu, "%d2");
                Store(OptEps, "%d3");
                RawPtx.Emit(e, $"sub.rn.f64 %y, {one}, %d1");
                Store(OptOmr, "%y");
                break;
            default:
                throw new NotSupportedException($"optimizer kind {kind}");
        }

        // Every thread: wait for the fold, leave if aborted, load the scalars, then the grid-stride pass.
        s.AppendLine("$opt_wait:");
        s.AppendLine("bar.sync 0");
        s.AppendLine($"ld.shared.u32 %abort, [%so+{8 * OptAbort}]");
        s.AppendLine("setp.ne.u32 %stop, %abort, 0");
        s.AppendLine("@%stop bra $opt_end");
        foreach (var (slot, reg) in new[] { (OptLr, "%lr"), (OptEps, "%eps"), (OptMu, "%mu"), (OptC1, "%c1"), (OptC2, "%c2"), (OptMs, "%ms"), (OptGs, "%gs"), (OptVd, "%vd"), (OptRho, "%rho"), (OptOmr, "%omr") })
            if (UsesSlot(kind, slot)) s.AppendLine($"ld.shared.{t} {reg}, [%so+{8 * slot}]");
        s.AppendLine("mov.u32 %q, %ctaid.x");
        s.AppendLine("mov.u32 %abort, %ntid.x");
        s.AppendLine("mul.wide.u32 %e, %q, %abort");
        s.AppendLine("cvt.u64.u32 %off, %tx");
        s.AppendLine("add.s64 %e, %e, %off");
        s.AppendLine("mov.u32 %q, %nctaid.x");
        s.AppendLine("mul.wide.u32 %stride, %q, %abort");
        s.AppendLine("$opt_loop:");
        s.AppendLine($"setp.ge.u64 %stop, %e, {n}");
        s.AppendLine("@%stop bra $opt_end");
        s.AppendLine($"shl.b64 %off, %e, {(t == "f64" ? 3 : 2)}");
        string At(string p) { s.AppendLine($"add.s64 %tmp, {p}, %off"); return "[%tmp]"; }
        // The address line must be appended before the instruction text is formed (At appends to s).
        void Load(string reg, string p)
        {
            var address = At(p);
            s.AppendLine($"ld.global.{t} {reg}, {address}");
        }
        void Save(string p, string reg)
        {
            var address = At(p);
            s.AppendLine($"st.global.{t} {address}, {reg}");
        }
        string Op(string text) => string.Join('\n', text.Split('\n').Select(l => l.Replace("{t}", t, StringComparison.Ordinal)));
        Load("%vw", w);
        Load("%vg", g);
        switch (kind)
        {
            case OptimizerKind.GradientDescent:
                s.AppendLine(Op("mul.rn.{t} %t1, %vg, %lr\nsub.rn.{t} %vw, %vw, %t1"));
                break;
            case OptimizerKind.Momentum:
                Load("%vm", s1);
                s.AppendLine(Op("mul.rn.{t} %t1, %vm, %mu\nmul.rn.{t} %t2, %vg, %lr\nsub.rn.{t} %vm, %t1, %t2"));
                Save(s1, "%vm");
                s.AppendLine(nesterov
                    ? Op("mul.rn.{t} %t3, %vm, %mu\nsub.rn.{t} %t3, %t3, %t2\nadd.rn.{t} %vw, %vw, %t3")
                    : Op("add.rn.{t} %vw, %vw, %vm"));
                break;
            case OptimizerKind.Adam or OptimizerKind.Nadam:
                Load("%vm", s1);
                Load("%vv", s2);
                // m + (g − m)·c1; v + (g·g − v)·c2
                s.AppendLine(Op("sub.rn.{t} %t1, %vg, %vm\nmul.rn.{t} %t1, %t1, %c1\nadd.rn.{t} %vm, %vm, %t1"));
                s.AppendLine(Op("mul.rn.{t} %t1, %vg, %vg\nsub.rn.{t} %t1, %t1, %vv\nmul.rn.{t} %t1, %t1, %c2\nadd.rn.{t} %vv, %vv, %t1"));
                Save(s1, "%vm");
                Save(s2, "%vv");
                if (kind == OptimizerKind.Adam)
                    // w − m·η / (√v + ε)
                    s.AppendLine(Op("mul.rn.{t} %t1, %vm, %lr\nsqrt.rn.{t} %t2, %vv\nadd.rn.{t} %t2, %t2, %eps\ndiv.rn.{t} %t1, %t1, %t2\nsub.rn.{t} %vw, %vw, %t1"));
                else
                    // m̂ = m·ms + g·gs; w − m̂·η / (√(v / vd) + ε)
                    s.AppendLine(Op("mul.rn.{t} %t1, %vm, %ms\nmul.rn.{t} %t2, %vg, %gs\nadd.rn.{t} %t1, %t1, %t2\nmul.rn.{t} %t1, %t1, %lr\n" +
                        "div.rn.{t} %t2, %vv, %vd\nsqrt.rn.{t} %t2, %t2\nadd.rn.{t} %t2, %t2, %eps\ndiv.rn.{t} %t1, %t1, %t2\nsub.rn.{t} %vw, %vw, %t1"));
                break;
            case OptimizerKind.RMSProp:
                Load("%vv", s1);
                // v = ρ·v + (1 − ρ)·g²
                s.AppendLine(Op("mul.rn.{t} %t1, %rho, %vv\nmul.rn.{t} %t2, %vg, %vg\nmul.rn.{t} %t2, %omr, %t2\nadd.rn.{t} %vv, %t1, %t2"));
                Save(s1, "%vv");
                if (centered)
                {
                    Load("%va", s3);
                    // a = ρ·a + (1 − ρ)·g; d = v − a² + ε
                    s.AppendLine(Op("mul.rn.{t} %t1, %rho, %va\nmul.rn.{t} %t2, %omr, %vg\nadd.rn.{t} %va, %t1, %t2"));
                    Save(s3, "%va");
                    s.AppendLine(Op("mul.rn.{t} %t1, %va, %va\nsub.rn.{t} %t1, %vv, %t1\nadd.rn.{t} %t1, %t1, %eps"));
                }
                else s.AppendLine(Op("add.rn.{t} %t1, %vv, %eps"));
                // Δ = η·g / √d
                s.AppendLine(Op("sqrt.rn.{t} %t1, %t1\nmul.rn.{t} %t2, %lr, %vg\ndiv.rn.{t} %t2, %t2, %t1"));
                if (momentumSlot)
                {
                    Load("%vm", s2);
                    s.AppendLine(Op("mul.rn.{t} %t1, %mu, %vm\nadd.rn.{t} %vm, %t1, %t2\nsub.rn.{t} %vw, %vw, %vm"));
                    Save(s2, "%vm");
                }
                else s.AppendLine(Op("sub.rn.{t} %vw, %vw, %t2"));
                break;
        }
        Save(w, "%vw");
        s.AppendLine("add.s64 %e, %e, %stride");
        s.AppendLine("bra.uni $opt_loop");
        s.AppendLine("$opt_end:");
        RawPtx.Emit(e, s.ToString());
        // Module scope, as nvcc places (demotes) kernel-level __shared__ variables.
        writer.Append(".shared .align 8 .b8 opt_shared[96];\n");
        e.End();
        return writer.ToString();
    }

    private static bool UsesSlot(OptimizerKind kind, int slot) => kind switch
    {
        OptimizerKind.GradientDescent => slot == OptLr,
        OptimizerKind.Momentum => slot is OptLr or OptMu,
        OptimizerKind.Adam => slot is OptLr or OptEps or OptC1 or OptC2,
        OptimizerKind.Nadam => slot is OptLr or OptEps or OptC1 or OptC2 or OptMs or OptGs or OptVd,
        _ => slot is OptLr or OptEps or OptMu or OptRho or OptOmr,
    };
}
