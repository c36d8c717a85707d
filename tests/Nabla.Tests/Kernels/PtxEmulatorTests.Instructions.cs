using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

// Single instructions on edge-case inputs against C# twins.
internal sealed partial class PtxEmulatorTests
{
    // ---- one instruction at a time, against C# -----------------------------------------------------

    /// <summary>32-bit inputs: integer edge cases and float bit patterns (±0, NaN, ±Inf, subnormals, ordinary values).</summary>
    private static readonly uint[] Words =
    [
        0, 1, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 12345, unchecked((uint)-77), 0xDEAD_BEEF, 31, 32, 33, 0x0000_0F0F, 0x0008_0004,
        0x3FC0_0000, 0x8000_0000, 0x7FC0_0000, 0x7F80_0000, 0xFF80_0000, 0x0000_0001, 0x8040_0000, 0x4049_0FDB, 0xC2F6_E979, 0x4F00_0000, 0xCF00_0001,
    ];

    private static float F(ulong x) => BitConverter.UInt32BitsToSingle((uint)x);

    private static ulong B(float f) => float.IsNaN(f) ? 0x7FFF_FFFFu : BitConverter.SingleToUInt32Bits(f);

    private static ulong Mask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    private static ulong Bfe(ulong a, ulong b, ulong c, bool signed)
    {
        int pos = (int)(b & 0xFF), len = (int)(c & 0xFF);
        if (len == 0) return 0;
        var width = pos >= 32 ? 0 : Math.Min(len, 32 - pos);
        var field = width == 0 ? 0 : ((uint)a >> pos) & Mask(width);
        var sign = signed && (((uint)a >> Math.Min(pos + len - 1, 31)) & 1) != 0;
        return sign ? (field | ~Mask(width)) & 0xFFFF_FFFF : field;
    }

    private static readonly (string Instr, int InBits, int OutBits, Func<ulong, ulong, ulong, ulong> Expected)[] Ops =
    [
        ("mul.hi.u32 %d, %a, %b;", 32, 32, (a, b, _) => ((ulong)(uint)a * (uint)b) >> 32),
        ("mul.hi.s32 %d, %a, %b;", 32, 32, (a, b, _) => (uint)(((long)(int)a * (int)b) >> 32)),
        ("mul.wide.s32 %d, %a, %b;", 32, 64, (a, b, _) => (ulong)((long)(int)a * (int)b)),
        ("mul.wide.u32 %d, %a, %b;", 32, 64, (a, b, _) => (ulong)(uint)a * (uint)b),
        ("mad.lo.s32 %d, %a, %b, %c;", 32, 32, (a, b, c) => (uint)((int)a * (int)b + (int)c)),
        ("mul.hi.u64 %d, %a, %b;", 64, 64, (a, b, _) => Math.BigMul(a, b, out _)),
        ("mul.hi.s64 %d, %a, %b;", 64, 64, (a, b, _) => (ulong)Math.BigMul((long)a, (long)b, out long _)),
        ("sub.s64 %d, %a, %b;", 64, 64, (a, b, _) => a - b),
        ("min.s32 %d, %a, %b;", 32, 32, (a, b, _) => (uint)Math.Min((int)a, (int)b)),
        ("max.u32 %d, %a, %b;", 32, 32, (a, b, _) => Math.Max((uint)a, (uint)b)),
        ("add.sat.s32 %d, %a, %b;", 32, 32, (a, b, _) => (uint)(int)Math.Clamp((long)(int)a + (int)b, int.MinValue, int.MaxValue)),
        ("abs.s32 %d, %a;", 32, 32, (a, _, _) => (uint)((int)a < 0 ? -(int)a : (int)a)),
        ("neg.s32 %d, %a;", 32, 32, (a, _, _) => (uint)-(int)a),
        ("cnot.b32 %d, %a;", 32, 32, (a, _, _) => (uint)a == 0 ? 1UL : 0UL),
        ("div.u32 %d, %a, 7;", 32, 32, (a, _, _) => (uint)a / 7),
        ("rem.s32 %d, %a, -7;", 32, 32, (a, _, _) => (uint)((int)a % -7)),
        ("shr.s32 %d, %a, %b;", 32, 32, (a, b, _) => (uint)((int)a >> (int)Math.Min((uint)b, 31u))),
        ("shr.u32 %d, %a, %b;", 32, 32, (a, b, _) => (uint)b >= 32 ? 0 : (uint)a >> (int)(uint)b),
        ("shl.b32 %d, %a, %b;", 32, 32, (a, b, _) => (uint)b >= 32 ? 0 : (uint)((uint)a << (int)(uint)b)),
        ("bfe.u32 %d, %a, %b, %c;", 32, 32, (a, b, c) => Bfe(a, b, c, false)),
        ("bfe.s32 %d, %a, %b, %c;", 32, 32, (a, b, c) => Bfe(a, b, c, true)),
        ("bfi.b32 %d, %a, %b, 8, 12;", 32, 32, (a, b, _) => ((uint)b & ~(0xFFFu << 8)) | (((uint)a & 0xFFF) << 8)),
        ("prmt.b32 %d, %a, %b, 0x3210;", 32, 32, (a, _, _) => (uint)a),
        ("prmt.b32 %d, %a, %b, 0x7654;", 32, 32, (_, b, _) => (uint)b),
        ("prmt.b32 %d, %a, %b, 0x0123;", 32, 32, (a, _, _) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)a)),
        ("prmt.b32 %d, %a, %b, 0x8888;", 32, 32, (a, _, _) => (a & 0x80) != 0 ? 0xFFFF_FFFFu : 0u),
        ("brev.b32 %d, %a;", 32, 32, (a, _, _) => { uint r = 0; for (var k = 0; k < 32; k++) r |= (uint)((a >> k) & 1) << (31 - k); return r; }),
        ("popc.b32 %d, %a;", 32, 32, (a, _, _) => (ulong)System.Numerics.BitOperations.PopCount((uint)a)),
        ("clz.b32 %d, %a;", 32, 32, (a, _, _) => (ulong)System.Numerics.BitOperations.LeadingZeroCount((uint)a)),
        ("copysign.f32 %d, %a, %b;", 32, 32, (a, b, _) => ((uint)b & 0x7FFF_FFFF) | ((uint)a & 0x8000_0000)),
        ("fma.rn.f32 %d, %a, %b, %c;", 32, 32, (a, b, c) => B(MathF.FusedMultiplyAdd(F(a), F(b), F(c)))),
        ("div.rn.f32 %d, %a, %b;", 32, 32, (a, b, _) => B(F(a) / F(b))),
        ("sqrt.rn.f32 %d, %a;", 32, 32, (a, _, _) => B(MathF.Sqrt(F(a)))),
        ("rcp.rn.f32 %d, %a;", 32, 32, (a, _, _) => B(1f / F(a))),
        ("add.ftz.f32 %d, %a, %b;", 32, 32, (a, b, _) =>
        {
            static float Z(float x) => float.IsSubnormal(x) ? MathF.CopySign(0f, x) : x;
            return B(Z(Z(F(a)) + Z(F(b))));
        }),
        ("mul.sat.f32 %d, %a, %b;", 32, 32, (a, b, _) => { var p = F(a) * F(b); return B(float.IsNaN(p) ? 0f : Math.Clamp(p, 0f, 1f)); }),
        ("min.f32 %d, %a, %b;", 32, 32, (a, b, _) => float.IsNaN(F(a)) ? B(F(b)) : float.IsNaN(F(b)) ? B(F(a)) : B(MathF.Min(F(a), F(b)))),
        ("max.NaN.f32 %d, %a, %b;", 32, 32, (a, b, _) => B(MathF.Max(F(a), F(b)))),
        ("setp.lt.s32 %p, %a, %b; selp.u32 %d, 1, 0, %p;", 32, 32, (a, b, _) => (int)a < (int)b ? 1UL : 0UL),
        ("setp.hi.u32 %p, %a, %b; selp.u32 %d, 1, 0, %p;", 32, 32, (a, b, _) => (uint)a > (uint)b ? 1UL : 0UL),
        ("setp.gtu.f32 %p, %a, %b; selp.u32 %d, 1, 0, %p;", 32, 32, (a, b, _) => !(F(a) <= F(b)) ? 1UL : 0UL),
        ("slct.u32.s32 %d, %a, %b, %c;", 32, 32, (a, b, c) => (int)c >= 0 ? (uint)a : (uint)b),
        ("testp.subnormal.f32 %p, %a; selp.u32 %d, 1, 0, %p;", 32, 32, (a, _, _) => float.IsSubnormal(F(a)) ? 1UL : 0UL),
        ("set.ltu.u32.f32 %d, %a, %b;", 32, 32, (a, b, _) => !(F(a) >= F(b)) ? 0xFFFF_FFFFUL : 0UL),
        ("cvt.rzi.s32.f32 %d, %a;", 32, 32, (a, _, _) => float.IsNaN(F(a)) ? 0 : (uint)int.CreateSaturating(F(a))),
        ("cvt.rni.u32.f32 %d, %a;", 32, 32, (a, _, _) => float.IsNaN(F(a)) ? 0 : uint.CreateSaturating(MathF.Round(F(a)))),
        ("cvt.rn.f32.s32 %d, %a;", 32, 32, (a, _, _) => B((int)a)),
        ("cvt.rn.f32.u32 %d, %a;", 32, 32, (a, _, _) => B((uint)a)),
        ("cvt.s8.s32 %d, %a;", 32, 32, (a, _, _) => (uint)(sbyte)a),
        ("cvt.sat.s8.s32 %d, %a;", 32, 32, (a, _, _) => (uint)Math.Clamp((int)a, sbyte.MinValue, sbyte.MaxValue)),
        ("cvt.u16.u32 %d, %a;", 32, 32, (a, _, _) => (ushort)a),
        ("cvt.s64.s32 %d, %a;", 32, 64, (a, _, _) => (ulong)(long)(int)a),
        ("cvt.u64.u32 %d, %a;", 32, 64, (a, _, _) => (uint)a),
    ];

    private static IEnumerable<TestCaseData> OpCases() => Ops.Select((o, k) => new TestCaseData(k).SetName($"Instruction({o.Instr})"));

    [TestCaseSource(nameof(OpCases))]
    public void Instruction(int row)
    {
        var (instr, inBits, outBits, expected) = Ops[row];
        var body = $$"""
            .reg .b{{inBits}} %a, %b, %c;
            .reg .b{{outBits}} %d;
            .reg .pred %p;
            .reg .b32 %t;
            .reg .b64 %rd<8>;
            ld.param.u64 %rd1, [pa];
            ld.param.u64 %rd2, [pb];
            ld.param.u64 %rd3, [pc];
            ld.param.u64 %rd4, [pd];
            mov.u32 %t, %tid.x;
            mul.wide.u32 %rd5, %t, {{inBits / 8}};
            add.s64 %rd6, %rd1, %rd5;
            ld.global.b{{inBits}} %a, [%rd6];
            add.s64 %rd6, %rd2, %rd5;
            ld.global.b{{inBits}} %b, [%rd6];
            add.s64 %rd6, %rd3, %rd5;
            ld.global.b{{inBits}} %c, [%rd6];
            {{instr}}
            mul.wide.u32 %rd5, %t, {{outBits / 8}};
            add.s64 %rd6, %rd4, %rd5;
            st.global.b{{outBits}} [%rd6], %d;
            ret;
            """;
        // min/max .NaN needs sm_80; everything else is checked against the modules' sm_75.
        var k = Kernel("op" + row, ".param .u64 pa, .param .u64 pb, .param .u64 pc, .param .u64 pd", body, instr.Contains(".NaN", StringComparison.Ordinal) ? "sm_80" : "sm_75");
        // Every pair of words, plus a third input rotated against them.
        var a = Words.SelectMany(x => Words.Select(_ => (ulong)x)).ToArray();
        var b = Words.SelectMany(_ => Words.Select(y => (ulong)y)).ToArray();
        var c = a.Select((_, i) => (ulong)Words[(i * 7 + 3) % Words.Length]).ToArray();
        if (inBits == 64)
        {
            var wideA = a.Select((x, i) => x << 32 | b[i]).ToArray();
            b = b.Select((y, i) => y << 32 | c[i]).ToArray();
            a = wideA;
        }
        ulong Up(ulong[] x) => inBits == 32 ? _device.Upload<uint>(x.Select(v => (uint)v).ToArray()) : _device.Upload<ulong>(x);
        var n = a.Length;
        var (da, db, dc) = (Up(a), Up(b), Up(c));
        var dd = _device.Allocate((long)n * outBits / 8);
        K.Launch(k, (1, 1, 1), (uint)n, 0, new KernelArgs().U64(da).U64(db).U64(dc).U64(dd));
        var d = outBits == 32 ? _device.Read<uint>(dd, n).Select(v => (ulong)v).ToArray() : _device.Read<ulong>(dd, n);
        var bad = Enumerable.Range(0, n).Where(i => d[i] != expected(a[i], b[i], c[i])).Take(5)
            .Select(i => $"a=0x{a[i]:X} b=0x{b[i]:X} c=0x{c[i]:X}: expected 0x{expected(a[i], b[i], c[i]):X}, got 0x{d[i]:X}").ToArray();
        Assert.That(bad, Is.Empty, instr);
    }
}
