using System.Numerics;

namespace Nabla.Kernels;

/// <summary>
/// Scalar definitions of the fused optimizer updates (<see cref="OptimizerKind"/>) over an index
/// range (an absent slot is an empty span): the CPU backend runs them over float64 buffers and over the
/// tails its float32 vector loops leave (the reference backend has its own). Each line keeps the operation order of the Keras update it cites.
/// </summary>
internal static class OptimizerLoops
{
    public static void Apply<T>(OptimizerKind kind, in OptimizerArgs a, Span<T> w, ReadOnlySpan<T> g, Span<T> s1, Span<T> s2, Span<T> s3, int start, int end)
        where T : IFloatingPointIeee754<T>
    {
        var lr = T.CreateTruncating(a.LearningRate);
        var eps = T.CreateTruncating(a.Epsilon);
        switch (kind)
        {
            case OptimizerKind.GradientDescent:
                for (var i = start; i < end; i++) w[i] -= g[i] * lr;
                break;
            case OptimizerKind.Momentum:
                {
                    var mu = T.CreateTruncating(a.Momentum);
                    var m = s1;
                    for (var i = start; i < end; i++)
                    {
                        var gi = g[i];
                        var mi = m[i] * mu - gi * lr;
                        m[i] = mi;
                        w[i] += a.Nesterov ? mi * mu - gi * lr : mi;
                    }
                    break;
                }
            case OptimizerKind.Adam:
                {
                    T c1 = T.CreateTruncating(1 - a.Beta1), c2 = T.CreateTruncating(1 - a.Beta2);
                    Span<T> m = s1, v = s2;
                    for (var i = start; i < end; i++)
                    {
                        var gi = g[i];
                        var mi = m[i] + (gi - m[i]) * c1;
                        var vi = v[i] + (gi * gi - v[i]) * c2;
                        m[i] = mi;
                        v[i] = vi;
                        w[i] -= mi * lr / (T.Sqrt(vi) + eps);
                    }
                    break;
                }
            case OptimizerKind.Nadam:
                {
                    T c1 = T.CreateTruncating(1 - a.Beta1), c2 = T.CreateTruncating(1 - a.Beta2);
                    T ms = T.CreateTruncating(a.MomentScale), gs = T.CreateTruncating(a.GradientScale), vd = T.CreateTruncating(a.SecondMomentDivisor);
                    Span<T> m = s1, v = s2;
                    for (var i = start; i < end; i++)
                    {
                        var gi = g[i];
                        var mi = m[i] + (gi - m[i]) * c1;
                        var vi = v[i] + (gi * gi - v[i]) * c2;
                        m[i] = mi;
                        v[i] = vi;
                        var mHat = mi * ms + gi * gs;
                        w[i] -= mHat * lr / (T.Sqrt(vi / vd) + eps);
                    }
                    break;
                }
            case OptimizerKind.RMSProp:
                {
                    T rho = T.CreateTruncating(a.Rho), oneMinusRho = T.CreateTruncating(1 - a.Rho), mu = T.CreateTruncating(a.Momentum);
                    var v = s1;
                    for (var i = start; i < end; i++)
                    {
                        var gi = g[i];
                        var vi = rho * v[i] + oneMinusRho * (gi * gi);
                        v[i] = vi;
                        T denominator;
                        if (!s3.IsEmpty)
                        {
                            var ai = rho * s3[i] + oneMinusRho * gi;
                            s3[i] = ai;
                            denominator = vi - ai * ai + eps;
                        }
                        else denominator = vi + eps;
                        var increment = lr * gi / T.Sqrt(denominator);
                        if (!s2.IsEmpty)
                        {
                            var mom = mu * s2[i] + increment;
                            s2[i] = mom;
                            w[i] -= mom;
                        }
                        else w[i] -= increment;
                    }
                    break;
                }
            default:
                throw new NotSupportedException($"optimizer kind {kind}");
        }
    }
}
