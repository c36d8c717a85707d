using Nabla.Tests.Support;
using NUnit.Framework;
using static Nabla.Tests.Ops.ArrayCheck;

namespace Nabla.Tests.Ops;

/// <summary>Gather and its gradient GatherGrad (scatter-add into zeros), with early index checks; the OneHot composite.</summary>
public class IndexOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Gather", "GatherGrad"];

    private static Tensor U(int[] shape, ulong seed = 1) => OpHarness.Uniform(shape, seed: seed);

    private static Tensor I64(long[] values, params int[] shape) => Tensor.FromArray(values, shape.Length == 0 ? [values.Length] : shape);

    public static IEnumerable<ArrayCase> ForwardCases()
    {
        yield return new("gather rows", (g, x) => g.Gather(x[0], x[1]), [U([4, 3]), Ints([3, 0, 3])], ts => Gather(ts[0], ts[1], 0));
        yield return new("gather axis 1, int64, matrix of indices", (g, x) => g.Gather(x[0], x[1], 1), [U([2, 5, 2]), I64([4, 0, 1, 1], 2, 2)], ts => Gather(ts[0], ts[1], 1));
        yield return new("gather axis -1", (g, x) => g.Gather(x[0], x[1], -1), [U([3, 4]), Ints([2, 1])], ts => Gather(ts[0], ts[1], -1));
        yield return new("gather with scalar index drops the axis", (g, x) => g.Gather(x[0], x[1]), [U([3, 2]), Tensor.Scalar(2)], ts => Gather(ts[0], ts[1], 0));
        yield return new("gather from [1,1]", (g, x) => g.Gather(x[0], x[1]), [U([1, 1]), Ints([0, 0, 0])], ts => Gather(ts[0], ts[1], 0));
        yield return new("gather no indices", (g, x) => g.Gather(x[0], x[1]), [U([3, 2]), Tensor.FromArray(Array.Empty<int>(), 0)], ts => Gather(ts[0], ts[1], 0));
        yield return new("gather from empty rows", (g, x) => g.Gather(x[0], x[1]), [U([2, 0]), Ints([1, 0, 1])], ts => Gather(ts[0], ts[1], 0));
        yield return new("gather large (embedding lookup)", (g, x) => g.Gather(x[0], x[1]), [U([100, 64]), Ints(Enumerable.Range(0, 300).Select(i => i * 37 % 100).ToArray(), 30, 10)], ts => Gather(ts[0], ts[1], 0));
        yield return new("gather int32 params", (g, x) => g.Gather(x[0], x[1]), [Ints([10, 20, 30]), Ints([2, 2, 0])], ts => Gather(ts[0], ts[1], 0));
        yield return new("gather NaN and infinities", (g, x) => g.Gather(x[0], x[1]), [Specials(7), Ints([0, 1, 2, 4, 6])], ts => Gather(ts[0], ts[1], 0));
        yield return new("gather-grad adds repeated rows", (g, x) => g.GatherGrad(x[0], x[1], x[2], 0), [Iota([3, 2], 1), Ints([2, 0, 2]), U([4, 2])],
            ts => Make([4, 2], i => i[0] switch { 0 => At(ts[0], [1, i[1]]), 2 => At(ts[0], [0, i[1]]) + At(ts[0], [2, i[1]]), _ => 0 }));
        yield return new("gather-grad nothing gathered", (g, x) => g.GatherGrad(x[0], x[1], x[2], 1), [U([2, 0]), Tensor.FromArray(Array.Empty<long>(), 0), U([2, 3])], ts => Make([2, 3], _ => 0));

        yield return new("one_hot", (g, x) => g.OneHot(x[0], 4), [Ints([0, 3, 1])], ts => Make([3, 4], i => i[1] == (int)At(ts[0], [i[0]]) ? 1 : 0));
        yield return new("one_hot out of range and negative give all-off rows", (g, x) => g.OneHot(x[0], 3, 5, -1, DType.Float64), [I64([2, 3, -1, 0], 2, 2)],
            ts => Make([2, 2, 3], i => i[2] == (int)At(ts[0], [i[0], i[1]]) ? 5 : -1));
        yield return new("one_hot scalar index", (g, x) => g.OneHot(x[0], 3, dtype: DType.Int32), [Tensor.Scalar(1)], ts => Make([3], i => i[0] == 1 ? 1 : 0));
        yield return new("one_hot depth 0 and no indices", (g, x) => g.OneHot(x[0], 0), [Tensor.FromArray(Array.Empty<int>(), 0)], ts => Make([0, 0], _ => 0));
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void ForwardMatchesNaiveAndCpu(ArrayCase c) => Forward(c);

    public static IEnumerable<GradCase> GradientCases()
    {
        // Indices are constants inside the function: GradientCheck feeds every input as float64.
        yield return new("gather from vector with repeats", (g, x) => g.Gather(x[0], g.Constant(Ints([2, 2, 0]))), [U([3])]);
        yield return new("gather from [1,1]", (g, x) => g.Gather(x[0], g.Constant(Ints([0, 0]))), [U([1, 1])]);
        yield return new("gather [3,5] axis 1 scalar index", (g, x) => g.Gather(x[0], g.Constant(Tensor.Scalar(4)), 1), [U([3, 5])]);
        yield return new("gather rank 3 int64 matrix of indices", (g, x) => g.Gather(x[0], g.Constant(I64([1, 0, 1, 1], 2, 2)), 1), [U([2, 3, 4])]);
        yield return new("gather from empty", (g, x) => g.Gather(x[0], g.Constant(Ints([1, 0]))), [U([2, 0])]);
        yield return new("gather nothing", (g, x) => g.Gather(x[0], g.Constant(Tensor.FromArray(Array.Empty<int>(), 0))), [U([3, 2])]);
        yield return new("gather-grad wrt dy (params gets zero)", (g, x) => g.GatherGrad(x[0], g.Constant(Ints([1, 1, 0])), x[1], 0), [U([3, 2]), U([4, 2], 2)]);
    }

    [TestCaseSource(nameof(GradientCases))]
    public void GradientMatchesCentralDifferences(GradCase c) => Gradient(c);

    [Test]
    public void SecondOrderThroughGatherGrad()
    {
        // Quadratic f: the first derivative is linear, so LinearTolerance's argument holds.
        OpHarness.SecondOrder((g, x) => g.Square(g.Gather(x[0], g.Constant(Ints([1, 1, 0])))), [U([3, 2])], LinearTolerance);
        GradientWithUnknownDims((g, x) => g.Gather(x[0], g.Constant(Ints([2, 0, 2, 2], 2, 2)), 1), [U([2, 3])]);
    }

    [Test]
    public void FedOutOfRangeIndexFailsBeforeAnyKernelRuns()
    {
        var g = new Graph();
        var counter = g.Variable(Tensor.Scalar(0f), "counter");
        var bump = counter.AssignAdd(g.Scalar(1)).Op;
        var table = g.Constant(Iota([4, 2]));
        var idx = g.Placeholder(DType.Int32, new Shape(-1), "idx");
        var rows = g.Gather(table, idx, 0, "lookup");
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        s.Run([rows], new Dictionary<Output, Tensor> { [idx] = Ints([3, 1]) }, bump);
        Assert.That(s.Run(counter.Value).ToScalar<float>(), Is.EqualTo(1f), "a good step applies the update");

        // The bump is created before the gather, so it would run first; the check must precede it.
        Fails<InvalidArgumentException>(() => s.Run([rows], new Dictionary<Output, Tensor> { [idx] = Ints([1, 4]) }, bump),
            "Gather 'lookup'", "index 4", "flat position 1", "0..3");
        Assert.That(s.Run(counter.Value).ToScalar<float>(), Is.EqualTo(1f), "the failed step must not have applied AssignAdd");
        Fails<InvalidArgumentException>(() => s.Run([rows], new Dictionary<Output, Tensor> { [idx] = Ints([-1]) }, bump), "Gather 'lookup'", "index -1", "0..3");
        Assert.That(s.Run(counter.Value).ToScalar<float>(), Is.EqualTo(1f));
    }

    [Test]
    public void ConstantAndComputedIndicesAreChecked()
    {
        // Constant: caught by the pre-run check.
        Fails<InvalidArgumentException>(() => RunWith(g => (g.Gather(g.Constant(Iota([3])), g.Constant(Ints([0, 3])), 0, "cg"), new())), "Gather 'cg'", "index 3", "0..2");
        // Computed from a fed value (idx + 2): only the kernel can see it.
        Fails<InvalidArgumentException>(() => RunWith(g =>
        {
            var idx = g.Placeholder(DType.Int64, new Shape(2));
            var shifted = idx + g.Constant(I64([2, 2]));
            return (g.Gather(g.Constant(Iota([2, 3])), shifted, 1, "kg"), new() { [idx] = I64([0, 1]) });
        }), "Gather 'kg'", "index 3", "axis 1", "0..2");
        // Empty axis: no index is valid.
        Fails<InvalidArgumentException>(() => RunWith(g => (g.Gather(g.Constant(Iota([0, 2])), g.Constant(Ints([0])), 0, "eg"), new())), "Gather 'eg'", "none");
        Fails<InvalidArgumentException>(() => RunWith(g =>
        {
            var idx = g.Placeholder(DType.Int32, new Shape(1));
            return (g.GatherGrad(g.Constant(Iota([1, 2])), idx, g.Constant(Iota([3, 2])), 0, "gg"), new() { [idx] = Ints([5]) });
        }), "GatherGrad 'gg'", "index 5", "0..2");
    }

    [Test]
    public void GatherRejectsBadInputsAtBuildTime()
    {
        var g = new Graph();
        var p = g.Placeholder(DType.Float32, new Shape(4, 3));
        Fails<ShapeException>(() => g.Gather(p, g.Placeholder(DType.Float32, new Shape(2)), 0, "g1"), "Gather 'g1'", "int32 or int64", "float32");
        Fails<ShapeException>(() => g.Gather(p, g.Placeholder(DType.Int32, new Shape(2)), -3, "g2"), "Gather 'g2'", "axis -3");
        Fails<ShapeException>(() => g.Gather(g.Scalar(1), g.Placeholder(DType.Int32, new Shape(2)), 0, "g3"), "Gather 'g3'", "scalar");
        Fails<ShapeException>(() => g.GatherGrad(g.Placeholder(DType.Float32, new Shape(2, 2)), g.Placeholder(DType.Int32, new Shape(2)), p, 0, "g4"), "GatherGrad 'g4'", "[2,2]", "[2,3]");
        Fails<ShapeException>(() => g.GatherGrad(g.Placeholder(DType.Int32, new Shape(2, 3)), g.Placeholder(DType.Int32, new Shape(2)), p, 0, "g5"), "GatherGrad 'g5'", "int32");
        Fails<ShapeException>(() => g.GatherGrad(g.Placeholder(DType.Float32, new Shape(2, 3)), g.Placeholder(DType.Bool, new Shape(2)), p, 0, "g6"), "GatherGrad 'g6'", "bool");
    }

    [Test]
    public void GatherIndicesAndOneHotAreNotDifferentiable()
    {
        var g = new Graph();
        var idx = g.Placeholder(DType.Int32, new Shape(3));
        var p = g.Placeholder(DType.Float64, new Shape(4, 2));
        var y = g.Gather(p, idx);
        Fails<GradientException>(() => g.Gradients(y, idx), idx.Name, "int32");
        Fails<GradientException>(() => g.Gradients(g.OneHot(idx, 4), idx), "int32");
        // Through a cast, the index path simply carries no gradient.
        var f = g.Placeholder(DType.Float64, new Shape(3), "f");
        var dy = g.Gradients([g.Gather(p, g.Cast(f, DType.Int32)), g.OneHot(g.Cast(f, DType.Int64), 4, dtype: DType.Float64)], [f], null, UnconnectedGradients.None);
        Assert.That(dy[0], Is.Null);
    }

    [Test]
    public void OneHotRejectsBadInputs()
    {
        var g = new Graph();
        Fails<ShapeException>(() => g.OneHot(g.Placeholder(DType.Float32, new Shape(2)), 3, name: "o1"), "OneHot 'o1'", "float32");
        Fails<ShapeException>(() => g.OneHot(g.Placeholder(DType.Int32, new Shape(2)), -1, name: "o2"), "OneHot 'o2'", "depth");
        Fails<ShapeException>(() => g.OneHot(g.Placeholder(DType.Bool, new Shape(2)), 2, name: "o3"), "OneHot 'o3'", "bool");
    }
}
