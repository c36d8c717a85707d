using System.Numerics;
using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>The fused optimizer updates against float64 formulas written here, and the Philox stream against the CPU's.</summary>
public abstract partial class CudaComputeKernelTests
{
    /// <summary>One variant of an optimizer: its kind, Nesterov, and which RMSProp slots it has.</summary>
    public readonly record struct OptimizerCase(OptimizerKind Kind, bool Nesterov, bool MomentumSlot, bool Centered)
    {
        public override string ToString() => $"{Kind}{(Nesterov ? "+nesterov" : "")}{(MomentumSlot ? "+momentum" : "")}{(Centered ? "+centered" : "")}";
    }

    private static readonly OptimizerCase[] OptimizerCases =
    [
        new(OptimizerKind.GradientDescent, false, false, false),
        new(OptimizerKind.Momentum, false, false, false),
        new(OptimizerKind.Momentum, true, false, false),
        new(OptimizerKind.Adam, false, false, false),
        new(OptimizerKind.Nadam, false, false, false),
        new(OptimizerKind.RMSProp, false, false, false),
        new(OptimizerKind.RMSProp, false, true, false),
        new(OptimizerKind.RMSProp, false, false, true),
        new(OptimizerKind.RMSProp, false, true, true),
    ];

    private const double Lr = 0.05, Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-7, Step = 3, Rho = 0.9, Mu = 0.8;

    /// <summary>Πᵢ₌₁..ₜ uᵢ with uᵢ = β₁(1 − ½·0.96ⁱ): Nadam's u_product after step t.</summary>
    private static double UProduct(double t)
    {
        var p = 1.0;
        for (var i = 1; i <= t; i++) p *= Beta1 * (1 - 0.5 * Math.Pow(0.96, i));
        return p;
    }

    private static double[] Scalars(OptimizerCase c) => c.Kind switch
    {
        OptimizerKind.GradientDescent => [Lr],
        OptimizerKind.Momentum => [Lr, Mu],
        OptimizerKind.Adam => [Lr, Beta1, Beta2, Eps, Step],
        OptimizerKind.Nadam => [Lr, Beta1, Beta2, Eps, Step, UProduct(Step)],
        _ => [Lr, Rho, c.MomentumSlot ? Mu : 0, Eps],
    };

    /// <summary>
    /// The update of one element in float64, straight from the formulas of <see cref="OptimizerKind"/> (Keras's), with the
    /// hyper-parameters <paramref name="h"/> in <see cref="OptimizerArgs.ScalarNames"/> order.
    /// </summary>
    private static void Expected(OptimizerCase c, double[] h, ref double w, double g, ref double s1, ref double s2, ref double s3)
    {
        double lr = h[0], beta1 = 0, beta2 = 0, eps = 0, step = 0, uProduct = 0, rho = 0, mu = 0;
        switch (c.Kind)
        {
            case OptimizerKind.Momentum: mu = h[1]; break;
            case OptimizerKind.Adam or OptimizerKind.Nadam: (beta1, beta2, eps, step) = (h[1], h[2], h[3], h[4]); break;
            case OptimizerKind.RMSProp: (rho, mu, eps) = (h[1], h[2], h[3]); break;
        }
        if (c.Kind == OptimizerKind.Nadam) uProduct = h[5];
        switch (c.Kind)
        {
            case OptimizerKind.GradientDescent:
                w -= lr * g;
                break;
            case OptimizerKind.Momentum:
                s1 = mu * s1 - lr * g;
                w += c.Nesterov ? mu * s1 - lr * g : s1;
                break;
            case OptimizerKind.Adam:
                {
                    s1 = beta1 * s1 + (1 - beta1) * g;
                    s2 = beta2 * s2 + (1 - beta2) * g * g;
                    var alpha = lr * Math.Sqrt(1 - Math.Pow(beta2, step)) / (1 - Math.Pow(beta1, step));
                    w -= alpha * s1 / (Math.Sqrt(s2) + eps);
                    break;
                }
            case OptimizerKind.Nadam:
                {
                    s1 = beta1 * s1 + (1 - beta1) * g;
                    s2 = beta2 * s2 + (1 - beta2) * g * g;
                    double ut = beta1 * (1 - 0.5 * Math.Pow(0.96, step)), utNext = beta1 * (1 - 0.5 * Math.Pow(0.96, step + 1));
                    var mHat = utNext * s1 / (1 - uProduct * utNext) + (1 - ut) * g / (1 - uProduct);
                    var vHat = s2 / (1 - Math.Pow(beta2, step));
                    w -= lr * mHat / (Math.Sqrt(vHat) + eps);
                    break;
                }
            default:
                {
                    s1 = rho * s1 + (1 - rho) * g * g;
                    var d = s1 + eps;
                    if (c.Centered)
                    {
                        s3 = rho * s3 + (1 - rho) * g;
                        d = s1 - s3 * s3 + eps;
                    }
                    var delta = lr * g / Math.Sqrt(d);
                    if (c.MomentumSlot)
                    {
                        s2 = mu * s2 + delta;
                        w -= s2;
                    }
                    else w -= delta;
                    break;
                }
        }
    }

    [Test]
    public void OptimizerFloat32([ValueSource(nameof(OptimizerCases))] OptimizerCase c) => Optimizer<float>(c, DType.Float32, 3e-6, 1e-7);

    [Test]
    public void OptimizerFloat64([ValueSource(nameof(OptimizerCases))] OptimizerCase c) => Optimizer<double>(c, DType.Float64, 1e-12, 1e-15);

    /// <summary>
    /// Scalars of the other float dtype (the engine allows either): float32 variables with float64 scalars, and float64
    /// variables with float32 scalars (the expected values then use the float32-rounded hyper-parameters).
    /// </summary>
    [Test]
    public void OptimizerWithScalarsOfTheOtherDType([Values(OptimizerKind.Adam, OptimizerKind.Nadam, OptimizerKind.RMSProp)] OptimizerKind kind)
    {
        var c = new OptimizerCase(kind, false, kind == OptimizerKind.RMSProp, kind == OptimizerKind.RMSProp);
        Optimizer<float>(c, DType.Float32, 3e-6, 1e-7, DType.Float64);
        Optimizer<double>(c, DType.Float64, 1e-12, 1e-15, DType.Float32);
    }

    /// <summary>float32 runs in float32 on both sides: a few roundings per element, relative 3e-6 covers them.</summary>
    private void Optimizer<T>(OptimizerCase c, DType dtype, double rtol, double atol, DType? scalarDType = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // 300 elements take two blocks, each folding the scalars itself.
        foreach (var n in new[] { 1, 37, 300 })
        {
            var rng = new Random(n);
            T[] Random(double lo, double hi) => Enumerable.Range(0, n).Select(_ => T.CreateTruncating(lo + (hi - lo) * rng.NextDouble())).ToArray();
            T[] w = Random(-1, 1), g = Random(-2, 2), s1 = Random(0, 0.5), s2 = Random(0, 0.5), s3 = Random(-0.3, 0.3);
            if (c.Kind == OptimizerKind.Momentum) s1 = Random(-0.5, 0.5);
            // Centered RMSProp needs v − a² + ε > 0 after the update; a mean square above the squared mean keeps it so.
            if (c.Centered) s1 = s3.Select(a => a * a + T.CreateTruncating(0.2)).ToArray();
            var uses2 = c.Kind is OptimizerKind.Adam or OptimizerKind.Nadam || c.MomentumSlot;
            ulong dw = Up(w), dg = Up(g), d1 = c.Kind == OptimizerKind.GradientDescent ? 0 : Up(s1), d2 = uses2 ? Up(s2) : 0, d3 = c.Centered ? Up(s3) : 0;
            var flags = Up(new long[] { 0, 9, 0, 0 }); // a value word alone is no failure
            if (scalarDType is { } sd)
            {
                var scalars = Scalars(c).Select(v => sd == DType.Float32 ? Up(new[] { (float)v }) : Up(new[] { v })).ToArray();
                var dtypes = Enumerable.Repeat(sd, scalars.Length).ToArray();
                ComputeKernels.ApplyOptimizer(K, c.Kind, c.Nesterov, dtype, scalars, dtypes, dw, dg, d1, d2, d3, n, flags, 4);
            }
            else
            {
                var scalars = Scalars(c).Select(v => Up(new[] { T.CreateTruncating(v) })).ToArray();
                ComputeKernels.ApplyOptimizer(K, c.Kind, c.Nesterov, dtype, scalars, dw, dg, d1, d2, d3, n, flags, 4);
            }

            var h = Scalars(c).Select(v => scalarDType == DType.Float32 || (scalarDType is null && dtype == DType.Float32) ? (float)v : v).ToArray();
            var (ew, e1, e2, e3) = (new T[n], new T[n], new T[n], new T[n]);
            for (var i = 0; i < n; i++)
            {
                double wi = double.CreateTruncating(w[i]), a = double.CreateTruncating(s1[i]), b = double.CreateTruncating(s2[i]), m = double.CreateTruncating(s3[i]);
                Expected(c, h, ref wi, double.CreateTruncating(g[i]), ref a, ref b, ref m);
                (ew[i], e1[i], e2[i], e3[i]) = (T.CreateTruncating(wi), T.CreateTruncating(a), T.CreateTruncating(b), T.CreateTruncating(m));
            }
            var what = $"{c} {dtype} n {n}";
            AssertClose(Device.Read<T>(dw, n), ew, rtol, atol, what + " variable");
            if (d1 != 0) AssertClose(Device.Read<T>(d1, n), e1, rtol, atol, what + " slot1");
            if (d2 != 0) AssertClose(Device.Read<T>(d2, n), e2, rtol, atol, what + " slot2");
            if (d3 != 0) AssertClose(Device.Read<T>(d3, n), e3, rtol, atol, what + " slot3");
        }
    }

    [Test]
    public void OptimizerIsSkippedWhenACheckFailed([Values(OptimizerKind.GradientDescent, OptimizerKind.Adam)] OptimizerKind kind)
    {
        var c = new OptimizerCase(kind, false, false, false);
        double[] w = [1, 2, 3], g = [0.5, -0.5, 1];
        ulong dw = Up(w), s1 = Up(new double[3]), s2 = Up(new double[3]);
        var scalars = Scalars(c).Select(v => Up(new[] { v })).ToArray();
        var flags = Up(new long[] { 0, 0, 5, 1 });
        ComputeKernels.ApplyOptimizer(K, kind, false, DType.Float64, scalars, dw, Up(g), kind == OptimizerKind.Adam ? s1 : 0, kind == OptimizerKind.Adam ? s2 : 0, 0, 3, flags, 4);
        Assert.That(Device.Read<double>(dw, 3), Is.EqualTo(w), "a failure at site 1 skips the update");
        Assert.That(Device.Read<double>(s1, 3), Is.EqualTo(new double[3]), "and leaves the slots");
    }

    // ---- Random -----------------------------------------------------------------------------------

    [TestCase(1), TestCase(7), TestCase(37)]
    public void UniformIsTheCpuStreamBitForBit(int n)
    {
        foreach (var (a, b) in new[] { (0.0, 1.0), (-2.0, 3.5) })
        {
            const ulong key = 0xDEADBEEF_12345678, counter = 0x1_0000_0005;
            var f = Device.Poisoned<float>(n);
            var d = Device.Poisoned<double>(n);
            ComputeKernels.Random(K, RandomDistribution.Uniform, DType.Float32, key, counter, a, b, f, n);
            ComputeKernels.Random(K, RandomDistribution.Uniform, DType.Float64, key, counter, a, b, d, n);
            var ef = new float[n];
            var ed = new double[n];
            Philox.Uniform<float>(key, counter, a, b, 0, ef);
            Philox.Uniform<double>(key, counter, a, b, 0, ed);
            Assert.That(Device.Read<float>(f, n), Is.EqualTo(ef), $"float32 on [{a}, {b})");
            Assert.That(Device.Read<double>(d, n), Is.EqualTo(ed), $"float64 on [{a}, {b})");
        }
    }

    [Test]
    public void NormalsFollowTheCpuStream([Values(RandomDistribution.Normal, RandomDistribution.TruncatedNormal)] RandomDistribution dist)
    {
        const int n = 45;
        const ulong key = 77, counter = 3;
        var f = Device.Poisoned<float>(n);
        var d = Device.Poisoned<double>(n);
        ComputeKernels.Random(K, dist, DType.Float32, key, counter, 1.5, 2.0, f, n);
        ComputeKernels.Random(K, dist, DType.Float64, key, counter, 1.5, 2.0, d, n);
        var expected = Enumerable.Range(0, n).Select(i => Philox.Sample(dist, key, counter, i, 1.5, 2.0)).ToArray();
        // ln and cos are a few ulp from Math.Log / Math.Cos; √ of ln near u1 = 1 amplifies that, so 1e-10 relative.
        AssertClose(Device.Read<double>(d, n), expected, 1e-10, 1e-12, $"{dist} float64");
        AssertClose(Device.Read<float>(f, n), expected.Select(v => (float)v).ToArray(), 1e-6, 1e-6, $"{dist} float32");
        if (dist == RandomDistribution.TruncatedNormal)
            Assert.That(Device.Read<double>(d, n), Has.All.InRange(1.5 - 4.0, 1.5 + 4.0), "within two standard deviations");
    }
}
