using System.Text;
using Nabla.Kernels.Cuda.Ptx;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: the PTX below was written without ptxas or a GPU (checked on the tests' PTX emulator only).

/// <summary>Philox 4x32-10 random numbers, the same stream as <see cref="Philox"/> on the CPU.</summary>
/// <remarks>
/// <para>Uniform: one thread per Philox block (⌊i/4⌋, counter) writes elements 4·block … 4·block + 3, each
/// a + (b − a)·u in float64 with u = (word ≫ 8)·2⁻²⁴ and b − a formed on the host (the same IEEE operation as
/// the CPU's), rounded once to float32 where the dtype asks: bit for bit the CPU's values.</para>
/// <para>Normal and truncated normal: one thread per element i, Box–Muller on lanes 0 and 1 of block
/// (i, counter + 2⁴⁰·t) as <see cref="Philox.Sample"/>, with ln and cos from the math library (PtxMath, a few
/// ulp from Math.Log / Math.Cos), so these match the CPU within float tolerance, not bit for bit. A truncated
/// normal draw lands within ±2 with probability 0.95, so the redraw loop ends after a couple of rounds.</para>
/// </remarks>
internal static partial class ComputeKernels
{
    private const uint PhiloxM0 = 0xD2511F53, PhiloxM1 = 0xCD9E8D57, PhiloxW0 = 0x9E3779B9, PhiloxW1 = 0xBB67AE85;

    private static void RandomLaunch(IKernelLauncher k, RandomDistribution dist, DType dtype, ulong seed, ulong counter, double a, double b, ulong dst, long n)
    {
        if (!dtype.IsFloating()) throw new NotSupportedException($"Random is defined for float32 and float64, not {dtype.Name()}");
        if (n == 0) return;
        var function = k.Function($"compute.random.{dist}.{dtype}", () => RandomPtx(dist, dtype), "random");
        var uniform = dist == RandomDistribution.Uniform;
        var args = new KernelArgs().U64(seed).U64(counter).F64(a).F64(uniform ? b - a : b).U64(dst).U64((ulong)n);
        k.Launch(function, LaunchShape.Grid(uniform ? (n + 3) / 4 : n), LaunchShape.Block, 0, args);
    }

    /// <summary>PTX of one Philox 4x32-10 block: (%x0..%x3) from counter words (%x0..%x3) under key %key; clobbers %k0, %k1, %h0..%l1.</summary>
    private static string PhiloxRounds()
    {
        var s = new StringBuilder();
        s.AppendLine("mov.b64 {%k0, %k1}, %key");
        for (var r = 0; r < 10; r++)
        {
            s.AppendLine($"mul.hi.u32 %h0, %x0, 0x{PhiloxM0:X8}");
            s.AppendLine($"mul.lo.u32 %l0, %x0, 0x{PhiloxM0:X8}");
            s.AppendLine($"mul.hi.u32 %h1, %x2, 0x{PhiloxM1:X8}");
            s.AppendLine($"mul.lo.u32 %l1, %x2, 0x{PhiloxM1:X8}");
            s.AppendLine("xor.b32 %x0, %h1, %x1");
            s.AppendLine("xor.b32 %x0, %x0, %k0");
            s.AppendLine("mov.b32 %x1, %l1");
            s.AppendLine("xor.b32 %x2, %h0, %x3");
            s.AppendLine("xor.b32 %x2, %x2, %k1");
            s.AppendLine("mov.b32 %x3, %l0");
            if (r < 9)
            {
                s.AppendLine($"add.u32 %k0, %k0, 0x{PhiloxW0:X8}");
                s.AppendLine($"add.u32 %k1, %k1, 0x{PhiloxW1:X8}");
            }
        }
        return s.ToString();
    }

    /// <summary>%u = ToUnit(word) = (word ≫ 8)·2⁻²⁴ in float64 (exact).</summary>
    private static string ToUnit(string word) =>
        $"shr.u32 %bits, {word}, 8\ncvt.rn.f64.u32 %u, %bits\nmul.rn.f64 %u, %u, {ComputePtx.F64(1.0 / 16777216.0)}\n";

    private static string RandomPtx(RandomDistribution dist, DType dtype)
    {
        var t = PtxScalar.Of(dtype);
        var writer = new PtxWriter($"random {dist} {dtype}");
        var e = writer.Entry("random");
        var key = e.Param("u64", "key").ToString();
        var counter = e.Param("u64", "counter").ToString();
        var a = e.Param("f64", "a").ToString();
        var b = e.Param("f64", "b").ToString();
        var dst = e.Pointer("dst").ToString();
        var n = e.Param("u64", "n").ToString();
        var s = new StringBuilder();
        s.AppendLine(".reg .pred %stop, %ok");
        s.AppendLine(".reg .b32 %x0, %x1, %x2, %x3, %k0, %k1, %h0, %h1, %l0, %l1, %bits, %q, %nt");
        s.AppendLine(".reg .b64 %key, %item, %stride, %off, %idx, %ctr, %round");
        s.AppendLine(".reg .f64 %u, %u1, %z, %v");
        s.AppendLine($".reg .{t.Suffix} %out");
        s.AppendLine($"mov.b64 %key, {key}");
        s.AppendLine("mov.u32 %q, %ctaid.x");
        s.AppendLine("mov.u32 %nt, %ntid.x");
        s.AppendLine("mul.wide.u32 %item, %q, %nt");
        s.AppendLine("mov.u32 %q, %tid.x");
        s.AppendLine("cvt.u64.u32 %off, %q");
        s.AppendLine("add.s64 %item, %item, %off");
        s.AppendLine("mov.u32 %q, %nctaid.x");
        s.AppendLine("mul.wide.u32 %stride, %q, %nt");
        var store = t.Suffix == "f32" ? "cvt.rn.f32.f64 %out, %v" : "mov.f64 %out, %v";
        // dst[index] = a + b·draw, rounded to the output dtype.
        void Store(string draw, string index)
        {
            s.AppendLine($"mul.rn.f64 %v, {b}, {draw}");
            s.AppendLine($"add.rn.f64 %v, {a}, %v");
            s.AppendLine(store);
            s.AppendLine($"shl.b64 %off, {index}, {t.Shift}");
            s.AppendLine($"add.s64 %off, {dst}, %off");
            s.AppendLine($"st.global.{t.Suffix} [%off], %out");
        }
        if (dist == RandomDistribution.Uniform)
        {
            // item = block index; elements 4·item + w for w < 4 while below n.
            s.AppendLine("$rnd_loop:");
            s.AppendLine("shl.b64 %idx, %item, 2");
            s.AppendLine($"setp.ge.u64 %stop, %idx, {n}");
            s.AppendLine("@%stop bra $rnd_end");
            s.AppendLine("mov.b64 {%x0, %x1}, %item");
            s.AppendLine($"mov.b64 {{%x2, %x3}}, {counter}");
            s.Append(PhiloxRounds());
            for (var w = 0; w < 4; w++)
            {
                if (w > 0)
                {
                    s.AppendLine($"setp.ge.u64 %stop, %idx, {n}");
                    s.AppendLine("@%stop bra $rnd_next");
                }
                s.Append(ToUnit($"%x{w}"));
                Store("%u", "%idx");
                s.AppendLine("add.s64 %idx, %idx, 1");
            }
            s.AppendLine("$rnd_next:");
            s.AppendLine("add.s64 %item, %item, %stride");
            s.AppendLine("bra.uni $rnd_loop");
            s.AppendLine("$rnd_end:");
            RawPtx.Emit(e, s.ToString());
        }
        else
        {
            var truncated = dist == RandomDistribution.TruncatedNormal;
            s.AppendLine("$rnd_loop:");
            s.AppendLine($"setp.ge.u64 %stop, %item, {n}");
            s.AppendLine("@%stop bra $rnd_end");
            s.AppendLine($"mov.b64 %ctr, {counter}");
            s.AppendLine("$rnd_draw:");
            s.AppendLine("mov.b64 {%x0, %x1}, %item");
            s.AppendLine("mov.b64 {%x2, %x3}, %ctr");
            s.Append(PhiloxRounds());
            // u1 = 1 − ToUnit(x0) ∈ (0, 1]; u2 = ToUnit(x1); z = √(−2 ln u1) · cos(2π u2).
            s.Append(ToUnit("%x0"));
            s.AppendLine($"sub.rn.f64 %u1, {ComputePtx.F64(1)}, %u");
            s.Append(ToUnit("%x1"));
            s.AppendLine($"mul.rn.f64 %u, %u, {ComputePtx.F64(2.0 * Math.PI)}");
            RawPtx.Emit(e, s.ToString());
            s.Clear();
            RawPtx.Math(e, "log", "f64", "%z", "%u1");
            RawPtx.Math(e, "cos", "f64", "%v", "%u");
            s.AppendLine($"mul.rn.f64 %z, {ComputePtx.F64(-2.0)}, %z");
            s.AppendLine("sqrt.rn.f64 %z, %z");
            s.AppendLine("mul.rn.f64 %z, %z, %v");
            if (truncated)
            {
                // Redraw from block (i, counter + 2⁴⁰·t) until |z| ≤ 2.
                s.AppendLine("abs.f64 %v, %z");
                s.AppendLine($"setp.le.f64 %ok, %v, {ComputePtx.F64(2.0)}");
                s.AppendLine("@%ok bra $rnd_accept");
                s.AppendLine("add.s64 %ctr, %ctr, 0x10000000000");
                s.AppendLine("bra.uni $rnd_draw");
                s.AppendLine("$rnd_accept:");
            }
            Store("%z", "%item");
            s.AppendLine("add.s64 %item, %item, %stride");
            s.AppendLine("bra.uni $rnd_loop");
            s.AppendLine("$rnd_end:");
            RawPtx.Emit(e, s.ToString());
        }
        e.End();
        return writer.ToString();
    }
}
