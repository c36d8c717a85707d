using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// int32/int64 arithmetic on both host backends: broadcasting, truncating division, two's-complement
/// wrap-around (as NumPy and TensorFlow), and integer division by zero, which is rejected at run time
/// with an <see cref="InvalidArgumentException"/> naming the node.
/// </summary>
public class IntegerArithmeticTests : ICoversOps
{
    private static readonly string[] s_ops = ["Add", "Sub", "Mul", "Div", "Maximum", "Minimum"];

    public static IEnumerable<string> CoveredOps => s_ops;

    public static IEnumerable<TestCaseData> Cases() =>
        from op in s_ops
        from dt in new[] { DType.Int32, DType.Int64 }
        from d in new[] { Device.Cpu, Device.Reference }
        select new TestCaseData(op, dt, d).SetName($"{op}_{dt}_{d.Name}");

    private static Output Apply(Graph g, string op, Output a, Output b) => op switch
    {
        "Add" => g.Add(a, b),
        "Sub" => g.Sub(a, b),
        "Mul" => g.Mul(a, b),
        "Div" => g.Div(a, b),
        "Maximum" => g.Maximum(a, b),
        _ => g.Minimum(a, b),
    };

    private static long Expected(string op, long a, long b, DType dt)
    {
        // C# integer division truncates toward zero, as TensorFlow's truncatediv; wrap-around is unchecked arithmetic.
        if (dt == DType.Int32)
        {
            int x = (int)a, y = (int)b;
            return unchecked(op switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, "Div" => x / y, "Maximum" => Math.Max(x, y), _ => Math.Min(x, y) });
        }
        return unchecked(op switch { "Add" => a + b, "Sub" => a - b, "Mul" => a * b, "Div" => a / b, "Maximum" => Math.Max(a, b), _ => Math.Min(a, b) });
    }

    private static Tensor Ints(long[] v, DType dt, params int[] shape) =>
        dt == DType.Int32 ? Tensor.FromArray(v.Select(x => (int)x).ToArray(), shape) : Tensor.FromArray(v, shape);

    [TestCaseSource(nameof(Cases))]
    public void BroadcastingArithmetic(string op, DType dtype, Device device)
    {
        long max = dtype == DType.Int32 ? int.MaxValue : long.MaxValue, min = dtype == DType.Int32 ? int.MinValue : long.MinValue;
        long[] a = [-7, 0, 9, 1_000_000, max, min + 1];
        long[] b = [2, -2, 3, -4, 7];
        // [6,1] ∘ [5] (generic strided), [5] ∘ [5] (contiguous), [6] ∘ scalar.
        var outer = OpHarness.Evaluate((g, x) => Apply(g, op, x[0], x[1]), [Ints(a, dtype, 6, 1), Ints(b, dtype, 5)], device);
        Assert.That(outer.DType, Is.EqualTo(dtype));
        Assert.That(outer.Shape, Is.EqualTo(new Shape(6, 5)));
        var expected = (from x in a from y in b select Expected(op, x, y, dtype)).ToArray();
        Assert.That(outer.Longs(), Is.EqualTo(expected), "[6,1] ∘ [5]");

        var same = OpHarness.Evaluate((g, x) => Apply(g, op, x[0], x[1]), [Ints(a[..5], dtype, 5), Ints(b, dtype, 5)], device);
        Assert.That(same.Longs(), Is.EqualTo(a[..5].Zip(b, (x, y) => Expected(op, x, y, dtype)).ToArray()), "[5] ∘ [5]");

        var scalar = OpHarness.Evaluate((g, x) => Apply(g, op, x[0], x[1]), [Ints(a, dtype, 6), Ints([-3], dtype)], device);
        Assert.That(scalar.Longs(), Is.EqualTo(a.Select(x => Expected(op, x, -3, dtype)).ToArray()), "[6] ∘ scalar");
    }

    [TestCaseSource(nameof(DTypesAndDevices))]
    public void IntegerDivisionByZeroIsAnInvalidArgument(DType dtype, Device device)
    {
        var g = new Graph();
        var num = g.Placeholder(dtype, new Shape(3), "num");
        var den = g.Placeholder(dtype, new Shape(-1), "den");
        var ratio = g.Div(num, den, "ratio");
        using var s = new Session(g, device);
        foreach (var zeros in new[] { Ints([1, 0, 2], dtype, 3), Ints([0], dtype, 1) })
        {
            var e = Assert.Throws<InvalidArgumentException>(() => s.Run(ratio, new Dictionary<Output, Tensor> { [num] = Ints([4, 5, 6], dtype, 3), [den] = zeros }))!;
            Assert.That(e.Message, Does.Contain("Div 'ratio'").And.Contain("division by zero"));
        }
        var ok = s.Run(ratio, new Dictionary<Output, Tensor> { [num] = Ints([4, -5, 6], dtype, 3), [den] = Ints([-2], dtype, 1) });
        Assert.That(ok.Longs(), Is.EqualTo(new long[] { -2, 2, -3 }), "the same session still runs after the error");
    }

    [TestCaseSource(nameof(DTypesAndDevices))]
    public void MinValueDividedByMinusOneWraps(DType dtype, Device device)
    {
        // The true quotient 2^31 (2^63) is not representable; NumPy and TensorFlow on x86 wrap it to MIN.
        long min = dtype == DType.Int32 ? int.MinValue : long.MinValue;
        var y = OpHarness.Evaluate((g, x) => g.Div(x[0], x[1]), [Ints([min, min, 7], dtype, 3), Ints([-1, 1, -1], dtype, 3)], device);
        Assert.That(y.Longs(), Is.EqualTo(new[] { min, min, -7 }));
    }

    [TestCaseSource(nameof(FloatDTypesAndDevices))]
    public void FloatDivisionByZeroFollowsIeee(DType dtype, Device device)
    {
        Tensor num = Tensor.FromArray([1.0, -1.0, 0.0, double.NaN], 4), den = Tensor.FromArray([0.0, 0.0, 0.0, 0.0], 4);
        if (dtype == DType.Float32) (num, den) = (OpHarness.ToFloat32(num), OpHarness.ToFloat32(den));
        var y = OpHarness.Evaluate((g, x) => g.Div(x[0], x[1]), [num, den], device).ToDoubleArray();
        Assert.That(y[0], Is.EqualTo(double.PositiveInfinity));
        Assert.That(y[1], Is.EqualTo(double.NegativeInfinity));
        Assert.That(y[2], Is.NaN);
        Assert.That(y[3], Is.NaN);
    }

    public static IEnumerable<TestCaseData> DTypesAndDevices() =>
        from dt in new[] { DType.Int32, DType.Int64 }
        from d in new[] { Device.Cpu, Device.Reference }
        select new TestCaseData(dt, d).SetName($"{dt}_{d.Name}");

    public static IEnumerable<TestCaseData> FloatDTypesAndDevices() =>
        from dt in new[] { DType.Float32, DType.Float64 }
        from d in new[] { Device.Cpu, Device.Reference }
        select new TestCaseData(dt, d).SetName($"{dt}_{d.Name}");

    [Test]
    public void IntegerOperandsGetNoGradient()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(3), "x");
        var n = g.Placeholder(DType.Int32, new Shape(3), "n");
        // The int branch contributes nothing: d/dx [x + cast(n + n)] = 1, and asking for d/dn is an error.
        var y = x + g.Cast(g.Add(n, n), DType.Float32);
        var dx = g.Gradients(y, x)[0];
        using var s = new Session(g);
        var r = s.Run(dx, new Dictionary<Output, Tensor> { [x] = Tensor.FromArray([1f, 2f, 3f], 3), [n] = Tensor.FromArray([1, 2, 3], 3) });
        Assert.That(r.ToArray<float>(), Is.EqualTo(new[] { 1f, 1f, 1f }));
        var e = Assert.Throws<GradientException>(() => g.Gradients(y, n))!;
        Assert.That(e.Message, Does.Contain("'n'").And.Contain("int32"));
    }
}

internal static class IntTensorExtensions
{
    /// <summary>int32 or int64 values widened to long, so one assertion serves both dtypes.</summary>
    public static long[] Longs(this Tensor t) =>
        t.DType == DType.Int32 ? t.ToArray<int>().Select(v => (long)v).ToArray() : t.ToArray<long>();
}
