using System.Text;
using NUnit.Framework;

namespace Nabla.Tests.Support;

/// <summary>A function from input placeholders to one output: the unit every op test is written in.</summary>
public delegate Output Build(Graph g, Output[] xs);

/// <summary>
/// Shared checks for op tests: CPU float32 vs the float64 reference, float64 gradient checks
/// (first and second order), and close-comparison with the first mismatches printed.
/// </summary>
public static class OpHarness
{
    private static readonly AsyncLocal<Device?> s_float32Device = new();

    /// <summary>
    /// The device <see cref="CpuMatchesReference"/> runs float32 on: <see cref="Device.Cpu"/>, unless a CUDA op-table fixture
    /// re-runs the tables on its device inside <see cref="UseFloat32Device"/>.
    /// </summary>
    public static Device Float32Device => s_float32Device.Value ?? Device.Cpu;

    /// <summary>Runs <paramref name="body"/> with <see cref="Float32Device"/> set to <paramref name="device"/> (on this async flow only).</summary>
    public static void UseFloat32Device(Device device, Action body)
    {
        var before = s_float32Device.Value;
        s_float32Device.Value = device;
        try { body(); }
        finally { s_float32Device.Value = before; }
    }

    /// <summary>
    /// Runs <paramref name="f"/> on the Reference device with float64 inputs and on the CPU device (or the
    /// <see cref="Float32Device"/> in force) with the same inputs rounded to float32 (integer/bool inputs unchanged),
    /// and compares within atol + |ref|·rtol. NaN must match NaN and ±Inf must match exactly.
    /// </summary>
    public static void CpuMatchesReference(Build f, Tensor[] inputs, double rtol = 1e-5, double atol = 1e-6)
    {
        var device = Float32Device;
        var reference = Evaluate(f, inputs.Select(t => t.DType == DType.Float32 ? ToFloat64(t) : t).ToArray(), Device.Reference, DType.Float64);
        var cpu = Evaluate(f, inputs.Select(t => t.DType == DType.Float64 ? ToFloat32(t) : t).ToArray(), device, DType.Float32);
        Assert.That(cpu.Shape, Is.EqualTo(reference.Shape), $"{device} and reference shapes differ");
        AssertClose(reference.ToDoubleArray(), cpu.ToDoubleArray(), rtol, atol, $"{device} float32 vs reference float64");
    }

    /// <summary>Builds <paramref name="f"/> on placeholders shaped like the inputs and runs it on <paramref name="device"/>.</summary>
    public static Tensor Evaluate(Build f, Tensor[] inputs, Device device, DType floatType = DType.Float32)
    {
        var g = new Graph();
        var xs = inputs.Select((t, i) => g.Placeholder(t.DType, t.Shape, $"x{i}")).ToArray();
        var y = f(g, xs);
        using var s = new Session(g, device);
        var feeds = new Dictionary<Output, Tensor>();
        for (var i = 0; i < xs.Length; i++) feeds[xs[i]] = inputs[i];
        return s.Run(y, feeds);
    }

    /// <summary>
    /// Float64 central-difference check of every input's gradient: each element must satisfy
    /// |analytic − numeric| ≤ <paramref name="atol"/> + <paramref name="rtol"/>·|numeric|. The default atol is
    /// <see cref="GradientTolerance.Default"/>'s, the rounding noise of the central difference.
    /// </summary>
    public static GradientCheckResult Gradients(Build f, Tensor[] inputs, double rtol, double? atol = null)
    {
        var tolerance = new GradientTolerance(atol ?? GradientTolerance.Default.Atol, rtol);
        var r = GradientCheck.Run((g, xs) => f(g, xs), inputs.Select(ToFloat64).ToArray(), tolerance: tolerance);
        Assert.That(r.Passed, Is.True, () => "gradient check failed: " + r);
        return r;
    }

    /// <summary>Second order: checks the gradient of ∂(Σf)/∂x₀ (i.e. the Hessian-vector structure) against central differences.</summary>
    public static GradientCheckResult SecondOrder(Build f, Tensor[] inputs, double rtol, double? atol = null)
    {
        Build grad = (g, xs) => g.Gradients([f(g, xs)], [xs[0]], null, UnconnectedGradients.Zero)[0]!.Value;
        return Gradients(grad, inputs, rtol, atol);
    }

    /// <summary>Asserts |a − e| ≤ atol + |e|·rtol elementwise (NaN ≡ NaN, ±Inf exact); prints the first 8 mismatches with their flat index.</summary>
    public static void AssertClose(double[] expected, double[] actual, double rtol, double atol, string what = "")
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: lengths differ");
        var bad = new StringBuilder();
        var count = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            bool ok = double.IsNaN(e) ? double.IsNaN(a)
                : double.IsInfinity(e) ? a == e
                : Math.Abs(a - e) <= atol + Math.Abs(e) * rtol;
            if (ok) continue;
            if (count++ < 8) bad.Append($"\n  [{i}] expected {e:G9} got {a:G9} (diff {Math.Abs(a - e):E2})");
        }
        Assert.That(count, Is.Zero, $"{what}: {count} of {expected.Length} elements differ (rtol {rtol}, atol {atol}):{bad}");
    }

    /// <summary>Same values as float64.</summary>
    public static Tensor ToFloat64(Tensor t) => t.DType switch
    {
        DType.Float64 => t,
        DType.Float32 => Tensor.FromArray(t.ToDoubleArray(), t.Shape.ToArray()),
        _ => t,
    };

    /// <summary>Same values rounded to float32.</summary>
    public static Tensor ToFloat32(Tensor t) => t.DType == DType.Float64
        ? Tensor.FromArray(t.ToDoubleArray().Select(v => (float)v).ToArray(), t.Shape.ToArray())
        : t;

    /// <summary>Seeded uniform float64 values on [lo, hi) for the given shape.</summary>
    public static Tensor Uniform(int[] shape, double lo = -2, double hi = 2, ulong seed = 1) =>
        Tensor.RandomUniform(new Shape(shape), lo, hi, seed, DType.Float64);

    /// <summary>Seeded values bounded away from zero (|x| ∈ [0.2, 2]) for ops singular at 0.</summary>
    public static Tensor AwayFromZero(int[] shape, ulong seed = 1)
    {
        var u = Uniform(shape, 0.2, 2, seed).ToDoubleArray();
        var s = Uniform(shape, -1, 1, seed + 100).ToDoubleArray();
        return Tensor.FromArray(u.Select((v, i) => s[i] < 0 ? -v : v).ToArray(), shape);
    }

    /// <summary>The five shape families every gradient check covers: scalar, size-1 dims, odd 2-D, rank 3, empty.</summary>
    public static readonly int[][] StandardShapes = [[], [1, 1], [3, 5], [2, 3, 4], [0, 3]];
}

/// <summary>Implemented by each op test fixture: the op types it covers (checked by <see cref="OpCoverageTests"/>).</summary>
public interface ICoversOps
{
    /// <summary>Registered op types this fixture tests forward (CPU vs reference), backward and on bad input.</summary>
    static abstract IEnumerable<string> CoveredOps { get; }
}
