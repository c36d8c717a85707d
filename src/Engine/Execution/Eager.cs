namespace Nabla;

/// <summary>
/// Host-side tensor utilities in the style of TensorFlow 2's eager mode: each call builds a small
/// graph around the given tensors, runs it once on a device (default <see cref="Device.Cpu"/>) and
/// returns the result. Convenient for data preparation and exploration; training should build one
/// graph and reuse its session, since every eager call compiles a new plan.
/// </summary>
public static class Eager
{
    /// <summary>Evaluates <paramref name="build"/> on constants holding <paramref name="inputs"/>.</summary>
    public static Tensor Run(Func<Graph, Output[], Output> build, Tensor[] inputs, Device? device = null) =>
        RunMany((g, xs) => [build(g, xs)], inputs, device)[0];

    /// <summary>Evaluates a builder with several outputs (split, unstack).</summary>
    public static Tensor[] RunMany(Func<Graph, Output[], Output[]> build, Tensor[] inputs, Device? device = null)
    {
        var g = new Graph();
        var xs = inputs.Select((t, i) => g.Constant(t, $"input_{i}")).ToArray();
        var ys = build(g, xs);
        using var session = new Session(g, device ?? Device.Cpu);
        return session.Run(ys);
    }
}

public sealed partial class Tensor
{
    /// <summary>Converts the dtype (float → int truncates toward zero).</summary>
    public Tensor Cast(DType dtype) => Eager.Run((g, x) => g.Cast(x[0], dtype), [this]);

    /// <summary>Same elements in a new shape; one dimension may be −1.</summary>
    public Tensor Reshape(params int[] shape) => Eager.Run((g, x) => g.Reshape(x[0], shape), [this]);

    /// <summary>Permutes axes (default: reverses them).</summary>
    public Tensor Transpose(params int[] perm) => Eager.Run((g, x) => g.Transpose(x[0], perm.Length == 0 ? null : perm), [this]);

    /// <summary>Removes the given size-1 axes (all size-1 axes when none are given).</summary>
    public Tensor Squeeze(params int[] axes) => Eager.Run((g, x) => g.Squeeze(x[0], axes.Length == 0 ? null : axes), [this]);

    /// <summary>Element-wise cosine (floating dtypes).</summary>
    public Tensor Cos() => Eager.Run((g, x) => g.Cos(x[0]), [this]);

    /// <summary>Σ over axes (null = all).</summary>
    public Tensor Sum(int[]? axes = null, bool keepDims = false) => Eager.Run((g, x) => g.ReduceSum(x[0], axes, keepDims), [this]);

    /// <summary>Mean over axes (null = all).</summary>
    public Tensor Mean(int[]? axes = null, bool keepDims = false) => Eager.Run((g, x) => g.ReduceMean(x[0], axes, keepDims), [this]);

    /// <summary>Population standard deviation over axes (null = all).</summary>
    public Tensor Std(int[]? axes = null, bool keepDims = false) => Eager.Run((g, x) => g.ReduceStd(x[0], axes, keepDims), [this]);

    /// <summary>Euclidean norm over axes (null = all).</summary>
    public Tensor L2Norm(int[]? axes = null, bool keepDims = false) => Eager.Run((g, x) => g.L2Norm(x[0], axes, keepDims), [this]);

    /// <summary>Matrix product op(a)·op(b) (batched for rank ≥ 3).</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false) =>
        Eager.Run((g, x) => g.MatMul(x[0], x[1], transposeA, transposeB), [a, b]);

    /// <summary>Element-wise product with broadcasting.</summary>
    public static Tensor Multiply(Tensor a, Tensor b) => Eager.Run((g, x) => g.Mul(x[0], x[1]), [a, b]);

    /// <summary>Joins tensors along an existing axis.</summary>
    public static Tensor Concat(Tensor[] values, int axis) => Eager.Run((g, x) => g.Concat(x, axis), values);

    /// <summary>Joins tensors along a new axis.</summary>
    public static Tensor Stack(Tensor[] values, int axis = 0) => Eager.Run((g, x) => g.Stack(x, axis), values);

    /// <summary>Splits into <paramref name="numSplit"/> equal pieces along an axis.</summary>
    public Tensor[] Split(int numSplit, int axis = 0) => Eager.RunMany((g, x) => g.Split(x[0], numSplit, axis), [this]);

    /// <summary>Splits into pieces of the given sizes (one may be −1) along an axis.</summary>
    public Tensor[] Split(int[] sizes, int axis = 0) => Eager.RunMany((g, x) => g.Split(x[0], sizes, axis), [this]);
}
