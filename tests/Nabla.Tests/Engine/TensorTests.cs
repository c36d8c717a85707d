using NUnit.Framework;

namespace Nabla.Tests.Engine;

/// <summary>Host tensors and shapes: construction, factories, seeded random tensors, printing, element access and their errors.</summary>
public class TensorTests
{
    [Test]
    public void WithShapeSharesTheElementsUnderAnotherShape()
    {
        var t = Tensor.FromArray(new[] { 1f, 2, 3, 4, 5, 6 }, 2, 3);
        var flat = t.WithShape(new Shape(6));
        Assert.That(flat.Shape, Is.EqualTo(new Shape(6)));
        Assert.That(flat.DType, Is.EqualTo(DType.Float32));
        Assert.That(flat.ToArray<float>(), Is.EqualTo(t.ToArray<float>()));
        Assert.That(flat.Data, Is.SameAs(t.Data), "no copy");
        Assert.Throws<ArgumentException>(() => t.WithShape(new Shape(4)));
    }

    [Test]
    public void FromFlatArraysOfEveryDType()
    {
        var source = new[] { 1f, 2, 3, 4, 5, 6 };
        var f = Tensor.FromArray(source, 2, 3);
        source[0] = 99;
        Assert.That(f.ToArray<float>()[0], Is.EqualTo(1f), "FromArray copies its input");
        Assert.That((f.Shape, f.DType, f.Rank, f.Size), Is.EqualTo((new Shape(2, 3), DType.Float32, 2, 6)));
        Assert.That(Tensor.FromArray([1.0, 2], 2).DType, Is.EqualTo(DType.Float64));
        Assert.That(Tensor.FromArray([1, 2], 2).DType, Is.EqualTo(DType.Int32));
        Assert.That(Tensor.FromArray([1L, 2], 2).DType, Is.EqualTo(DType.Int64));
        Assert.That(Tensor.FromArray([true, false], 2).DType, Is.EqualTo(DType.Bool));
        // Without a shape the data is a vector; a single value without a shape is a scalar, so FromArray(t.Data, t.Shape) round-trips scalars.
        Assert.That(Tensor.FromArray([1f, 2, 3]).Shape, Is.EqualTo(new Shape(3)));
        Assert.That(Tensor.FromArray([7.0]).Shape, Is.EqualTo(Shape.Scalar));
        Assert.That(Tensor.FromArray([7.0], 1).Shape, Is.EqualTo(new Shape(1)));
        Assert.That(Tensor.FromArray(Array.Empty<int>(), 0, 4).Shape, Is.EqualTo(new Shape(0, 4)));
        Tensor implicitVector = new[] { 5f };
        Assert.That(implicitVector.Shape, Is.EqualTo(new Shape(1)));
        Tensor implicitScalar = 2.5;
        Assert.That(implicitScalar.ToScalar<double>(), Is.EqualTo(2.5));
        Assert.That(Tensor.Scalar(3L).DType, Is.EqualTo(DType.Int64));
        Assert.That(Tensor.Scalar(true).ToScalar<bool>(), Is.True);
    }

    [Test]
    public void ConstructionErrors()
    {
        Assert.That(() => Tensor.FromArray([1f, 2, 3], 2, 2), Throws.ArgumentException.With.Message.Contains("shape [2,2] needs 4 elements, got 3"));
        Assert.That(() => new Tensor(new int[2], new Shape(2), DType.Float32), Throws.ArgumentException.With.Message.Contains("float32 tensor needs a flat Single[]"));
        Assert.That(() => new Tensor(new float[2], new Shape(-1), DType.Float32), Throws.ArgumentException.With.Message.Contains("[?]"));
        Assert.That(() => new Tensor(new float[2, 1], new Shape(2, 1), DType.Float32), Throws.ArgumentException);
        Assert.That(() => Tensor.FromMultiArray(new byte[2, 2]), Throws.ArgumentException.With.Message.Contains("Byte"));
    }

    [Test]
    public void FromMultiDimensionalArrays()
    {
        var m = Tensor.FromMultiArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.That(m.Shape, Is.EqualTo(new Shape(2, 3)));
        Assert.That(m.ToArray<float>(), Is.EqualTo(new[] { 1f, 2, 3, 4, 5, 6 }));
        var cube = Tensor.FromMultiArray(new int[,,] { { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } });
        Assert.That(cube.Shape, Is.EqualTo(new Shape(2, 2, 2)));
        Assert.That(cube.Get<int>(1, 0, 1), Is.EqualTo(6));
        Assert.That(Tensor.FromMultiArray(new bool[,] { { true }, { false } }).ToArray<bool>(), Is.EqualTo(new[] { true, false }));
        Assert.That(Tensor.FromMultiArray(new long[3]).Shape, Is.EqualTo(new Shape(3)));
        Assert.That(Tensor.FromMultiArray(new double[2, 0]).Shape, Is.EqualTo(new Shape(2, 0)));
        Tensor fromMatrix = new double[,] { { 1, 2 }, { 3, 4 } };
        Assert.That(fromMatrix[1, 0], Is.EqualTo(3.0));
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    [TestCase(DType.Int32)]
    [TestCase(DType.Int64)]
    [TestCase(DType.Bool)]
    public void ZerosOnesAndFillOfEveryDType(DType dtype)
    {
        var z = Tensor.Zeros(new Shape(2, 2), dtype);
        var o = Tensor.Ones(new Shape(3), dtype);
        var f = Tensor.Fill(new Shape(1, 2), 7, dtype);
        Assert.That((z.DType, o.DType, f.DType), Is.EqualTo((dtype, dtype, dtype)));
        Assert.That(z.ToDoubleArray(), Is.EqualTo(new[] { 0.0, 0, 0, 0 }));
        Assert.That(o.ToDoubleArray(), Is.EqualTo(new[] { 1.0, 1, 1 }));
        // Bool stores "nonzero": 7 becomes true (1).
        Assert.That(f.ToDoubleArray(), Is.EqualTo(dtype == DType.Bool ? new[] { 1.0, 1 } : new[] { 7.0, 7 }));
        Assert.That(z.Data.GetType().GetElementType(), Is.EqualTo(dtype.ClrType()));
        Assert.That(Tensor.Fill(Shape.Scalar, 2.75, dtype).ToDoubleArray(), Is.EqualTo(new[] { dtype.IsFloating() ? 2.75 : dtype == DType.Bool ? 1 : 2 }));
    }

    [Test]
    public void RangeAndLinspace()
    {
        Assert.That(Tensor.Range(0, 10, 3).ToArray<float>(), Is.EqualTo(new[] { 0f, 3, 6, 9 }));
        Assert.That(Tensor.Range(5, 0, -2, DType.Int32).ToArray<int>(), Is.EqualTo(new[] { 5, 3, 1 }));
        Assert.That(Tensor.Range(0, 1, 0.25, DType.Float64).ToArray<double>(), Is.EqualTo(new[] { 0, 0.25, 0.5, 0.75 }));
        Assert.That(Tensor.Range(3, 3).Shape, Is.EqualTo(new Shape(0)));
        Assert.That(Tensor.Range(3, 1).Size, Is.Zero);
        Assert.That(() => Tensor.Range(0, 1, 0), Throws.ArgumentException.With.Message.Contains("delta"));
        // 0..30 in 1001 steps: step 30/1000 = 0.03; the ends are exact.
        var l = Tensor.Linspace(0, 30, 1001);
        Assert.That(l.Shape, Is.EqualTo(new Shape(1001)));
        var v = l.ToArray<float>();
        Assert.That(v[0], Is.EqualTo(0f));
        Assert.That(v[^1], Is.EqualTo(30f));
        Assert.That(v[1], Is.EqualTo(0.03f));
        Assert.That(v[500], Is.EqualTo(15f));
        for (var i = 1; i < v.Length; i++) Assert.That(v[i] - v[i - 1], Is.EqualTo(0.03).Within(3e-6), $"step {i}");
        Assert.That(Tensor.Linspace(-1, 1, 5, DType.Float64).ToArray<double>(), Is.EqualTo(new[] { -1, -0.5, 0, 0.5, 1 }));
        Assert.That(Tensor.Linspace(4, 9, 1).ToArray<float>(), Is.EqualTo(new[] { 4f }));
        Assert.That(() => Tensor.Linspace(0, 1, 0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void SeededRandomTensorsAreReproducible()
    {
        var a = Tensor.RandomUniform(new Shape(100, 10), -3, 5, seed: 7);
        var b = Tensor.RandomUniform(new Shape(100, 10), -3, 5, seed: 7);
        Assert.That(b.ToArray<float>(), Is.EqualTo(a.ToArray<float>()));
        Assert.That(Tensor.RandomUniform(new Shape(100, 10), -3, 5, seed: 8).ToArray<float>(), Is.Not.EqualTo(a.ToArray<float>()));
        Assert.That(a.ToArray<float>(), Is.All.InRange(-3f, 5f));
        Assert.That(a.ToArray<float>().Average(), Is.EqualTo(1).Within(0.3), "mean of U(-3,5) over 1000 draws: σ/√n ≈ 0.07");
        var n = Tensor.RandomNormal(new Shape(20000), 10, 2, seed: 3, dtype: DType.Float64).ToArray<double>();
        Assert.That(n, Is.EqualTo(Tensor.RandomNormal(new Shape(20000), 10, 2, seed: 3, dtype: DType.Float64).ToArray<double>()));
        var mean = n.Average();
        Assert.That(mean, Is.EqualTo(10).Within(5 * 2 / Math.Sqrt(n.Length)));
        Assert.That(Math.Sqrt(n.Sum(x => (x - mean) * (x - mean)) / n.Length), Is.EqualTo(2).Within(3).Percent);
        Assert.That(() => Tensor.RandomUniform(new Shape(2), dtype: DType.Int32), Throws.ArgumentException);
        // The host stream is the one a graph random op with the same op seed draws on its first run.
        var g = new Graph();
        var op = g.RandomUniform(new Shape(100, 10), -3, 5, seed: 7);
        using var s = new Session(g);
        Assert.That(s.Run(op).ToArray<float>(), Is.EqualTo(a.ToArray<float>()));
    }

    [Test]
    public void ToStringShowsValuesShapeAndDType()
    {
        Assert.That(Tensor.FromArray([1f, 2.5f, -3], 3).ToString(), Is.EqualTo("Tensor([1, 2.5, -3], shape=[3], dtype=float32)"));
        Assert.That(Tensor.FromArray([1, 2, 3, 4], 2, 2).ToString(), Is.EqualTo("Tensor([[1, 2],\n [3, 4]], shape=[2,2], dtype=int32)"));
        Assert.That(Tensor.Scalar(5.0).ToString(), Is.EqualTo("Tensor(5, shape=[], dtype=float64)"));
        Assert.That(Tensor.FromArray([true, false], 2).ToString(), Is.EqualTo("Tensor([True, False], shape=[2], dtype=bool)"));
        Assert.That(Tensor.Zeros(new Shape(0, 3)).ToString(), Is.EqualTo("Tensor([], shape=[0,3], dtype=float32)"));
        Assert.That(Tensor.FromArray([float.NaN, float.NegativeInfinity], 2).ToString(), Is.EqualTo("Tensor([NaN, -Infinity], shape=[2], dtype=float32)"));
        // Up to 1000 elements everything is printed; beyond, three items at each end of every axis.
        Assert.That(Tensor.Range(0, 1000).ToString(), Does.Not.Contain("...").And.Contain(", 999]"));
        Assert.That(Tensor.Range(0, 2000, 1, DType.Int32).ToString(), Is.EqualTo("Tensor([0, 1, 2, ..., 1997, 1998, 1999], shape=[2000], dtype=int32)"));
        var rows = Tensor.FromArray(Enumerable.Range(0, 2000).ToArray(), 100, 20).ToString();
        Assert.That(rows, Is.EqualTo("Tensor([[0, 1, 2, ..., 17, 18, 19],\n [20, 21, 22, ..., 37, 38, 39],\n [40, 41, 42, ..., 57, 58, 59],\n ...,\n" +
            " [1940, 1941, 1942, ..., 1957, 1958, 1959],\n [1960, 1961, 1962, ..., 1977, 1978, 1979],\n [1980, 1981, 1982, ..., 1997, 1998, 1999]], shape=[100,20], dtype=int32)"));
    }

    [Test]
    public void ElementAccessAndItsErrors()
    {
        var t = Tensor.FromArray([1f, 2, 3, 4, 5, 6], 2, 3);
        Assert.That(t[1, 2], Is.EqualTo(6.0));
        Assert.That(t.Get<float>(0, 1), Is.EqualTo(2f));
        Assert.That(Tensor.FromArray([true, false], 2)[0], Is.EqualTo(1.0));
        Assert.That(() => t[2, 0], Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("index 2 out of range for axis 0 of size 2"));
        Assert.That(() => t[0, -1], Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("index -1 out of range for axis 1 of size 3"));
        Assert.That(() => t[1], Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("index has 1 components, tensor has rank 2"));
        Assert.That(() => t.Get<double>(0, 0), Throws.InvalidOperationException.With.Message.Contains("tensor is float32; Get<Double>() needs Single"));
        Assert.That(() => t.ToArray<int>(), Throws.InvalidOperationException.With.Message.Contains("float32"));
        Assert.That(() => t.ToScalar<float>(), Throws.InvalidOperationException.With.Message.Contains("[2,3]"));
        Assert.That(() => Tensor.Scalar(1).ToScalar<long>(), Throws.InvalidOperationException.With.Message.Contains("int32"));
        Assert.That(Tensor.Scalar(4)[Array.Empty<int>()], Is.EqualTo(4.0));
        Assert.That(Tensor.FromArray([1L, -2], 2).ToDoubleArray(), Is.EqualTo(new[] { 1.0, -2 }));
    }

    [Test]
    public void ShapeEqualityFormattingAndArithmetic()
    {
        var s = new Shape(-1, 784);
        Assert.That(s.ToString(), Is.EqualTo("[?,784]"));
        Assert.That(Shape.Scalar.ToString(), Is.EqualTo("[]"));
        Assert.That(s == new Shape(-1, 784), Is.True);
        Assert.That(s != new Shape(1, 784), Is.True);
        Assert.That(s.GetHashCode(), Is.EqualTo(new Shape(-1, 784).GetHashCode()));
        Assert.That(new Shape(3).Equals(null), Is.False);
        Assert.That(new Shape(2, 3), Is.Not.EqualTo(new Shape(3, 2)));
        Assert.That((s.Rank, s.Size, s.IsFullyDefined), Is.EqualTo((2, -1, false)));
        Assert.That(new Shape(2, 3, 4).Size, Is.EqualTo(24));
        Assert.That(Shape.Scalar.Size, Is.EqualTo(1));
        Assert.That(new Shape(5, 0).Size, Is.Zero);
        Assert.That(new Shape(2, 3, 4).Strides(), Is.EqualTo(new[] { 12, 4, 1 }));
        Assert.That(s.IsCompatibleWith(new Shape(32, 784)), Is.True);
        Assert.That(s.IsCompatibleWith(new Shape(32, 783)), Is.False);
        Assert.That(s.IsCompatibleWith(new Shape(784)), Is.False);
        Assert.That(new Shape(2, 3, 4).NormalizeAxis(-1), Is.EqualTo(2));
        Assert.That(new Shape(2, 3, 4).NormalizeAxis(3), Is.EqualTo(-1));
        Assert.That(new Shape(2, 3, 4).NormalizeAxis(-4), Is.EqualTo(-1));
        var dims = new[] { 4, 5 };
        Shape fromArray = dims;
        dims[0] = 9;
        Assert.That(fromArray[0], Is.EqualTo(4), "Shape copies its dimensions");
        Assert.That(fromArray.ToArray(), Is.EqualTo(new[] { 4, 5 }));
        Assert.That(() => new Shape(3, -2), Throws.ArgumentException.With.Message.Contains("invalid dimension -2"));
        Assert.That(() => new Shape(65536, 65536).Size, Throws.TypeOf<ShapeException>().With.Message.Contains("[65536,65536]"));
    }

    [Test]
    public void AsSpanReadsTheStorageWithoutACopy()
    {
        var t = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        var a = t.AsSpan<float>();
        var b = t.AsSpan<float>();
        Assert.That(a.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
        Assert.That(System.Runtime.CompilerServices.Unsafe.AreSame(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a),
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b)), "the same storage, not a copy per call");
        Assert.That(() => t.AsSpan<double>().Length, Throws.InvalidOperationException.With.Message.Contains("float32"));
    }
}
