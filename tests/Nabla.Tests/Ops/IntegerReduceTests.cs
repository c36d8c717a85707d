using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>Sum/Max/Min/Prod on int32 and int64 (TensorFlow allows them); checked exactly against LINQ on both devices.</summary>
[TestFixture(DType.Int32)]
[TestFixture(DType.Int64)]
public class IntegerReduceTests(DType dtype)
{
    private static readonly Device[] Devices = [Device.Cpu, Device.Reference];

    private Tensor Ints(long[] values, params int[] shape) => dtype == DType.Int32
        ? Tensor.FromArray(values.Select(v => (int)v).ToArray(), shape)
        : Tensor.FromArray(values, shape);

    private static long[] Longs(Tensor t) => t.ToDoubleArray().Select(v => (long)v).ToArray();

    private Tensor Run(Func<Graph, Output, Output> f, Tensor x, Device device)
    {
        var g = new Graph();
        var p = g.Placeholder(dtype, x.Shape, "x");
        using var s = new Session(g, device);
        return s.Run(f(g, p), new Dictionary<Output, Tensor> { [p] = x });
    }

    [Test]
    public void ReducesOverEachAxisExactly()
    {
        // [[3, -1, 7], [2, 5, -4]]
        var x = Ints([3, -1, 7, 2, 5, -4], 2, 3);
        foreach (var device in Devices)
        {
            Assert.That(Longs(Run((g, p) => g.ReduceSum(p, 0), x, device)), Is.EqualTo(new long[] { 5, 4, 3 }), device.Name);
            Assert.That(Longs(Run((g, p) => g.ReduceSum(p, 1), x, device)), Is.EqualTo(new long[] { 9, 3 }), device.Name);
            Assert.That(Longs(Run((g, p) => g.ReduceMax(p, [1]), x, device)), Is.EqualTo(new long[] { 7, 5 }), device.Name);
            Assert.That(Longs(Run((g, p) => g.ReduceMin(p, [0]), x, device)), Is.EqualTo(new long[] { 2, -1, -4 }), device.Name);
            Assert.That(Longs(Run((g, p) => g.ReduceProd(p), x, device)), Is.EqualTo(new long[] { 3L * -1 * 7 * 2 * 5 * -4 }), device.Name);
            var keep = Run((g, p) => g.ReduceSum(p, [0, 1], keepDims: true), x, device);
            Assert.That(keep.Shape, Is.EqualTo(new Shape(1, 1)));
            Assert.That(keep.DType, Is.EqualTo(dtype));
        }
    }

    [Test]
    public void EmptyAxisGivesTheIdentityOrTheDtypeExtreme()
    {
        var x = dtype == DType.Int32 ? Tensor.FromArray(Array.Empty<int>(), 2, 0) : Tensor.FromArray(Array.Empty<long>(), 2, 0);
        var (min, max) = dtype == DType.Int32 ? ((long)int.MinValue, (long)int.MaxValue) : (long.MinValue, long.MaxValue);
        foreach (var device in Devices)
        {
            Assert.That(Run((g, p) => g.ReduceSum(p, 1), x, device).ToDoubleArray(), Is.EqualTo(new double[] { 0, 0 }));
            Assert.That(Run((g, p) => g.ReduceProd(p, [1]), x, device).ToDoubleArray(), Is.EqualTo(new double[] { 1, 1 }));
            var mx = Run((g, p) => g.ReduceMax(p, [1]), x, device);
            var mn = Run((g, p) => g.ReduceMin(p, [1]), x, device);
            Assert.That(dtype == DType.Int32 ? mx.Get<int>(0) : mx.Get<long>(0), Is.EqualTo(min), device.Name);
            Assert.That(dtype == DType.Int32 ? mn.Get<int>(1) : mn.Get<long>(1), Is.EqualTo(max), device.Name);
        }
    }

    [Test]
    public void SumWrapsOnOverflowLikeTensorFlow()
    {
        var big = dtype == DType.Int32 ? int.MaxValue : long.MaxValue;
        var x = Ints([big, 1], 2);
        foreach (var device in Devices)
        {
            var r = Run((g, p) => g.ReduceSum(p), x, device);
            Assert.That(dtype == DType.Int32 ? r.ToScalar<int>() : r.ToScalar<long>(), Is.EqualTo(dtype == DType.Int32 ? int.MinValue : long.MinValue));
        }
    }

    [Test]
    public void MeanOfIntegersIsRejectedAndNoGradientFlows()
    {
        var g = new Graph();
        var p = g.Placeholder(dtype, new Shape(3), "x");
        Assert.That(() => g.ReduceMean(p, name: "m"), Throws.TypeOf<ShapeException>().With.Message.StartsWith("Mean 'm': input 0 must be float32 or float64"));
        var f = g.Placeholder(DType.Float64, new Shape(3), "f");
        var viaInts = g.ReduceSum(g.Cast(g.ReduceSum(g.Cast(f, dtype), keepDims: true), DType.Float64), name: "y");
        Assert.That(() => g.Gradients(viaInts, f), Throws.TypeOf<GradientException>().With.Message.Contains("by a differentiable path"));
    }
}
