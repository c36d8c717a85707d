namespace Nabla.Tests.Engine.Optimizers;

/// <summary>
/// The Keras 3 optimizer updates (keras/src/optimizers/{sgd,adam,nadam,rmsprop}.py) written out as
/// plain float64 loops, independent of the engine: the oracle the optimizer tests compare with.
/// </summary>
public static class KerasReference
{
    /// <summary>One optimizer's state: the variable and its slots, advanced one step at a time.</summary>
    public sealed class State(double[] w, int slots)
    {
        public double[] W { get; } = (double[])w.Clone();
        public double[][] Slots { get; } = Enumerable.Range(0, slots).Select(_ => new double[w.Length]).ToArray();
        public long Iterations { get; set; }
        public double UProduct { get; set; } = 1;
    }

    public static void SgdStep(State s, double[] g, double lr, double momentum, bool nesterov)
    {
        for (var i = 0; i < s.W.Length; i++)
        {
            if (momentum == 0) { s.W[i] -= g[i] * lr; continue; }
            var m = s.Slots[0];
            m[i] = m[i] * momentum - g[i] * lr;
            s.W[i] += nesterov ? m[i] * momentum - g[i] * lr : m[i];
        }
        s.Iterations++;
    }

    public static void AdamStep(State s, double[] g, double lr, double beta1, double beta2, double epsilon)
    {
        double t = s.Iterations + 1;
        var alpha = lr * Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t));
        double[] m = s.Slots[0], v = s.Slots[1];
        for (var i = 0; i < s.W.Length; i++)
        {
            m[i] += (g[i] - m[i]) * (1 - beta1);
            v[i] += (g[i] * g[i] - v[i]) * (1 - beta2);
            s.W[i] -= m[i] * alpha / (Math.Sqrt(v[i]) + epsilon);
        }
        s.Iterations++;
    }

    public static void NadamStep(State s, double[] g, double lr, double beta1, double beta2, double epsilon)
    {
        double t = s.Iterations + 1;
        // _backend_update_step first advances the shared product, then every variable uses it.
        s.UProduct = s.UProduct * beta1 * (1.0 - 0.5 * Math.Pow(0.96, t));
        var ut = beta1 * (1.0 - 0.5 * Math.Pow(0.96, t));
        var ut1 = beta1 * (1.0 - 0.5 * Math.Pow(0.96, t + 1));
        var uProductT = s.UProduct;
        var uProductT1 = uProductT * ut1;
        var beta2Power = Math.Pow(beta2, t);
        double[] m = s.Slots[0], v = s.Slots[1];
        for (var i = 0; i < s.W.Length; i++)
        {
            m[i] += (g[i] - m[i]) * (1 - beta1);
            v[i] += (g[i] * g[i] - v[i]) * (1 - beta2);
            var mHat = ut1 * m[i] / (1 - uProductT1) + (1 - ut) * g[i] / (1 - uProductT);
            var vHat = v[i] / (1 - beta2Power);
            s.W[i] -= mHat * lr / (Math.Sqrt(vHat) + epsilon);
        }
        s.Iterations++;
    }

    /// <summary>Slots: velocity, then momentum when momentum &gt; 0, then the average gradient when centered.</summary>
    public static void RmsPropStep(State s, double[] g, double lr, double rho, double momentum, double epsilon, bool centered)
    {
        var velocity = s.Slots[0];
        var mom = momentum > 0 ? s.Slots[1] : null;
        var avg = centered ? s.Slots[^1] : null;
        for (var i = 0; i < s.W.Length; i++)
        {
            velocity[i] = rho * velocity[i] + (1 - rho) * (g[i] * g[i]);
            double denominator;
            if (avg is not null)
            {
                avg[i] = rho * avg[i] + (1 - rho) * g[i];
                denominator = velocity[i] - avg[i] * avg[i] + epsilon;
            }
            else denominator = velocity[i] + epsilon;
            var increment = lr * g[i] / Math.Sqrt(denominator);
            if (mom is not null)
            {
                mom[i] = momentum * mom[i] + increment;
                s.W[i] -= mom[i];
            }
            else s.W[i] -= increment;
        }
        s.Iterations++;
    }
}
