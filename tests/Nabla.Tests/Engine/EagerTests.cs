using NUnit.Framework;

namespace Nabla.Tests.Engine;

/// <summary>SEEDS.md §1 as host-side (eager) tensor utilities, with hand-computed expectations.</summary>
public class EagerTests
{
    private static readonly Tensor M = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);

    [Test]
    public void ShapeUtilities()
    {
        Assert.That(M.Transpose().ToArray<float>(), Is.EqualTo(new[] { 1f, 4f, 2f, 5f, 3f, 6f }));
        Assert.That(M.Transpose().Shape, Is.EqualTo(new Shape(3, 2)));
        Assert.That(M.Reshape(3, -1).Shape, Is.EqualTo(new Shape(3, 2)));
        Assert.That(M.Reshape(1, 2, 1, 3).Squeeze(0, 2).Shape, Is.EqualTo(new Shape(2, 3)));
        Assert.That(M.Reshape(1, 6).Squeeze().Shape, Is.EqualTo(new Shape(6)));
        Assert.That(M.Cast(DType.Int64).ToArray<long>(), Is.EqualTo(new long[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(Tensor.FromArray([-1.7f, 2.9f], 2).Cast(DType.Int32).ToArray<int>(), Is.EqualTo(new[] { -1, 2 }));
    }

    [Test]
    public void Reductions()
    {
        Assert.That(M.Sum().ToScalar<float>(), Is.EqualTo(21f));
        // cos over linspace(0, π, 3) = [1, 0, −1].
        Assert.That(Tensor.Linspace(0, Math.PI, 3, DType.Float64).Cos().ToArray<double>(), Is.EqualTo(new[] { 1.0, 0.0, -1.0 }).Within(1e-15));
        Assert.That(M.Sum([0]).ToArray<float>(), Is.EqualTo(new[] { 5f, 7f, 9f }));
        Assert.That(M.Mean([1]).ToArray<float>(), Is.EqualTo(new[] { 2f, 5f }));
        // Population std of each column: values differ by 3, so std = 1.5.
        Assert.That(M.Std([0]).ToArray<float>(), Is.EqualTo(new[] { 1.5f, 1.5f, 1.5f }));
        // ‖row 0‖ = √14, ‖row 1‖ = √77.
        Assert.That(M.L2Norm([1]).ToArray<float>(), Is.EqualTo(new[] { MathF.Sqrt(14), MathF.Sqrt(77) }).Within(1e-6));
    }

    [Test]
    public void ProductsAndJoins()
    {
        // M·Mᵀ = [[14, 32], [32, 77]].
        Assert.That(Tensor.MatMul(M, M, transposeB: true).ToArray<float>(), Is.EqualTo(new[] { 14f, 32f, 32f, 77f }));
        // Mᵀ·M is 3×3; its [0,0] entry is 1·1 + 4·4 = 17.
        Assert.That(Tensor.MatMul(M, M, transposeA: true)[0, 0], Is.EqualTo(17));
        Assert.That(Tensor.Multiply(M, Tensor.FromArray([1f, 0f, -1f], 3)).ToArray<float>(), Is.EqualTo(new[] { 1f, 0f, -3f, 4f, 0f, -6f }));
        Assert.That(Tensor.Concat([M, M], 0).Shape, Is.EqualTo(new Shape(4, 3)));
        Assert.That(Tensor.Stack([M, M], 1).Shape, Is.EqualTo(new Shape(2, 2, 3)));
        var parts = M.Split(3, axis: 1);
        Assert.That(parts.Select(p => p.ToArray<float>()), Is.EqualTo(new[] { new[] { 1f, 4f }, new[] { 2f, 5f }, new[] { 3f, 6f } }));
        Assert.That(M.Split([1, -1], axis: 1)[1].Shape, Is.EqualTo(new Shape(2, 2)));
    }

    [Test]
    public void ErrorsAreTheGraphErrors()
    {
        Assert.That(() => Tensor.MatMul(M, M), Throws.TypeOf<ShapeException>().With.Message.Contains("inner dimensions differ: [2,3] x [2,3]"));
        Assert.That(() => M.Reshape(4, -1), Throws.TypeOf<ShapeException>());
        Assert.That(() => M.Sum([2]), Throws.TypeOf<ShapeException>().With.Message.Contains("axis 2 is out of range"));
    }
}
