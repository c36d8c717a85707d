using Nabla.Kernels;
using Nabla.Kernels.Cpu;
using Nabla.Kernels.Reference;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The backend contract, written once and run on every backend (one subclass each): kernels are
/// called directly, outputs are poisoned with NaN before each call so an unwritten element fails,
/// and results are compared with float64 definitions written in the tests (never with a backend's own
/// scalar code, nor one backend with another) at atol + |ref|·rtol.
/// </summary>
public abstract class BackendContractTests
{
    private IBackend _be = null!;

    protected abstract IBackend Create();

    /// <summary>Relative tolerance of this backend's float32 (or float64) storage.</summary>
    protected abstract double Rtol { get; }

    [SetUp]
    public void SetUp() => _be = Create();

    [TearDown]
    public void TearDown() => _be.Dispose();

    private DeviceBuffer Upload(double[] values, DType dtype = DType.Float32)
    {
        var b = _be.Memory.Allocate(dtype, values.Length);
        _be.Memory.WriteFloat64(values, b);
        return b;
    }

    private DeviceBuffer Poisoned(int length, DType dtype = DType.Float32)
    {
        var b = _be.Memory.Allocate(dtype, length);
        if (dtype.IsFloating()) _be.Fill(b, double.NaN);
        else _be.Fill(b, -12345);
        return b;
    }

    private static double[] Values(int n, double lo, double hi, ulong seed) =>
        Tensor.RandomUniform(new Shape(n), lo, hi, seed, DType.Float64).ToDoubleArray();

    private static double[] Round32(double[] v) => v.Select(x => (double)(float)x).ToArray();

    [TestCase(UnaryOp.Neg), TestCase(UnaryOp.Abs), TestCase(UnaryOp.Sign), TestCase(UnaryOp.Square), TestCase(UnaryOp.Sqrt)]
    [TestCase(UnaryOp.Rsqrt), TestCase(UnaryOp.Reciprocal), TestCase(UnaryOp.Exp), TestCase(UnaryOp.Expm1), TestCase(UnaryOp.Log)]
    [TestCase(UnaryOp.Log1p), TestCase(UnaryOp.Sin), TestCase(UnaryOp.Cos), TestCase(UnaryOp.Tanh), TestCase(UnaryOp.Sigmoid)]
    [TestCase(UnaryOp.Relu), TestCase(UnaryOp.Softplus), TestCase(UnaryOp.Erf)]
    public void UnaryMatchesScalarDefinition(UnaryOp op)
    {
        var positiveOnly = op is UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.Log;
        // The expected values come from the unary table's independent formulas (System.Math with a
        // different identity or branch split; Erf by its Maclaurin series, which that table uses for |x| ≤ 3),
        // never from either backend's own scalar code.
        var definition = Ops.UnaryOpTests.Cases.Single(c => c.Op == op.ToString()).Independent;
        var (lo, hi) = positiveOnly ? (0.01, 5.0) : op == UnaryOp.Erf ? (-3.0, 3.0) : (-5.0, 5.0);
        // Odd length crosses vector-width tails; 70_001 crosses the CPU's parallel chunking.
        foreach (var n in new[] { 0, 1, 7, 33, 70_001 })
        {
            var x = Round32(Values(n, lo, hi, (ulong)n + 3));
            var y = Poisoned(n);
            _be.Unary(op, Upload(x), y);
            var expected = x.Select(definition).ToArray();
            // Transcendentals in float32 are accurate to a few ulp; 4·rtol leaves room for that.
            OpHarness.AssertClose(expected, _be.Memory.ReadFloat64(y), 4 * Rtol, 1e-6, $"{op} n={n}");
        }
    }

    [Test]
    public void BinaryBroadcastsThroughStrides()
    {
        // [3,1] + [4] → [3,4]: a has stride 0 on axis 1, b stride 0 on axis 0.
        double[] a = [1, 2, 3], b = [10, 20, 30, 40];
        var y = Poisoned(12);
        _be.Binary(BinaryOp.Add, new StridedView(Upload(a), 0, [1, 0]), new StridedView(Upload(b), 0, [0, 1]), y, [3, 4]);
        var expected = new double[12];
        for (var i = 0; i < 3; i++) for (var j = 0; j < 4; j++) expected[i * 4 + j] = a[i] + b[j];
        OpHarness.AssertClose(expected, _be.Memory.ReadFloat64(y), 0, 0, "broadcast add");
    }

    [TestCase(BinaryOp.Sub), TestCase(BinaryOp.Mul), TestCase(BinaryOp.Div), TestCase(BinaryOp.Maximum), TestCase(BinaryOp.Minimum), TestCase(BinaryOp.Pow)]
    public void BinaryContiguousRowAndScalarPaths(BinaryOp op)
    {
        const int rows = 5, cols = 37;
        var a = Round32(Values(rows * cols, 0.5, 3, 11));
        var b = Round32(Values(cols, 0.5, 3, 12));
        Func<double, double, double> f = op switch
        {
            BinaryOp.Sub => (x, z) => x - z,
            BinaryOp.Mul => (x, z) => x * z,
            BinaryOp.Div => (x, z) => x / z,
            BinaryOp.Maximum => Math.Max,
            BinaryOp.Minimum => Math.Min,
            _ => Math.Pow,
        };
        int[] shape = [rows, cols];
        var full = new StridedView(Upload(a), 0, [cols, 1]);
        // Row vector on the right, then on the left, then a scalar, then same-shape.
        var y = Poisoned(rows * cols);
        _be.Binary(op, full, new StridedView(Upload(b), 0, [0, 1]), y, shape);
        OpHarness.AssertClose(a.Select((v, i) => f(v, b[i % cols])).ToArray(), _be.Memory.ReadFloat64(y), 2 * Rtol, 0, $"{op} row right");
        y = Poisoned(rows * cols);
        _be.Binary(op, new StridedView(Upload(b), 0, [0, 1]), full, y, shape);
        OpHarness.AssertClose(a.Select((v, i) => f(b[i % cols], v)).ToArray(), _be.Memory.ReadFloat64(y), 2 * Rtol, 0, $"{op} row left");
        y = Poisoned(rows * cols);
        _be.Binary(op, full, new StridedView(Upload([1.5]), 0, [0, 0]), y, shape);
        OpHarness.AssertClose(a.Select(v => f(v, 1.5)).ToArray(), _be.Memory.ReadFloat64(y), 2 * Rtol, 0, $"{op} scalar");
        y = Poisoned(rows * cols);
        _be.Binary(op, full, full, y, shape);
        OpHarness.AssertClose(a.Select(v => f(v, v)).ToArray(), _be.Memory.ReadFloat64(y), 2 * Rtol, 0, $"{op} same");
    }

    [TestCase(ReduceOp.Sum), TestCase(ReduceOp.Mean), TestCase(ReduceOp.Max), TestCase(ReduceOp.Min), TestCase(ReduceOp.Prod)]
    public void ReduceOverMiddleAxis(ReduceOp op)
    {
        foreach (var (outer, reduce, inner) in new[] { (1, 1, 1), (3, 7, 1), (2, 5, 3), (4, 1000, 1), (1, 3, 65) })
        {
            var x = Round32(Values(outer * reduce * inner, 0.9, 1.1, 5));
            var y = Poisoned(outer * inner);
            _be.Reduce(op, Upload(x), outer, reduce, inner, y);
            var expected = new double[outer * inner];
            for (var o = 0; o < outer; o++)
                for (var i = 0; i < inner; i++)
                {
                    var vals = Enumerable.Range(0, reduce).Select(r => x[(o * reduce + r) * inner + i]).ToArray();
                    expected[o * inner + i] = op switch
                    {
                        ReduceOp.Sum => vals.Sum(),
                        ReduceOp.Mean => vals.Average(),
                        ReduceOp.Max => vals.Max(),
                        ReduceOp.Min => vals.Min(),
                        _ => vals.Aggregate(1.0, (p, v) => p * v),
                    };
                }
            // Summation error grows with the number of terms: rtol scaled by √reduce.
            OpHarness.AssertClose(expected, _be.Memory.ReadFloat64(y), Rtol * (4 + Math.Sqrt(reduce)), 0, $"{op} {outer}x{reduce}x{inner}");
        }
    }

    [Test]
    public void MatMulAllTransposes()
    {
        const int m = 5, n = 7, k = 9;
        var a = Round32(Values(m * k, -1, 1, 21));
        var b = Round32(Values(k * n, -1, 1, 22));
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            // Store A as K×M when transposed, B as N×K.
            var aStored = ta ? Transpose(a, m, k) : a;
            var bStored = tb ? Transpose(b, k, n) : b;
            var c = Poisoned(m * n);
            _be.MatMul(Upload(aStored), Upload(bStored), c, new MatMulArgs(1, m, n, k, ta, tb, 0, 0));
            var expected = new double[m * n];
            for (var i = 0; i < m; i++) for (var j = 0; j < n; j++) for (var p = 0; p < k; p++) expected[i * n + j] += a[i * k + p] * b[p * n + j];
            OpHarness.AssertClose(expected, _be.Memory.ReadFloat64(c), 8 * Rtol, 1e-6, $"matmul ta={ta} tb={tb}");
        }
    }

    private static double[] Transpose(double[] x, int rows, int cols)
    {
        var t = new double[x.Length];
        for (var i = 0; i < rows; i++) for (var j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
        return t;
    }

    [Test]
    public void SoftmaxAndCrossEntropyAreStable()
    {
        double[] logits = [1000, 0, -1000, 1, 2, 3];
        var y = Poisoned(6);
        _be.Softmax(Upload(logits), y, 2, 3, log: false);
        var e = new[] { 1, 0, 0, Math.Exp(-2) / (1 + Math.Exp(-1) + Math.Exp(-2)), Math.Exp(-1) / (1 + Math.Exp(-1) + Math.Exp(-2)), 1 / (1 + Math.Exp(-1) + Math.Exp(-2)) };
        OpHarness.AssertClose(e, _be.Memory.ReadFloat64(y), 2 * Rtol, 1e-7, "softmax");
        var loss = Poisoned(2);
        var backprop = Poisoned(6);
        var labels = _be.Memory.Allocate(DType.Int64, 2);
        _be.Memory.Upload(new long[] { 2, 0 }, labels);
        _be.SoftmaxCrossEntropy(Upload(logits), labels, sparse: true, 2, 3, loss, backprop);
        var lse1 = 3 + Math.Log(1 + Math.Exp(-1) + Math.Exp(-2));
        OpHarness.AssertClose([2000, lse1 - 1], _be.Memory.ReadFloat64(loss), 2 * Rtol, 1e-6, "sparse CE loss");
        OpHarness.AssertClose([1, 0, -1, e[3] - 1, e[4], e[5]], _be.Memory.ReadFloat64(backprop), 2 * Rtol, 1e-7, "sparse CE backprop");
    }

    [Test]
    public void GatherAndScatterAddAlongMiddleAxis()
    {
        // src [2, 3, 2]; gather indices [2, 0, 2] on axis 1.
        var src = Enumerable.Range(0, 12).Select(i => (double)i).ToArray();
        var idx = _be.Memory.Allocate(DType.Int32, 3);
        _be.Memory.Upload(new[] { 2, 0, 2 }, idx);
        var dst = Poisoned(12);
        _be.Gather(Upload(src), idx, 2, 3, 2, dst);
        OpHarness.AssertClose([4, 5, 0, 1, 4, 5, 10, 11, 6, 7, 10, 11], _be.Memory.ReadFloat64(dst), 0, 0, "gather");
        var acc = Upload(new double[12]);
        _be.ScatterAdd(Upload(Enumerable.Repeat(1.0, 12).ToArray()), idx, 2, 3, 2, acc);
        OpHarness.AssertClose([1, 1, 0, 0, 2, 2, 1, 1, 0, 0, 2, 2], _be.Memory.ReadFloat64(acc), 0, 0, "scatter-add (duplicate index 2 accumulates)");
    }

    [Test]
    public void StridedCopyTransposesAndCasts()
    {
        var src = Upload([1, 2, 3, 4, 5, 6]);
        var dst = Poisoned(6);
        _be.Copy(new StridedView(src, 0, [1, 3]), new StridedView(dst, 0, [2, 1]), [3, 2]);
        OpHarness.AssertClose([1, 4, 2, 5, 3, 6], _be.Memory.ReadFloat64(dst), 0, 0, "transpose copy");
        var ints = Poisoned(4, DType.Int32);
        _be.Cast(Upload([-1.7, 2.9, double.NaN, 0.2]), ints);
        OpHarness.AssertClose([-1, 2, 0, 0], _be.Memory.ReadFloat64(ints), 0, 0, "float→int truncates toward zero, NaN → 0");
    }

    [TestCase(OptimizerKind.GradientDescent, false, false)]
    [TestCase(OptimizerKind.Momentum, false, false), TestCase(OptimizerKind.Momentum, true, false)]
    [TestCase(OptimizerKind.Adam, false, false), TestCase(OptimizerKind.Nadam, false, false)]
    [TestCase(OptimizerKind.RMSProp, false, false), TestCase(OptimizerKind.RMSProp, true, false)]
    [TestCase(OptimizerKind.RMSProp, false, true), TestCase(OptimizerKind.RMSProp, true, true)]
    public void ApplyOptimizerMatchesScalarDefinition(OptimizerKind kind, bool flag, bool centered)
    {
        // flag: Nesterov for Momentum, a momentum slot for RMSProp. The hyper-parameters go in as rank-0
        // device buffers (step t = 3, so Adam's and Nadam's bias corrections are not trivial); the kernel
        // folds them on the device, and the expected values use the same fold (checked against Keras's
        // formulas by the optimizer tests).
        var nesterov = kind == OptimizerKind.Momentum && flag;
        var named = new Dictionary<string, double>
        {
            ["learning_rate"] = 0.05, ["momentum"] = 0.8, ["beta_1"] = 0.9, ["beta_2"] = 0.99, ["rho"] = 0.85, ["epsilon"] = 1e-3, ["step"] = 3, ["u_product"] = 0.6,
        };
        var scalarValues = OptimizerArgs.ScalarNames(kind).Select(x => named[x]).ToArray();
        var a = OptimizerArgs.Fold(kind, nesterov, Round32(scalarValues));
        var scalars = Round32(scalarValues).Select(v => Upload([v])).ToArray();
        var slotCount = kind switch
        {
            OptimizerKind.GradientDescent => 0,
            OptimizerKind.Momentum => 1,
            OptimizerKind.RMSProp => 3,
            _ => 2,
        };
        // Same lengths as the unary contract: empty, scalar, vector tails, and the CPU's parallel chunking.
        foreach (var n in new[] { 0, 1, 7, 33, 70_001 })
        {
            var w = Round32(Values(n, -2, 2, (ulong)n + 31));
            var g = Round32(Values(n, -1, 1, (ulong)n + 32));
            // Second moments are positive and, for centered RMSProp, exceed the squared mean gradient (as they do in use).
            var s = new[] { Round32(Values(n, kind == OptimizerKind.Momentum ? -1 : 1, 2, (ulong)n + 33)), Round32(Values(n, kind == OptimizerKind.RMSProp ? -1 : 0.5, 2, (ulong)n + 34)), Round32(Values(n, -0.5, 0.5, (ulong)n + 35)) };
            // Adam/Nadam: slot1 = m (any sign), slot2 = v (positive).
            if (kind is OptimizerKind.Adam or OptimizerKind.Nadam) s[0] = Round32(Values(n, -1, 1, (ulong)n + 36));
            var useSlot = new[] { slotCount >= 1, slotCount >= 2 && (kind != OptimizerKind.RMSProp || flag), slotCount >= 3 && centered };
            var wb = Upload(w);
            var sb = new DeviceBuffer?[3];
            for (var k = 0; k < 3; k++) sb[k] = useSlot[k] ? Upload(s[k]) : null;
            _be.ApplyOptimizer(kind, nesterov, scalars, wb, Upload(g), sb[0], sb[1], sb[2], abortFlags: null);
            var (ew, es) = OptimizerDefinition(kind, a, w, g, s, useSlot);
            OptimizerTolerance(ew, _be.Memory.ReadFloat64(wb), $"{kind} w n={n}");
            for (var k = 0; k < 3; k++)
                if (useSlot[k]) OptimizerTolerance(es[k], _be.Memory.ReadFloat64(sb[k]!), $"{kind} slot{k + 1} n={n}");
        }
    }

    // A chain of ~8 float32 operations, each rounding once: 16·rtol with an absolute floor for values near 0.
    private void OptimizerTolerance(double[] expected, double[] actual, string what) => OpHarness.AssertClose(expected, actual, 16 * Rtol, 16 * Rtol, what);

    /// <summary>The update formulas of <see cref="OptimizerKind"/>, written out in float64.</summary>
    private static (double[] W, double[][] Slots) OptimizerDefinition(OptimizerKind kind, OptimizerArgs a, double[] w0, double[] g, double[][] s0, bool[] useSlot)
    {
        var w = (double[])w0.Clone();
        var s = s0.Select(x => (double[])x.Clone()).ToArray();
        for (var i = 0; i < w.Length; i++)
        {
            switch (kind)
            {
                case OptimizerKind.GradientDescent: w[i] -= a.LearningRate * g[i]; break;
                case OptimizerKind.Momentum:
                    s[0][i] = a.Momentum * s[0][i] - a.LearningRate * g[i];
                    w[i] += a.Nesterov ? a.Momentum * s[0][i] - a.LearningRate * g[i] : s[0][i];
                    break;
                case OptimizerKind.Adam or OptimizerKind.Nadam:
                    s[0][i] = a.Beta1 * s[0][i] + (1 - a.Beta1) * g[i];
                    s[1][i] = a.Beta2 * s[1][i] + (1 - a.Beta2) * g[i] * g[i];
                    w[i] -= kind == OptimizerKind.Adam
                        ? a.LearningRate * s[0][i] / (Math.Sqrt(s[1][i]) + a.Epsilon)
                        : a.LearningRate * (a.MomentScale * s[0][i] + a.GradientScale * g[i]) / (Math.Sqrt(s[1][i] / a.SecondMomentDivisor) + a.Epsilon);
                    break;
                default:
                    s[0][i] = a.Rho * s[0][i] + (1 - a.Rho) * g[i] * g[i];
                    var d = s[0][i] + a.Epsilon;
                    if (useSlot[2])
                    {
                        s[2][i] = a.Rho * s[2][i] + (1 - a.Rho) * g[i];
                        d -= s[2][i] * s[2][i];
                    }
                    var delta = a.LearningRate * g[i] / Math.Sqrt(d);
                    if (useSlot[1]) { s[1][i] = a.Momentum * s[1][i] + delta; delta = s[1][i]; }
                    w[i] -= delta;
                    break;
            }
        }
        return (w, s);
    }

    [TestCase(RandomDistribution.Uniform), TestCase(RandomDistribution.Normal), TestCase(RandomDistribution.TruncatedNormal)]
    public void RandomStreamFollowsTheDocumentedTransforms(RandomDistribution dist)
    {
        // Expected values from the raw Philox blocks with the transforms of IBackend.Random written out
        // here, so each backend (the reference included) is checked against the test, not against another
        // backend: uniform a + (b − a)·U, U = (word i mod 4 of block ⌊i/4⌋ >> 8)/2²⁴; normal a + b·√(−2 ln(1 − U₀))·cos(2π U₁);
        // truncated normal redrawn from blocks (i, counter + 2⁴⁰·t) until |z| ≤ 2.
        const ulong seed = 1234, counter = 5;
        const double a = 0.5, b = 2;
        var mine = Poisoned(1001);
        _be.Random(dist, seed, counter, a, b, mine);
        static double Unit(uint bits) => (bits >> 8) / 16777216.0;
        static double Z(ulong c, int i)
        {
            var (x0, x1, _, _) = Philox.Block(seed, (ulong)i, c);
            return Math.Sqrt(-2 * Math.Log(1 - Unit(x0))) * Math.Cos(2 * Math.PI * Unit(x1));
        }
        var expected = new double[1001];
        for (var i = 0; i < expected.Length; i++)
        {
            if (dist == RandomDistribution.Uniform)
            {
                var (w0, w1, w2, w3) = Philox.Block(seed, (ulong)i / 4, counter);
                expected[i] = a + (b - a) * Unit(new[] { w0, w1, w2, w3 }[i % 4]);
                continue;
            }
            var z = Z(counter, i);
            for (ulong t = 1; dist == RandomDistribution.TruncatedNormal && Math.Abs(z) > 2; t++) z = Z(counter + (t << 40), i);
            expected[i] = a + b * z;
        }
        if (dist == RandomDistribution.TruncatedNormal)
            Assert.That(Enumerable.Range(0, 1001).Count(i => Math.Abs(Z(counter, i)) > 2), Is.GreaterThan(10), "some draws are redrawn");
        // float32 storage rounds once (2⁻²⁴ relative); float64 agrees to rounding of the same formula.
        OpHarness.AssertClose(Rtol > 1e-10 ? Round32(expected) : expected, _be.Memory.ReadFloat64(mine), Rtol, Rtol, dist.ToString());
    }
}

public class ReferenceBackendContractTests : BackendContractTests
{
    protected override IBackend Create() => new ReferenceBackend();

    protected override double Rtol => 1e-13;
}

public class CpuBackendContractTests : BackendContractTests
{
    protected override IBackend Create() => new CpuBackend();

    protected override double Rtol => 2e-7;
}
