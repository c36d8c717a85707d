using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The operator-struct table of the arithmetic functions (issue 10): one struct per function holds its
/// scalar, vector-span and float64 forms and its PTX name. The forms must agree with each other and with
/// System.Math, on ordinary values and on NaN, ±∞ and ±0; every PTX kernel that exists is named after its
/// function's table entry; and the names are unique, since a fused CUDA kernel is emitted from them.
/// </summary>
public sealed class ElementFunctionTableTests
{
    private static readonly BinaryOp[] ArithmeticOps = Enum.GetValues<BinaryOp>().Where(Arithmetic.Has).ToArray();

    private static readonly double[] Values = [-2.5, -1, -0.0, 0.0, 0.3, 1, 7, double.NaN, double.PositiveInfinity, double.NegativeInfinity];

    [Test]
    public void ArithmeticOpsAreTheSixFloatFunctions() =>
        Assert.That(ArithmeticOps, Is.EquivalentTo(new[] { BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Maximum, BinaryOp.Minimum }));

    [TestCase(BinaryOp.Add)]
    [TestCase(BinaryOp.Sub)]
    [TestCase(BinaryOp.Mul)]
    [TestCase(BinaryOp.Div)]
    [TestCase(BinaryOp.Maximum)]
    [TestCase(BinaryOp.Minimum)]
    public void ScalarSpanAndFloat64FormsAgree(BinaryOp op)
    {
        Func<double, double, double> independent = op switch
        {
            BinaryOp.Add => (a, b) => a + b,
            BinaryOp.Sub => (a, b) => a - b,
            BinaryOp.Mul => (a, b) => a * b,
            BinaryOp.Div => (a, b) => a / b,
            BinaryOp.Maximum => Math.Max,
            _ => Math.Min,
        };
        var a = Values.SelectMany(x => Values.Select(_ => (float)x)).ToArray();
        var b = Values.SelectMany(_ => Values.Select(y => (float)y)).ToArray();
        var probe = new Forms(a, b);
        Arithmetic.Dispatch<float, Forms>(op, ref probe);
        for (var i = 0; i < a.Length; i++)
        {
            var expected = (float)independent(a[i], b[i]);
            var what = $"{op}({a[i]}, {b[i]})";
            Assert.That(Bits(probe.Scalar[i]), Is.EqualTo(Bits(expected)), $"scalar {what}");
            Assert.That(Bits(probe.Spans[i]), Is.EqualTo(Bits(expected)), $"span {what}");
            Assert.That(Bits(probe.ScalarRight[i]), Is.EqualTo(Bits((float)independent(a[i], b[0]))), $"span with scalar b {what}");
            Assert.That(Bits(probe.ScalarLeft[i]), Is.EqualTo(Bits((float)independent(a[0], b[i]))), $"span with scalar a {what}");
            Assert.That(BitConverter.DoubleToInt64Bits(Arithmetic.Float64(op, a[i], b[i])), Is.EqualTo(BitConverter.DoubleToInt64Bits(independent(a[i], b[i]))), $"float64 {what}");
        }
    }

    private static int Bits(float v) => float.IsNaN(v) ? int.MinValue : BitConverter.SingleToInt32Bits(v);

    private struct Forms(float[] a, float[] b) : IArithmeticVisitor<float>
    {
        public float[] Scalar = [], Spans = [], ScalarRight = [], ScalarLeft = [];

        public void Visit<TOp>() where TOp : IArithmeticOperator<float>
        {
            var n = a.Length;
            (Scalar, Spans, ScalarRight, ScalarLeft) = (new float[n], new float[n], new float[n], new float[n]);
            for (var i = 0; i < n; i++) Scalar[i] = TOp.Invoke(a[i], b[i]);
            TOp.Invoke(a, b, Spans);
            TOp.Invoke(a, b[0], ScalarRight);
            TOp.Invoke(a[0], b, ScalarLeft);
        }
    }

    public static IEnumerable<UnaryOp> NumericUnaryOps() => Enum.GetValues<UnaryOp>().Where(o => o != UnaryOp.LogicalNot);

    /// <summary>
    /// Each unary struct's float32 vector form against its float64 form rounded once: within 2e-6 relative
    /// (+1e-7 absolute near 0; TensorPrimitives' exp/log/sin/cos/tanh/sigmoid are within a few ulp), the same
    /// NaN-ness and the same infinities on NaN, ±∞ and ±0.
    /// </summary>
    [TestCaseSource(nameof(NumericUnaryOps))]
    public void UnaryVectorAndFloat64FormsAgree(UnaryOp op)
    {
        var x = Values.Select(v => (float)v).Concat(Enumerable.Range(0, 301).Select(i => (float)(i / 30.0 - 5))).ToArray();
        var vector = new float[x.Length];
        var scalar = new float[x.Length];
        UnaryFunctions.Float32(op, x, vector);
        UnaryFunctions.Float32Scalar(op, x, scalar);
        for (var i = 0; i < x.Length; i++)
        {
            var expected = (float)UnaryFunctions.Apply(op, x[i]);
            Assert.That(Bits(scalar[i]), Is.EqualTo(Bits(expected)), $"{op} scalar loop at {x[i]}");
            if (float.IsNaN(expected) || float.IsInfinity(expected)) Assert.That(Bits(vector[i]), Is.EqualTo(Bits(expected)), $"{op} vector at {x[i]}");
            else Assert.That(vector[i], Is.EqualTo(expected).Within(2e-6 * Math.Abs(expected) + 1e-7), $"{op} vector at {x[i]}");
        }
    }

    [Test]
    public void PtxNamesAreUniqueAndNameTheKernelsThatExist()
    {
        var binary = ArithmeticOps.Select(Arithmetic.Ptx).ToArray();
        var unary = Enum.GetValues<UnaryOp>().Select(UnaryFunctions.Ptx).ToArray();
        Assert.That(binary, Is.Unique);
        Assert.That(unary, Is.Unique);
        Assert.That(binary.Concat(unary).All(n => n.Length > 0 && n.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))), Is.True);
        // The hand-written kernels of native/cuda follow the table: <name>_f32.
        var ptx = string.Join("\n", PtxModules.Names.Select(PtxModules.Read));
        Assert.That(ptx, Does.Contain($".entry {Arithmetic.Ptx(BinaryOp.Add)}_f32"));
        Assert.That(ptx, Does.Contain($".entry {Arithmetic.Ptx(BinaryOp.Mul)}_f32"));
        Assert.That(ptx, Does.Contain($".entry {UnaryFunctions.Ptx(UnaryOp.Neg)}_f32"));
        Assert.That(ptx, Does.Contain($".entry {UnaryFunctions.Ptx(UnaryOp.Sqrt)}_f32"));
    }
}
