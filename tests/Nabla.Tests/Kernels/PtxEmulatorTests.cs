using System.Diagnostics;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The PTX emulator, the oracle for CUDA kernels written without a GPU: the embedded native/cuda kernels
/// against their CPU twins (bit for bit where their headers promise it), hand-written snippets for each
/// execution feature (shared memory and barriers, warp shuffles and votes, atomics, unordered compares,
/// cvt rounding, predication), its strictness (faults, parse errors, deadlocks, launch mismatches), and
/// EmulatedCudaDevice's cuBLAS-semantics GEMM.
/// </summary>
[TestFixture]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "TearDown disposes the per-test device")]
internal sealed partial class PtxEmulatorTests
{
    private EmulatedKernelTestDevice _device = null!;

    [SetUp]
    public void SetUp() => _device = new EmulatedKernelTestDevice();

    [TearDown]
    public void TearDown() => _device.Dispose();

    private IKernelLauncher K => _device.Launcher;

    /// <summary>Special and ordinary float32 values, then random ones of every magnitude.</summary>
    private static float[] Floats(int n, int seed)
    {
        float[] special = [0f, -0f, 1f, -1f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon,
            float.MaxValue, float.MinValue, 1.17549435e-38f, 2.5f, -2.5f, 0.5f, 3e9f, -3e9f, 2147483520f, 2147483648f, -2147483648f, 16777217f];
        var random = new Random(seed);
        var x = new float[n];
        for (var i = 0; i < n; i++)
            x[i] = i < special.Length ? special[i] : BitConverter.Int32BitsToSingle(random.Next()) * (random.Next(2) == 0 ? 1 : -1);
        return x;
    }

    /// <summary>Uploads <paramref name="x"/>, launches <paramref name="k"/>(x, y) with y = <paramref name="n"/> poisoned elements, and returns y.</summary>
    private TOut[] RunXy<TIn, TOut>(KernelHandle k, TIn[] x, int n, uint grid, uint block) where TIn : unmanaged where TOut : unmanaged
    {
        var dx = _device.Upload<TIn>(x);
        var dy = _device.Poisoned<TOut>(n);
        K.Launch(k, (grid, 1, 1), block, 0, new KernelArgs().U64(dx).U64(dy));
        return _device.Read<TOut>(dy, n);
    }

    private static void AssertBitEqual(float[] expected, float[] actual, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        var bad = Enumerable.Range(0, expected.Length)
            .Where(i => !(float.IsNaN(expected[i]) && float.IsNaN(actual[i])) && BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
            .Take(5).Select(i => $"[{i}] expected {expected[i]:R} (0x{BitConverter.SingleToUInt32Bits(expected[i]):X8}), got {actual[i]:R} (0x{BitConverter.SingleToUInt32Bits(actual[i]):X8})")
            .ToArray();
        Assert.That(bad, Is.Empty, what);
    }

    [Test]
    public void EveryEmbeddedModuleParses()
    {
        Assert.That(PtxModules.Names, Is.Not.Empty);
        foreach (var name in PtxModules.Names)
        {
            var module = PtxEmulator.Parse(name, PtxModules.Read(name));
            Assert.That(module.Kernels, Is.Not.Empty, name);
            foreach (var entry in module.Kernels.Keys) Assert.That(K.Function(name, entry).Entry, Is.EqualTo(entry));
        }
    }

    [TestCase("add_f32", 1000, 2u, 64u), TestCase("mul_f32", 1000, 2u, 64u), TestCase("add_f32", 0, 1u, 256u), TestCase("mul_f32", 300, 1000u, 256u)]
    public void BinaryKernelsAreBitEqualToTheCpu(string entry, int n, uint grid, uint block)
    {
        var x = Floats(n, 1);
        var y = Floats(n, 2).Reverse().ToArray();
        var (dx, dy, dz) = (_device.Upload<float>(x), _device.Upload<float>(y), _device.Poisoned<float>(n + 1));
        K.Launch(K.Function("binary", entry), (grid, 1, 1), block, 0, new KernelArgs().U64(dx).U64(dy).U64(dz).U64((ulong)n));
        var z = _device.Read<float>(dz, n + 1);
        var expected = x.Zip(y, (a, b) => entry == "add_f32" ? a + b : a * b).ToArray();
        AssertBitEqual(expected, z[..n], entry);
        Assert.That(BitConverter.SingleToUInt32Bits(z[n]), Is.EqualTo(0xFFFF_FFFFu), "the element past n stays poisoned");
    }

    [Test]
    public void BinaryAddInPlace()
    {
        var x = Floats(100, 3);
        var dx = _device.Upload<float>(x);
        K.Launch(K.Function("binary", "add_f32"), LaunchShape.Grid(100), LaunchShape.Block, 0, new KernelArgs().U64(dx).U64(dx).U64(dx).U64(100));
        AssertBitEqual(x.Select(v => v + v).ToArray(), _device.Read<float>(dx, 100), "z = x + x in place");
    }

    [TestCase(0x7FC0_1234u), TestCase(0x8000_0000u), TestCase(0x3F80_0000u)]
    public void FillStoresTheValueBitForBit(uint bits)
    {
        const int n = 777;
        var dy = _device.Poisoned<float>(n);
        K.Launch(K.Function("fill", "fill_f32"), (3, 1, 1), 128, 0, new KernelArgs().U64(dy).F32(BitConverter.UInt32BitsToSingle(bits)).U64(n));
        Assert.That(_device.Read<uint>(dy, n), Has.All.EqualTo(bits));
    }

    [Test]
    public void UnaryKernelsAreBitEqualToTheCpu()
    {
        const int n = 500;
        var x = Floats(n, 4);
        var dx = _device.Upload<float>(x);
        var dy = _device.Poisoned<float>(n);
        K.Launch(K.Function("unary", "neg_f32"), (1, 1, 1), 96, 0, new KernelArgs().U64(dx).U64(dy).U64(n));
        var neg = _device.Read<uint>(dy, n);
        Assert.That(neg, Is.EqualTo(x.Select(v => BitConverter.SingleToUInt32Bits(v) ^ 0x8000_0000u).ToArray()), "neg flips the sign bit");
        K.Launch(K.Function("unary", "sqrt_f32"), (2, 1, 1), 256, 0, new KernelArgs().U64(dx).U64(dy).U64(n));
        AssertBitEqual(x.Select(MathF.Sqrt).ToArray(), _device.Read<float>(dy, n), "sqrt.rn");
    }

    [Test]
    public void CastKernelsFollowHostBackendRules()
    {
        const int n = 400;
        var f = Floats(n, 5);
        var df = _device.Upload<float>(f);
        var dd = _device.Poisoned<double>(n);
        K.Launch(K.Function("cast", "cast_f32_f64"), (1, 1, 1), 256, 0, new KernelArgs().U64(df).U64(dd).U64(n));
        var d = _device.Read<double>(dd, n);
        Assert.That(d.Select((v, i) => double.IsNaN(v) ? float.IsNaN(f[i]) : v == f[i] && double.IsNegative(v) == float.IsNegative(f[i])), Has.All.True, "f32 -> f64 exact");

        var doubles = f.Select((v, i) => (double)v * (1 + 1e-9 * i)).ToArray();
        var dd2 = _device.Upload<double>(doubles);
        var df2 = _device.Poisoned<float>(n);
        K.Launch(K.Function("cast", "cast_f64_f32"), (1, 1, 1), 256, 0, new KernelArgs().U64(dd2).U64(df2).U64(n));
        AssertBitEqual(doubles.Select(v => (float)v).ToArray(), _device.Read<float>(df2, n), "f64 -> f32 round to nearest even");

        var di = _device.Poisoned<int>(n);
        K.Launch(K.Function("cast", "cast_f32_i32"), (1, 1, 1), 256, 0, new KernelArgs().U64(df).U64(di).U64(n));
        Assert.That(_device.Read<int>(di, n), Is.EqualTo(f.Select(v => float.IsNaN(v) ? 0 : int.CreateSaturating(v)).ToArray()), "f32 -> i32 truncates and saturates, NaN -> 0");

        var ints = new Random(6).GetItems(new[] { int.MinValue, int.MaxValue, 0, -1, 16_777_217, -16_777_219, 123_456_789 }, n);
        var di2 = _device.Upload<int>(ints);
        K.Launch(K.Function("cast", "cast_i32_f32"), (1, 1, 1), 256, 0, new KernelArgs().U64(di2).U64(df2).U64(n));
        AssertBitEqual(ints.Select(v => (float)v).ToArray(), _device.Read<float>(df2, n), "i32 -> f32 round to nearest even");
    }

    // ---- hand-written snippets -------------------------------------------------------------------

    /// <summary>A module with one kernel <c>k</c> of the given parameters and body.</summary>
    private static string Module(string parameters, string body, string target = "sm_75") =>
        $".version 8.0\n.target {target}\n.address_size 64\n\n.visible .entry k(\n{parameters}\n)\n{{\n{body}\n}}\n";

    private KernelHandle Kernel(string key, string parameters, string body, string target = "sm_75") =>
        K.Function(key, () => Module(parameters, body, target), "k");

    [Test]
    public void SharedMemoryTreeReductionWithBarriers()
    {
        // Each block of 128 threads sums its 128 inputs: smem[tid] = x[i]; for s = 64..1: if tid < s smem[tid] += smem[tid+s]; bar.sync.
        var k = Kernel("reduce", ".param .u64 x, .param .u64 y", """
            .reg .pred %p<3>;
            .reg .b32 %r<8>;
            .reg .f32 %f<4>;
            .reg .b64 %rd<8>;
            .shared .align 4 .f32 smem[128];
            ld.param.u64 %rd1, [x];
            ld.param.u64 %rd2, [y];
            mov.u32 %r1, %tid.x;
            mov.u32 %r2, %ctaid.x;
            mad.lo.s32 %r3, %r2, 128, %r1;
            mul.wide.u32 %rd3, %r3, 4;
            add.s64 %rd4, %rd1, %rd3;
            ld.global.f32 %f1, [%rd4];
            mov.u32 %r4, smem;
            shl.b32 %r5, %r1, 2;
            add.s32 %r6, %r4, %r5;
            st.shared.f32 [%r6], %f1;
            bar.sync 0;
            mov.u32 %r7, 64;
            $loop:
            setp.lt.u32 %p1, %r1, %r7;
            @!%p1 bra $skip;
            shl.b32 %r5, %r7, 2;
            add.s32 %r5, %r6, %r5;
            ld.shared.f32 %f2, [%r5];
            ld.shared.f32 %f3, [%r6];
            add.rn.f32 %f3, %f3, %f2;
            st.shared.f32 [%r6], %f3;
            $skip:
            bar.sync 0;
            shr.u32 %r7, %r7, 1;
            setp.ne.u32 %p2, %r7, 0;
            @%p2 bra $loop;
            setp.ne.u32 %p1, %r1, 0;
            @%p1 bra $done;
            ld.shared.f32 %f1, [smem];
            mul.wide.u32 %rd5, %r2, 4;
            add.s64 %rd6, %rd2, %rd5;
            st.global.f32 [%rd6], %f1;
            $done:
            ret;
            """);
        var x = Enumerable.Range(0, 3 * 128).Select(i => (float)(i % 17) - 8).ToArray();
        Assert.That(RunXy<float, float>(k, x, 3, grid: 3, block: 128), Is.EqualTo(Enumerable.Range(0, 3).Select(b => x.Skip(b * 128).Take(128).Sum()).ToArray()));
    }

    private const string WarpSumBody = """
        .reg .pred %p<2>;
        .reg .b32 %r<8>;
        .reg .f32 %f<4>;
        .reg .b64 %rd<6>;
        ld.param.u64 %rd1, [x];
        ld.param.u64 %rd2, [y];
        mov.u32 %r1, %tid.x;
        mul.wide.u32 %rd3, %r1, 4;
        add.s64 %rd4, %rd1, %rd3;
        ld.global.f32 %f1, [%rd4];
        mov.u32 %r2, 16;
        $loop:
        mov.b32 %r3, %f1;
        shfl.sync.bfly.b32 %r4, %r3, %r2, 0x1f, 0xffffffff;
        mov.b32 %f2, %r4;
        add.rn.f32 %f1, %f1, %f2;
        shr.u32 %r2, %r2, 1;
        setp.ne.u32 %p1, %r2, 0;
        @%p1 bra $loop;
        add.s64 %rd5, %rd2, %rd3;
        st.global.f32 [%rd5], %f1;
        ret;
        """;

    [Test]
    public void ShuffleButterflyWarpSum()
    {
        var k = Kernel("warpsum", ".param .u64 x, .param .u64 y", WarpSumBody);
        var x = Enumerable.Range(0, 64).Select(i => (float)i).ToArray();
        var y = RunXy<float, float>(k, x, 64, grid: 1, block: 64);
        Assert.That(y[..32], Has.All.EqualTo(Enumerable.Range(0, 32).Sum()), "every lane of warp 0 holds the warp's sum");
        Assert.That(y[32..], Has.All.EqualTo(Enumerable.Range(32, 32).Sum()), "warp 1");
    }

    [Test]
    public void ShuffleFromAMissingLaneIsAnError()
    {
        // A block of 48 threads: lanes 16..31 of warp 1 do not exist, so bfly 16 reads nothing.
        var k = Kernel("warpsum48", ".param .u64 x, .param .u64 y", WarpSumBody);
        var dx = _device.Upload<float>(new float[48]);
        var dy = _device.Poisoned<float>(48);
        var e = Assert.Throws<PtxEmulatorException>(() => K.Launch(k, (1, 1, 1), 48, 0, new KernelArgs().U64(dx).U64(dy)))!;
        Assert.That(e.Message, Does.Contain("shfl.sync.bfly").And.Contain("not an active member"));
    }

    [Test]
    public void ShuffleUpDownIdxAndVote()
    {
        // y[4*t+0] = shfl.up(t, 1) (own value at lane 0), +1 = shfl.down(t, 2, clamp 31), +2 = shfl.idx(t, 5), +3 = ballot(t odd) | any(t == 7) << 0.
        var k = Kernel("shfl", ".param .u64 y", """
            .reg .pred %p<4>;
            .reg .b32 %r<12>;
            .reg .b64 %rd<5>;
            ld.param.u64 %rd1, [y];
            mov.u32 %r1, %tid.x;
            shfl.sync.up.b32 %r2|%p1, %r1, 1, 0, 0xffffffff;
            shfl.sync.down.b32 %r3, %r1, 2, 31, 0xffffffff;
            shfl.sync.idx.b32 %r4, %r1, 5, 31, 0xffffffff;
            and.b32 %r5, %r1, 1;
            setp.eq.u32 %p2, %r5, 1;
            vote.sync.ballot.b32 %r6, %p2, 0xffffffff;
            setp.eq.u32 %p3, %r1, 7;
            vote.sync.any.pred %p3, %p3, 0xffffffff;
            vote.sync.all.pred %p2, !%p2, 0xffffffff;
            selp.u32 %r7, 1, 0, %p3;
            selp.u32 %r8, 2, 0, %p2;
            selp.u32 %r9, 4, 0, %p1;
            or.b32 %r7, %r7, %r8;
            or.b32 %r7, %r7, %r9;
            mul.wide.u32 %rd2, %r1, 32;
            add.s64 %rd3, %rd1, %rd2;
            st.global.v4.u32 [%rd3], {%r2, %r3, %r4, %r6};
            st.global.u32 [%rd3+16], %r7;
            ret;
            """);
        var dy = _device.Poisoned<uint>(32 * 8);
        K.Launch(k, (1, 1, 1), 32, 0, new KernelArgs().U64(dy));
        var y = _device.Read<uint>(dy, 32 * 8);
        for (var t = 0u; t < 32; t++)
        {
            var row = y.AsSpan((int)t * 8, 5).ToArray();
            Assert.That(row, Is.EqualTo(new[] { t == 0 ? 0 : t - 1, t + 2 <= 31 ? t + 2 : t, 5u, 0xAAAA_AAAAu, 1u | (t == 0 ? 0u : 4u) }), $"lane {t}");
        }
    }

    [Test]
    public void AtomicAddCountsEveryThread()
    {
        var k = Kernel("atomics", ".param .u64 c", """
            .reg .b32 %r<4>;
            .reg .f32 %f<2>;
            .reg .b64 %rd<3>;
            ld.param.u64 %rd1, [c];
            cvta.to.global.u64 %rd1, %rd1;
            atom.global.add.u32 %r1, [%rd1], 1;
            red.global.add.f32 [%rd1+4], 0f3F000000;
            mov.u32 %r2, %tid.x;
            atom.global.max.s32 %r3, [%rd1+8], %r2;
            atom.global.cas.b32 %r3, [%rd1+12], 0, %r2;
            ret;
            """);
        var dc = _device.Upload<uint>([0, 0, 0x8000_0000, 0]);
        K.Launch(k, (4, 1, 1), 100, 0, new KernelArgs().U64(dc));
        var c = _device.Read<uint>(dc, 4);
        Assert.That(c[0], Is.EqualTo(400u));
        Assert.That(BitConverter.UInt32BitsToSingle(c[1]), Is.EqualTo(200f));
        Assert.That(c[2], Is.EqualTo(99u));
        Assert.That(c[3], Is.EqualTo(1u), "the first thread (tid 0) swaps in 0 and leaves 0; tid 1 then sees 0 and swaps in 1; later threads see 1");
    }

    [Test]
    public void UnorderedComparisonsAndNaN()
    {
        // y[i] = bit mask of (lt, ltu, ne, neu, num, nan, ge) of (x[i], 1.0).
        var k = Kernel("setp", ".param .u64 x, .param .u64 y", """
            .reg .pred %p<8>;
            .reg .b32 %r<10>;
            .reg .f32 %f<2>;
            .reg .b64 %rd<5>;
            ld.param.u64 %rd1, [x];
            ld.param.u64 %rd2, [y];
            mov.u32 %r1, %tid.x;
            mul.wide.u32 %rd3, %r1, 4;
            add.s64 %rd4, %rd1, %rd3;
            ld.global.f32 %f1, [%rd4];
            setp.lt.f32 %p1, %f1, 0f3F800000;
            setp.ltu.f32 %p2, %f1, 0f3F800000;
            setp.ne.f32 %p3, %f1, 0f3F800000;
            setp.neu.f32 %p4, %f1, 0f3F800000;
            setp.num.f32 %p5, %f1, 0f3F800000;
            setp.nan.f32 %p6, %f1, 0f3F800000;
            setp.ge.and.f32 %p7|%p0, %f1, 0f3F800000, %p5;
            selp.u32 %r2, 1, 0, %p1;
            selp.u32 %r3, 2, 0, %p2;
            selp.u32 %r4, 4, 0, %p3;
            selp.u32 %r5, 8, 0, %p4;
            selp.u32 %r6, 16, 0, %p5;
            selp.u32 %r7, 32, 0, %p6;
            selp.u32 %r8, 64, 0, %p7;
            selp.u32 %r9, 128, 0, %p0;
            or.b32 %r2, %r2, %r3;
            or.b32 %r2, %r2, %r4;
            or.b32 %r2, %r2, %r5;
            or.b32 %r2, %r2, %r6;
            or.b32 %r2, %r2, %r7;
            or.b32 %r2, %r2, %r8;
            or.b32 %r2, %r2, %r9;
            add.s64 %rd4, %rd2, %rd3;
            st.global.u32 [%rd4], %r2;
            ret;
            """);
        float[] x = [float.NaN, 0f, 1f, 2f];
        var y = RunXy<float, uint>(k, x, 4, grid: 1, block: 4);
        // NaN: ltu, neu, nan, and !ge&&num = false for both halves; 0: lt ltu ne neu num, q = !ge && num; 1: neu? no; num, ge.
        Assert.That(y, Is.EqualTo(new uint[] { 2 | 8 | 32, 1 | 2 | 4 | 8 | 16 | 128, 16 | 64, 4 | 8 | 16 | 64 }));
    }

    [Test]
    public void CvtRoundingModes()
    {
        // y[4i..4i+3] = cvt.{rni,rzi,rmi,rpi}.s32.f32(x[i]); z[i] = cvt.rz.f32.f64(d[i]), w[i] = cvt.rp.f32.f64(d[i]).
        var k = Kernel("cvt", ".param .u64 x, .param .u64 d, .param .u64 y, .param .u64 z", """
            .reg .b32 %r<6>;
            .reg .f32 %f<4>;
            .reg .f64 %fd<2>;
            .reg .b64 %rd<12>;
            ld.param.u64 %rd1, [x];
            ld.param.u64 %rd2, [d];
            ld.param.u64 %rd3, [y];
            ld.param.u64 %rd4, [z];
            mov.u32 %r1, %tid.x;
            mul.wide.u32 %rd5, %r1, 4;
            add.s64 %rd6, %rd1, %rd5;
            ld.global.f32 %f1, [%rd6];
            cvt.rni.s32.f32 %r2, %f1;
            cvt.rzi.s32.f32 %r3, %f1;
            cvt.rmi.s32.f32 %r4, %f1;
            cvt.rpi.s32.f32 %r5, %f1;
            mul.wide.u32 %rd7, %r1, 16;
            add.s64 %rd8, %rd3, %rd7;
            st.global.v4.s32 [%rd8], {%r2, %r3, %r4, %r5};
            mul.wide.u32 %rd9, %r1, 8;
            add.s64 %rd10, %rd2, %rd9;
            ld.global.f64 %fd1, [%rd10];
            cvt.rz.f32.f64 %f2, %fd1;
            cvt.rp.f32.f64 %f3, %fd1;
            add.s64 %rd11, %rd4, %rd9;
            st.global.v2.f32 [%rd11], {%f2, %f3};
            ret;
            """);
        float[] x = [2.5f, -2.5f, 1.5f, -0.5f, float.NaN, 3e10f];
        double[] d = [1.0 + 1e-12, -(1.0 + 1e-12), 0.1, 1e300, -1e300, 3.0];
        var (dx, dd) = (_device.Upload<float>(x), _device.Upload<double>(d));
        var (dy, dz) = (_device.Poisoned<int>(24), _device.Poisoned<float>(12));
        K.Launch(k, (1, 1, 1), 6, 0, new KernelArgs().U64(dx).U64(dd).U64(dy).U64(dz));
        Assert.That(_device.Read<int>(dy, 24), Is.EqualTo(new[]
        {
            2, 2, 2, 3, -2, -2, -3, -2, 2, 1, 1, 2, 0, 0, -1, 0, 0, 0, 0, 0,
            int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue,
        }));
        var z = _device.Read<float>(dz, 12);
        Assert.That(z, Is.EqualTo(new[]
        {
            // (float)0.1 rounds up, so rz takes the float below it and rp keeps it.
            1f, MathF.BitIncrement(1f), -1f, -1f, MathF.BitDecrement(0.1f), 0.1f,
            float.MaxValue, float.PositiveInfinity, -float.MaxValue, -float.MaxValue, 3f, 3f,
        }));
    }

    [Test]
    public void PredicatedInstructionsAndIntegerOps()
    {
        // y[t] = t odd ? -(t * 3) : (t << 4) ^ 5, then a few exact integer identities into z.
        var k = Kernel("pred", ".param .u64 y, .param .u64 z", """
            .reg .pred %p<2>;
            .reg .b32 %r<12>;
            .reg .b64 %rd<8>;
            ld.param.u64 %rd1, [y];
            ld.param.u64 %rd2, [z];
            mov.u32 %r1, %tid.x;
            and.b32 %r2, %r1, 1;
            setp.eq.b32 %p1, %r2, 1;
            @%p1 mul.lo.s32 %r3, %r1, -3;
            @!%p1 shl.b32 %r3, %r1, 4;
            @!%p1 xor.b32 %r3, %r3, 5;
            mul.wide.u32 %rd3, %r1, 4;
            add.s64 %rd4, %rd1, %rd3;
            st.global.s32 [%rd4], %r3;
            setp.eq.u32 %p1, %r1, 0;
            @!%p1 bra $end;
            mov.u32 %r4, -7;
            div.s32 %r5, %r4, 2;
            rem.s32 %r6, %r4, 2;
            shr.s32 %r7, %r4, 1;
            shr.u32 %r8, %r4, 28;
            bfe.s32 %r9, 0xF0, 4, 4;
            popc.b32 %r10, %r4;
            clz.b32 %r11, 1;
            st.global.v4.s32 [%rd2], {%r5, %r6, %r7, %r8};
            st.global.v4.s32 [%rd2+16], {%r9, %r10, %r11, %r4};
            $end:
            ret;
            """);
        var (dy, dz) = (_device.Poisoned<int>(8), _device.Poisoned<int>(8));
        K.Launch(k, (1, 1, 1), 8, 0, new KernelArgs().U64(dy).U64(dz));
        Assert.That(_device.Read<int>(dy, 8), Is.EqualTo(Enumerable.Range(0, 8).Select(t => t % 2 == 1 ? -3 * t : (t << 4) ^ 5).ToArray()));
        Assert.That(_device.Read<int>(dz, 8), Is.EqualTo(new[] { -3, -1, -4, 15, -1, 30, 31, -7 }));
    }

    // ---- strictness ------------------------------------------------------------------------------

    [Test]
    public void OutOfBoundsAccessFaultsNamingKernelLineAndAddress()
    {
        var dy = _device.Poisoned<float>(100);
        var e = Assert.Throws<PtxEmulatorException>(() =>
            K.Launch(K.Function("fill", "fill_f32"), (1, 1, 1), 256, 0, new KernelArgs().U64(dy).F32(1f).U64(101)))!;
        Assert.That(e.Message, Does.Contain("fill:fill_f32").And.Contain("thread 100").And.Contain("st.global.f32")
            .And.Contain($"0x{dy + 400:X}").And.Contain("past the end of allocation"));
        Assert.That(e.Message, Does.Match(@"line \d+"));
    }

    [Test]
    public void MisalignedAccessFaults()
    {
        var k = Kernel("misaligned", ".param .u64 x", """
            .reg .f32 %f<2>;
            .reg .b64 %rd<3>;
            ld.param.u64 %rd1, [x];
            ld.global.f32 %f1, [%rd1+2];
            ret;
            """);
        var dx = _device.Poisoned<float>(4);
        var e = Assert.Throws<PtxEmulatorException>(() => K.Launch(k, (1, 1, 1), 1, 0, new KernelArgs().U64(dx)))!;
        Assert.That(e.Message, Does.Contain("misaligned 4-byte access"));
    }

    [Test]
    public void ReadingAnUnwrittenRegisterIsAnError()
    {
        // %rd3 is a typo for %rd2: it is declared but never written.
        var k = Kernel("unset", ".param .u64 y", """
            .reg .b32 %r<2>;
            .reg .b64 %rd<4>;
            ld.param.u64 %rd2, [y];
            mov.u32 %r1, 7;
            st.global.u32 [%rd3], %r1;
            ret;
            """);
        var dy = _device.Poisoned<uint>(1);
        var e = Assert.Throws<PtxEmulatorException>(() => K.Launch(k, (2, 1, 1), 1, 0, new KernelArgs().U64(dy)))!;
        Assert.That(e.Message, Does.Contain("reads %rd3, which this thread has not written"));
    }

    [Test]
    public void UnknownInstructionIsAParseErrorNamingTheLine()
    {
        var text = Module(".param .u64 x", "    .reg .b32 %r<2>;\n    frobnicate.u32 %r1, %r1;\n    ret;");
        var e = Assert.Throws<NotSupportedException>(() => PtxEmulator.Parse("bad", text))!;
        Assert.That(e.Message, Does.Contain("line 10").And.Contain("frobnicate"));
        var size = Assert.Throws<NotSupportedException>(() => PtxEmulator.Parse("bad", Module(".param .u64 x", ".reg .b32 %r<2>;\n.reg .b64 %rd<2>;\nadd.s64 %rd1, %r1, %rd1;\nret;")))!;
        Assert.That(size.Message, Does.Contain("%r1 is a 32-bit"));
        var label = Assert.Throws<NotSupportedException>(() => PtxEmulator.Parse("bad", Module("", "bra $nowhere;\nret;")))!;
        Assert.That(label.Message, Does.Contain("undefined label '$nowhere'"));
        var target = Assert.Throws<NotSupportedException>(() => PtxEmulator.Parse("bad", Module("", ".reg .f32 %f<2>;\nmax.NaN.f32 %f1, %f1, %f1;\nret;")))!;
        Assert.That(target.Message, Does.Contain("requires .target sm_80"));
    }

    private const string DivergentBarriers = """
        .reg .pred %p<2>;
        .reg .b32 %r<2>;
        mov.u32 %r1, %tid.x;
        setp.lt.u32 %p1, %r1, 16;
        @%p1 bra $end;
        BARRIER 0;
        BARRIER 0;
        $end:
        BARRIER 0;
        ret;
        """;

    [Test]
    public void AlignedBarrierInDivergentCodeIsAnError()
    {
        var k = Kernel("divergent", "", DivergentBarriers.Replace("BARRIER", "bar.sync", StringComparison.Ordinal));
        var e = Assert.Throws<PtxEmulatorException>(() => K.Launch(k, (1, 1, 1), 64, 0, new KernelArgs()))!;
        Assert.That(e.Message, Does.Contain("aligned barrier"));
        // barrier.sync (not .aligned) counts arrivals wherever they happen; threads that exit do not hold it up.
        var ok = Kernel("divergent-unaligned", "", DivergentBarriers.Replace("BARRIER", "barrier.sync", StringComparison.Ordinal));
        Assert.DoesNotThrow(() => K.Launch(ok, (1, 1, 1), 64, 0, new KernelArgs()));
    }

    [Test]
    public void BarrierAgainstAWarpShuffleIsADeadlock()
    {
        // Lanes 0..15 wait in a full-warp shuffle for lanes 16..31, which wait at a barrier for lanes 0..15.
        var k = Kernel("deadlock", "", """
            .reg .pred %p<2>;
            .reg .b32 %r<3>;
            mov.u32 %r1, %tid.x;
            setp.lt.u32 %p1, %r1, 16;
            @%p1 bra $shfl;
            barrier.sync 0;
            bra.uni $end;
            $shfl:
            shfl.sync.idx.b32 %r2, %r1, 0, 31, 0xffffffff;
            $end:
            ret;
            """);
        var e = Assert.Throws<PtxEmulatorException>(() => K.Launch(k, (1, 1, 1), 32, 0, new KernelArgs()))!;
        Assert.That(e.Message, Does.Contain("deadlock").And.Contain("16 thread(s) (first tid 0) wait at line").And.Contain("barrier.sync 0"));
    }

    private const string RotateThroughShared = """
        .reg .b32 %r<6>;
        .reg .b64 %rd<4>;
        .shared .align 4 .b32 smem[32];
        ld.param.u64 %rd1, [y];
        mov.u32 %r1, %tid.x;
        shl.b32 %r2, %r1, 2;
        mov.u32 %r3, smem;
        add.s32 %r4, %r3, %r2;
        st.shared.u32 [%r4], %r1;
        SYNC
        add.s32 %r5, %r1, 1;
        and.b32 %r5, %r5, 31;
        shl.b32 %r5, %r5, 2;
        add.s32 %r5, %r3, %r5;
        ld.shared.u32 %r5, [%r5];
        mul.wide.u32 %rd2, %r1, 4;
        add.s64 %rd3, %rd1, %rd2;
        st.global.u32 [%rd3], %r5;
        ret;
        """;

    [Test]
    public void SharedMemoryRaceWithoutABarrierIsAnError()
    {
        // y[t] = smem[(t + 1) % 32] after every thread stored its tid: correct only with the bar.sync.
        var dy = _device.Poisoned<uint>(32);
        var synced = Kernel("rotate-sync", ".param .u64 y", RotateThroughShared.Replace("SYNC", "bar.sync 0;", StringComparison.Ordinal));
        K.Launch(synced, (1, 1, 1), 32, 0, new KernelArgs().U64(dy));
        Assert.That(_device.Read<uint>(dy, 32), Is.EqualTo(Enumerable.Range(0, 32).Select(t => (uint)((t + 1) % 32)).ToArray()));
        var racy = Kernel("rotate-race", ".param .u64 y", RotateThroughShared.Replace("SYNC", "", StringComparison.Ordinal));
        var e = Assert.Throws<PtxEmulatorException>(() => K.Launch(racy, (1, 1, 1), 32, 0, new KernelArgs().U64(dy)))!;
        Assert.That(e.Message, Does.Contain("shared-memory data race").And.Contain("thread 1,").And.Contain("which thread 0 read"));
        // A shuffle does not order memory, so a warp-synchronous version still races.
        var shuffled = Kernel("rotate-shfl", ".param .u64 y", RotateThroughShared.Replace("SYNC", "shfl.sync.idx.b32 %r5, %r1, 0, 31, 0xffffffff;", StringComparison.Ordinal));
        Assert.Throws<PtxEmulatorException>(() => K.Launch(shuffled, (1, 1, 1), 32, 0, new KernelArgs().U64(dy)));
    }

    [Test]
    public void GlobalWriteRaceIsAnError()
    {
        // Every thread stores VALUE to y[0]: a race when the values differ, harmless when they agree.
        const string body = """
            .reg .b32 %r<2>;
            .reg .b64 %rd<2>;
            ld.param.u64 %rd1, [y];
            mov.u32 %r1, %tid.x;
            st.global.u32 [%rd1], VALUE;
            ret;
            """;
        var dy = _device.Poisoned<uint>(1);
        var same = Kernel("same", ".param .u64 y", body.Replace("VALUE", "7", StringComparison.Ordinal));
        K.Launch(same, (2, 1, 1), 32, 0, new KernelArgs().U64(dy));
        K.Launch(same, (2, 1, 1), 32, 0, new KernelArgs().U64(dy));
        Assert.That(_device.Read<uint>(dy, 1), Is.EqualTo(new[] { 7u }));
        var racy = Kernel("racy", ".param .u64 y", body.Replace("VALUE", "%r1", StringComparison.Ordinal));
        var e = Assert.Throws<PtxEmulatorException>(() => K.Launch(racy, (1, 1, 1), 32, 0, new KernelArgs().U64(dy)))!;
        Assert.That(e.Message, Does.Contain("global-memory data race").And.Contain("thread 1,").And.Contain("need atom/red"));
    }

    [Test]
    public void LaunchArgumentsMustMatchTheDeclaration()
    {
        var fill = K.Function("fill", "fill_f32");
        var dy = _device.Poisoned<float>(4);
        var count = Assert.Throws<PtxEmulatorException>(() => K.Launch(fill, (1, 1, 1), 32, 0, new KernelArgs().U64(dy).F32(1f)))!;
        Assert.That(count.Message, Does.Contain("2 argument(s) for 3 parameter(s)"));
        var size = Assert.Throws<PtxEmulatorException>(() => K.Launch(fill, (1, 1, 1), 32, 0, new KernelArgs().U64(dy).F64(1).U64(4)))!;
        Assert.That(size.Message, Does.Contain("argument 1 has 8 bytes but parameter 'fill_f32_value' (.f32) has 4"));
        Assert.Throws<PtxEmulatorException>(() => K.Launch(fill, (1, 1, 1), 2048, 0, new KernelArgs().U64(dy).F32(1f).U64(4)));
    }

    [Test]
    public void ByteArrayParameterAndDynamicSharedMemory()
    {
        // y[t] = dims[t % 3] read through a .b8 array parameter, staged through dynamic shared memory.
        var k = Kernel("dyn", ".param .u64 y, .param .align 8 .b8 dims[24]", """
            .reg .b32 %r<4>;
            .reg .b64 %rd<10>;
            .extern .shared .align 16 .b8 dyn[];
            ld.param.u64 %rd1, [y];
            ld.param.u64 %rd2, [dims+8];
            mov.u32 %r1, %tid.x;
            rem.u32 %r2, %r1, 3;
            mov.u64 %rd3, dims;
            mul.wide.u32 %rd4, %r2, 8;
            add.s64 %rd5, %rd3, %rd4;
            ld.param.u64 %rd6, [%rd5];
            mov.u64 %rd7, dyn;
            cvta.shared.u64 %rd7, %rd7;
            mul.wide.u32 %rd8, %r1, 8;
            add.s64 %rd7, %rd7, %rd8;
            st.u64 [%rd7], %rd6;
            bar.sync 0;
            ld.u64 %rd6, [%rd7];
            add.s64 %rd9, %rd1, %rd8;
            st.global.u64 [%rd9], %rd6;
            ret;
            """);
        var dy = _device.Poisoned<long>(10);
        K.Launch(k, (1, 1, 1), 10, 80, new KernelArgs().U64(dy).AddBytes<long>([7, 11, 13]));
        Assert.That(_device.Read<long>(dy, 10), Is.EqualTo(Enumerable.Range(0, 10).Select(t => new long[] { 7, 11, 13 }[t % 3]).ToArray()));
        var e = Assert.Throws<PtxEmulatorException>(() => K.Launch(k, (1, 1, 1), 10, 40, new KernelArgs().U64(dy).AddBytes<long>([7, 11, 13])))!;
        Assert.That(e.Message, Does.Contain("shared access"), "too little dynamic shared memory for 10 threads");
    }

    [Test]
    public void RunsAtLeastAFewMillionInstructionsPerSecond()
    {
        const int n = 1 << 18;
        var dy = _device.Poisoned<float>(n);
        var fill = K.Function("fill", "fill_f32");
        K.Launch(fill, (4, 1, 1), 256, 0, new KernelArgs().U64(dy).F32(2f).U64(1024));
        var before = _device.Emulator.InstructionsExecuted;
        var clock = Stopwatch.StartNew();
        K.Launch(fill, (64, 1, 1), 256, 0, new KernelArgs().U64(dy).F32(2f).U64(n));
        var rate = (_device.Emulator.InstructionsExecuted - before) / clock.Elapsed.TotalSeconds;
        TestContext.Out.WriteLine($"{rate / 1e6:F1} M instructions/s");
        Assert.That(rate, Is.GreaterThan(2e6), "a loaded CI machine still manages this; the target is 5 M/s or more");
    }
}
