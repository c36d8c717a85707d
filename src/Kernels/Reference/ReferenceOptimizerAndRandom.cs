namespace Nabla.Kernels.Reference;

public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    /// <remarks>Each element is updated by the formulas of <see cref="OptimizerKind"/>, written out in
    /// float64 in the order they are documented; the gradient is read before the variable is written,
    /// so it may alias the variable. The step-dependent scalars come from <see cref="OptimizerArgs.Fold"/>,
    /// the formula the contract names.</remarks>
    public void ApplyOptimizer(OptimizerKind kind, bool nesterov, ReadOnlySpan<DeviceBuffer> scalars, DeviceBuffer variable, DeviceBuffer grad,
        DeviceBuffer? slot1, DeviceBuffer? slot2, DeviceBuffer? slot3, DeviceBuffer? abortFlags)
    {
        if (Aborted(abortFlags)) return;
        if (KindOf(variable) != Kind.Float)
            throw new NotSupportedException($"optimizer updates are defined for float32 and float64 variables, not {variable.DType.Name()}");
        var values = new double[scalars.Length];
        for (var k = 0; k < values.Length; k++)
        {
            if (KindOf(scalars[k]) != Kind.Float)
                throw new NotSupportedException($"optimizer scalar {k} must be float32 or float64, got {scalars[k].DType.Name()}");
            values[k] = F(scalars[k], 0);
        }
        var p = OptimizerArgs.Fold(kind, nesterov, values);
        double eta = p.LearningRate, eps = p.Epsilon;
        for (var i = 0; i < variable.Length; i++)
        {
            var g = F(grad, i);
            var w = F(variable, i);
            switch (kind)
            {
                case OptimizerKind.GradientDescent:
                    w -= g * eta;
                    break;
                case OptimizerKind.Momentum:
                    {
                        var m = F(slot1!, i) * p.Momentum - g * eta;
                        SetF(slot1!, i, m);
                        w += p.Nesterov ? m * p.Momentum - g * eta : m;
                        break;
                    }
                case OptimizerKind.Adam or OptimizerKind.Nadam:
                    {
                        var m = F(slot1!, i) + (g - F(slot1!, i)) * (1 - p.Beta1);
                        var v = F(slot2!, i) + (g * g - F(slot2!, i)) * (1 - p.Beta2);
                        SetF(slot1!, i, m);
                        SetF(slot2!, i, v);
                        if (kind == OptimizerKind.Adam) w -= m * eta / (Math.Sqrt(v) + eps);
                        else
                        {
                            var mHat = m * p.MomentScale + g * p.GradientScale;
                            var vHat = v / p.SecondMomentDivisor;
                            w -= mHat * eta / (Math.Sqrt(vHat) + eps);
                        }
                        break;
                    }
                case OptimizerKind.RMSProp:
                    {
                        var v = p.Rho * F(slot1!, i) + (1 - p.Rho) * g * g;
                        SetF(slot1!, i, v);
                        double d;
                        if (slot3 is not null)
                        {
                            var a = p.Rho * F(slot3, i) + (1 - p.Rho) * g;
                            SetF(slot3, i, a);
                            d = v - a * a + eps;
                        }
                        else d = v + eps;
                        var delta = eta * g / Math.Sqrt(d);
                        if (slot2 is not null)
                        {
                            var mom = p.Momentum * F(slot2, i) + delta;
                            SetF(slot2, i, mom);
                            w -= mom;
                        }
                        else w -= delta;
                        break;
                    }
                default: throw new NotSupportedException($"optimizer kind {kind}");
            }
            SetF(variable, i, w);
        }
    }

    /// <summary>The top 24 bits of a Philox word as a float in [0, 1): k / 2²⁴ for k in [0, 2²⁴), exact in float32.</summary>
    private static double UnitInterval(uint bits) => (bits >> 8) / 16777216.0;

    /// <summary>
    /// One standard normal by Box–Muller from lanes 0 and 1 of the Philox block (i, counter):
    /// √(−2 ln u₁)·cos(2π u₂), with u₁ = 1 − U₀ in (0, 1] so the logarithm stays finite.
    /// </summary>
    private static double StandardNormal(ulong seed, long i, ulong counter)
    {
        var (x0, x1, _, _) = Philox.Block(seed, (ulong)i, counter);
        var u1 = 1.0 - UnitInterval(x0);
        var u2 = UnitInterval(x1);
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <inheritdoc/>
    /// <remarks>Element i: uniform a + (b − a)·U from word i mod 4 of block (⌊i/4⌋, counter); normal a + b·z; the
    /// truncated normal redraws z from blocks (i, counter + 2⁴⁰·t), t = 1, 2, …, until |z| ≤ 2. Only
    /// <see cref="Philox.Block"/> is shared with the other backends: the raw bits must agree bit for bit.</remarks>
    public void Random(RandomDistribution dist, ulong seed, ulong counter, double a, double b, DeviceBuffer dst)
    {
        for (var i = 0; i < dst.Length; i++)
        {
            double value;
            switch (dist)
            {
                case RandomDistribution.Uniform:
                    var (x0, x1, x2, x3) = Philox.Block(seed, (ulong)i >> 2, counter);
                    value = a + (b - a) * UnitInterval((i & 3) switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 });
                    break;
                case RandomDistribution.Normal:
                    value = a + b * StandardNormal(seed, i, counter);
                    break;
                default:
                    var z = StandardNormal(seed, i, counter);
                    for (ulong t = 1; Math.Abs(z) > 2.0; t++) z = StandardNormal(seed, i, counter + (t << 40));
                    value = a + b * z;
                    break;
            }
            Store(dst, i, value);
        }
    }
}
