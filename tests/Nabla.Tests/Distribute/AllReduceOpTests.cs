using NUnit.Framework;
using Nabla.Distribute;
using Nabla.Distributed;
using Nabla.Kernels;
using Nabla.Tests.Support;

namespace Nabla.Tests.Distribute;

/// <summary>
/// The AllReduce op over real groups: the sessions of one graph, one per member and one thread each, sum
/// their values in one collective call inside their plans. Its single-member forms (CPU against reference,
/// the float64 gradient check) and its bad inputs are cases of OpCases and ErrorCases.
/// </summary>
public sealed class AllReduceOpTests : ICoversOps
{
    /// <inheritdoc/>
    public static IEnumerable<string> CoveredOps => ["AllReduce"];

    /// <summary>Runs <paramref name="body"/>(rank, session) on one thread per member of a fresh group, each session joined to it.</summary>
    private static T[] OnEveryMember<T>(Graph g, Device device, int size, Func<int, Session, T> body, SessionOptions? options = null)
    {
        var group = new InProcessGroup(size, TimeSpan.FromSeconds(30));
        var results = new T[size];
        var errors = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(r => new Thread(() =>
        {
            try
            {
                using var s = new Session(g, device, options);
                s.State.Collective = new CollectiveGroup(group.Member(r));
                results[r] = body(r, s);
            }
            catch (Exception e)
            {
                errors[r] = e;
                group.Abort(r, e);
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        var first = errors.FirstOrDefault(e => e is not null and not CollectiveException) ?? errors.FirstOrDefault(e => e is not null);
        if (first is not null) throw first;
        return results;
    }

    private static Tensor Values(Shape shape, DType dtype, int rank) =>
        Tensor.FromArray(Enumerable.Range(0, (int)shape.ElementCount).Select(i => (rank + 1) * 0.5 + i * (rank % 2 == 0 ? 1.25 : -0.75)).ToArray(),
            shape.ToArray()).Cast(dtype);

    [TestCase("cpu", DType.Float32, 2)]
    [TestCase("cpu", DType.Float32, 3)]
    [TestCase("reference", DType.Float64, 2)]
    public void EveryMemberGetsTheSumOfEveryValue(string deviceName, DType dtype, int size)
    {
        var device = deviceName == "cpu" ? Device.Cpu : Device.Reference;
        Shape[] shapes = [new(3, 4), Shape.Scalar, new(0, 2), new(1, 1, 5)];
        var g = new Graph();
        var xs = shapes.Select((s, i) => g.Placeholder(dtype, s, $"x{i}")).ToArray();
        var ys = g.AllReduce(xs, "bucket");
        var results = OnEveryMember(g, device, size, (r, s) =>
            s.Run(ys, xs.Select((x, i) => (x, Values(shapes[i], dtype, r))).ToDictionary(p => p.x, p => p.Item2)));
        for (var i = 0; i < shapes.Length; i++)
        {
            var expected = new double[shapes[i].ElementCount];
            for (var r = 0; r < size; r++)
            {
                var v = Values(shapes[i], dtype, r).ToDoubleArray();
                for (var k = 0; k < expected.Length; k++) expected[k] += v[k];
            }
            for (var r = 0; r < size; r++)
            {
                Assert.That(results[r][i].Shape, Is.EqualTo(shapes[i]));
                Assert.That(results[r][i].DType, Is.EqualTo(dtype));
                Assert.That(results[r][i].ToDoubleArray(), Is.EqualTo(expected).Within(1e-6), $"value {i}, member {r}");
                Assert.That(results[r][i].ToDoubleArray(), Is.EqualTo(results[0][i].ToDoubleArray()), "every member gets bitwise the same sums");
            }
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ComputedValuesThatNothingElseReadsAreSummedInPlace(bool deferred)
    {
        // Kernel outputs read only by the AllReduce: the plan packs them into one span (odd lengths, a scalar and an empty
        // value leave alignment padding between them), the outputs alias the inputs, and no staging workspace is planned.
        Shape[] shapes = [new(3, 4), Shape.Scalar, new(0, 2), new(1, 1, 5), new(37)];
        var g = new Graph();
        var xs = shapes.Select((s, i) => g.Placeholder(DType.Float32, s, $"x{i}")).ToArray();
        var ys = g.AllReduce(xs.Select(x => g.Mul(x, g.Scalar(2))).ToArray(), "bucket");
        var options = new SessionOptions { DeferExecution = deferred };
        var results = OnEveryMember(g, Device.Cpu, 2, (r, s) =>
        {
            var feeds = xs.Select((x, i) => (x, Values(shapes[i], DType.Float32, r))).ToDictionary(p => p.x, p => p.Item2);
            var plan = s.Plan(ys, feeds);
            Assert.That(plan.WorkspaceBytes, Is.Zero, "no staging buffer");
            Assert.That(plan.Kernels.Count(k => k.OpType == "AllReduce"), Is.EqualTo(1));
            var first = s.Run(ys, feeds);
            Assert.That(s.ArenaBytes, Is.EqualTo(plan.PeakBytes), "the packed span is part of the planned peak");
            var second = s.Run(ys, feeds);
            for (var i = 0; i < shapes.Length; i++) Assert.That(second[i].ToDoubleArray(), Is.EqualTo(first[i].ToDoubleArray()), "a second run sums afresh");
            return first;
        }, options);
        for (var i = 0; i < shapes.Length; i++)
        {
            var expected = Values(shapes[i], DType.Float32, 0).ToDoubleArray().Zip(Values(shapes[i], DType.Float32, 1).ToDoubleArray(), (a, b) => 2 * a + 2 * b).ToArray();
            foreach (var member in results)
            {
                Assert.That(member[i].Shape, Is.EqualTo(shapes[i]));
                Assert.That(member[i].ToDoubleArray(), Is.EqualTo(expected), $"value {i}");
            }
        }
    }

    /// <summary>a = 2x and b = x + 1 (kernel outputs, x of 5 floats), summed by one AllReduce.</summary>
    private static (Graph G, Output X, Output A, Output B, Output[] Sums) TwoComputedValuesSummed()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(5), "x");
        var a = g.Mul(x, g.Scalar(2));
        var b = g.Add(x, g.Scalar(1));
        return (g, x, a, b, g.AllReduce([a, b], "bucket"));
    }

    /// <summary>Member r's x: [r + 1, 2, 3, 4, 5].</summary>
    private static Dictionary<Output, Tensor> MemberFeed(Output x, int r) => new() { [x] = Tensor.FromArray(new float[] { r + 1, 2, 3, 4, 5 }, 5) };

    [Test]
    public void AValueThatIsAlsoReadElsewhereIsNotOverwrittenBySums()
    {
        // a is fetched and b feeds another kernel: summing either in place would change what those read, so the step stages.
        var (g, x, a, b, sums) = TwoComputedValuesSummed();
        var other = g.Mul(b, g.Scalar(10));
        var results = OnEveryMember(g, Device.Cpu, 2, (r, s) =>
        {
            var feeds = MemberFeed(x, r);
            Assert.That(s.Plan([a, sums[0], sums[1], other], feeds).WorkspaceBytes, Is.EqualTo(2 * 16 * sizeof(float)), "a staging buffer for both values, each at a 64-byte boundary");
            return s.Run([a, sums[0], sums[1], other], feeds);
        });
        for (var r = 0; r < 2; r++)
        {
            Assert.That(results[r][0].ToDoubleArray(), Is.EqualTo(new double[] { 2 * (r + 1), 4, 6, 8, 10 }), "the fetched value a is this member's own");
            Assert.That(results[r][1].ToDoubleArray(), Is.EqualTo(new double[] { 6, 8, 12, 16, 20 }));
            Assert.That(results[r][2].ToDoubleArray(), Is.EqualTo(new double[] { 5, 6, 8, 10, 12 }));
            Assert.That(results[r][3].ToDoubleArray(), Is.EqualTo(new double[] { 10 * (r + 2), 30, 40, 50, 60 }), "the other reader of b sees this member's b");
        }
    }

    [Test]
    public void AMemberThatStagesAndOneThatSumsInPlaceExchangeTheSameLayout()
    {
        // Member 0 also fetches a value before the sum, so its plan stages the bucket; member 1's plan sums in place. Both
        // must hand the collective a buffer of the same length and layout (under MPI, unequal counts would corrupt or hang).
        var (g, x, a, _, sums) = TwoComputedValuesSummed();
        var results = OnEveryMember(g, Device.Cpu, 2, (r, s) =>
        {
            var feeds = MemberFeed(x, r);
            Output[] fetches = r == 0 ? [sums[0], sums[1], a] : [sums[0], sums[1]];
            Assert.That(s.Plan(fetches, feeds).WorkspaceBytes, r == 0 ? Is.GreaterThan(0) : Is.Zero, r == 0 ? "member 0 stages" : "member 1 sums in place");
            return s.Run(fetches, feeds);
        });
        foreach (var member in results)
        {
            Assert.That(member[0].ToDoubleArray(), Is.EqualTo(new double[] { 6, 8, 12, 16, 20 }));
            Assert.That(member[1].ToDoubleArray(), Is.EqualTo(new double[] { 5, 6, 8, 10, 12 }));
        }
        Assert.That(results[0][2].ToDoubleArray(), Is.EqualTo(new double[] { 2, 4, 6, 8, 10 }));
    }

    [Test]
    public void DeferredExecutionRunsTheCollectiveInStreamOrder()
    {
        // The sum feeds a later kernel: under the deferred backend both run only at the fetch's download.
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(4), "x");
        var y = g.Mul(g.AllReduce([g.Add(x, x)])[0], x);
        var results = OnEveryMember(g, Device.Cpu, 2, (r, s) => s.Run(y, new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(new float[] { r + 1, 2, 3, 4 }, 4) }),
            new SessionOptions { DeferExecution = true });
        // Member 0: (2·[1,2,3,4] + 2·[2,2,3,4])·[1,2,3,4]; member 1 multiplies by its own x.
        Assert.That(results[0].ToDoubleArray(), Is.EqualTo(new double[] { 6, 16, 36, 64 }));
        Assert.That(results[1].ToDoubleArray(), Is.EqualTo(new double[] { 12, 16, 36, 64 }));
    }

    [Test]
    public void GradientIsTheSumOfTheMembersUpstreamGradients()
    {
        // Member r's loss is c_r · Σ AllReduce(x): d loss_r / d x_r summed over every member's loss is Σ_r c_r on each member.
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3), "x");
        var c = g.Placeholder(DType.Float64, Shape.Scalar, "c");
        var loss = g.ReduceSum(g.Mul(g.AllReduce([x])[0], c));
        var dx = g.Gradients([loss], [x])[0]!.Value;
        Assert.That(g.Operations.Count(o => o.Type == "AllReduce"), Is.EqualTo(2), "the gradient is an AllReduce of the upstream gradients");
        var results = OnEveryMember(g, Device.Reference, 2, (r, s) =>
            s.Run(dx, new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(new[] { 1.0, 2, 3 }, 3), [c] = Tensor.Scalar(r == 0 ? 2.0 : 5.0) }));
        foreach (var d in results) Assert.That(d.ToDoubleArray(), Is.EqualTo(new[] { 7.0, 7, 7 }));
    }

    [Test]
    public void ASessionOnItsOwnIsAGroupOfOne()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2), "x");
        using var s = new Session(g, Device.Cpu);
        Assert.That(s.State.Collective, Is.SameAs(IAllReduceGroup.Alone));
        Assert.That(s.Run(g.AllReduce([x])[0], new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(new float[] { 1.5f, -2 }, 2) }).ToDoubleArray(), Is.EqualTo(new[] { 1.5, -2 }));
        Assert.That(() => s.State.Collective = null!, Throws.ArgumentNullException);
    }

    [Test]
    public void AMemberThatFailsBeforeTheCollectiveFailsTheOthersInsteadOfHanging()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2), "x");
        var y = g.AllReduce([x])[0];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(() => OnEveryMember(g, Device.Cpu, 2, (r, s) =>
                r == 1 ? throw new InvalidOperationException("member 1 failed") : s.Run(y, new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(new float[] { 1, 2 }, 2) })),
            Throws.InvalidOperationException.With.Message.EqualTo("member 1 failed"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "member 0 is released by the abort, not by the timeout");
    }
}
