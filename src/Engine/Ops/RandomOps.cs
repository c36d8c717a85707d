using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Random tensors from the counter-based Philox 4x32-10 stream. The key is derived from the graph
/// seed and the op seed; each run of the op in a session advances its counter, so successive runs
/// draw fresh values while two sessions (or two devices) with the same seeds draw the same ones.
/// </summary>
internal static class RandomOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef
        {
            Type = "Random",
            Infer = ctx =>
            {
                var dtype = ctx.Attrs.Get<DType>("dtype");
                if (!dtype.IsFloating()) throw ctx.Fail($"random values must be float32 or float64, got {dtype.Name()}");
                var shape = ctx.NumInputs == 1 ? ctx.Shape(0) : ctx.Attrs.Get<Shape>("shape");
                return InferContext.One(shape, dtype);
            },
            Kernel = ctx =>
            {
                var y = ctx.Output(0);
                ctx.Backend.Random(ctx.Attrs.Get<RandomDistribution>("dist"), ctx.Attrs.Get<ulong>("key"), ctx.State.NextCounter(ctx.Op),
                    ctx.Attrs.Double("a"), ctx.Attrs.Double("b"), y);
            },
            // The optional input only supplies a run-time shape, so its gradient is zero (as ZerosLike/OnesLike),
            // not undefined: x + RandomNormalLike(x) (Gaussian noise) must differentiate to 1.
            Gradient = g => new Output?[g.Op.Inputs.Count],
            IsStateful = true,
        },
    ];

}

public sealed partial class Graph
{
    internal Output Random(RandomDistribution dist, Shape shape, double a, double b, ulong? seed, DType dtype, string? name, Output? like = null)
    {
        // Without an op seed the node's creation index stands in, so every op draws its own stream.
        var opSeed = seed ?? (ulong)(Operations.Count + 1) * 0x9E37;
        var attrs = new Attributes().Set("dist", dist).Set("a", a).Set("b", b).Set("dtype", dtype)
            .Set("key", Philox.Key(Seed, opSeed));
        if (like is null)
        {
            if (!shape.IsFullyDefined) throw new ShapeException($"Random '{name}': shape {shape} must be fully defined (use a *Like overload for dynamic shapes)");
            attrs.Set("shape", shape);
            return AddSingleOutput("Random", [], attrs, name ?? dist.ToString());
        }
        return AddSingleOutput("Random", [like.Value], attrs, name ?? dist.ToString());
    }

    /// <summary>Uniform values on [min, max) (tf.random.uniform).</summary>
    public Output RandomUniform(Shape shape, double min = 0, double max = 1, ulong? seed = null, DType dtype = DType.Float32, string? name = null) =>
        Random(RandomDistribution.Uniform, shape, min, max, seed, dtype, name ?? "random_uniform");

    /// <summary>Normal values (tf.random.normal).</summary>
    public Output RandomNormal(Shape shape, double mean = 0, double stddev = 1, ulong? seed = null, DType dtype = DType.Float32, string? name = null) =>
        Random(RandomDistribution.Normal, shape, mean, stddev, seed, dtype, name ?? "random_normal");

    /// <summary>Normal values redrawn beyond two standard deviations (tf.random.truncated_normal).</summary>
    public Output TruncatedNormal(Shape shape, double mean = 0, double stddev = 1, ulong? seed = null, DType dtype = DType.Float32, string? name = null) =>
        Random(RandomDistribution.TruncatedNormal, shape, mean, stddev, seed, dtype, name ?? "truncated_normal");

    /// <summary>Uniform values shaped like <paramref name="like"/> at run time (unknown batch dims allowed).</summary>
    public Output RandomUniformLike(Output like, double min = 0, double max = 1, ulong? seed = null, string? name = null)
    {
        RequireArgument(like, "RandomUniformLike", nameof(like));
        return Random(RandomDistribution.Uniform, like.Shape, min, max, seed, like.DType.IsFloating() ? like.DType : DType.Float32, name ?? "random_uniform", like);
    }

    /// <summary>Normal values shaped like <paramref name="like"/> at run time.</summary>
    public Output RandomNormalLike(Output like, double mean = 0, double stddev = 1, ulong? seed = null, string? name = null)
    {
        RequireArgument(like, "RandomNormalLike", nameof(like));
        return Random(RandomDistribution.Normal, like.Shape, mean, stddev, seed, like.DType.IsFloating() ? like.DType : DType.Float32, name ?? "random_normal", like);
    }

    /// <summary>
    /// Inverted-dropout mask shaped like <paramref name="x"/>: 1/(1−rate) with probability 1−rate, else 0.
    /// The same seed gives the same mask on every device.
    /// </summary>
    public Output DropoutMask(Output x, double rate, ulong? seed = null, string? name = null)
    {
        // Written as !(in range) so that NaN, which fails every comparison, is rejected too.
        RequireArgument(x, "DropoutMask", nameof(x));
        if (!(rate >= 0 && rate < 1)) throw new ShapeException($"DropoutMask '{name ?? "dropout"}': rate must be in [0, 1), got {rate}");
        using (NameScope(name ?? "dropout"))
        {
            var u = RandomUniformLike(x, 0, 1, seed);
            var keep = Cast(GreaterEqual(u, Scalar(rate, u.DType)), x.DType);
            return keep * (1.0 / (1.0 - rate));
        }
    }

    /// <summary>Inverted dropout: x · mask (tf.nn.dropout); gradients flow through the same mask.</summary>
    public Output Dropout(Output x, double rate, ulong? seed = null, string? name = null) =>
        rate == 0 ? x : Mul(x, DropoutMask(x, rate, seed, name));
}
