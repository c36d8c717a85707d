using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Fused batch normalisation over the last (channel) axis (tf.compat.v1.nn.fused_batch_norm, NHWC) and its
/// gradient. A kernel rather than a composition: the composition (mean, subtract, square, mean, rsqrt, scale,
/// shift) is seven passes over x forward and about twice that backward; the kernel makes three forward
/// (mean, variance, normalise) and three backward.
/// </summary>
/// <remarks>
/// <para><b>Which variance is returned.</b> Normalisation uses the biased batch variance Σ(x − μ)²/n. Output 2 is the
/// Bessel-corrected n/(n − 1) times it (the biased one when n = 1), as TensorFlow's fused kernel returns, and TF2 Keras
/// BatchNormalization (fused path, <c>_bessels_correction_test_only = True</c>) feeds exactly that returned variance
/// to its moving-variance update. Keras's non-fused path (inputs that are not rank 4) uses the biased variance instead;
/// this engine uses the fused semantics for every rank.</para>
/// <para>Shape rule: x [..., C] unchanged for y; scale, offset, mean and variance are [C], as are the statistics.</para>
/// </remarks>
internal static class BatchNormOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef
        {
            Type = "FusedBatchNorm",
            Infer = ctx =>
            {
                var c = ChannelRule(ctx, 0, [1, 2, 3, 4], "scale, offset, mean and variance");
                return [new(ctx.Shape(0), ctx.DType(0)), new(c, ctx.DType(0)), new(c, ctx.DType(0))];
            },
            Kernel = ctx =>
            {
                var (rows, channels) = RowsChannels(ctx.InputShape(0));
                if (channels == 0) return;
                ctx.Backend.BatchNorm(ctx.Input(0), ctx.Input(1), ctx.Input(2), ctx.Input(3), ctx.Input(4), ctx.Attrs.Double("epsilon"), ctx.Attrs.Bool("training"),
                    rows, channels, ctx.Output(0), ctx.Output(1), ctx.Output(2));
            },
            Gradient = Gradient,
        },
        new OpDef
        {
            // Inputs: dy, x, scale, mean, variance (the last two are read in inference mode only). Outputs: dx, dscale, doffset.
            Type = "FusedBatchNormGrad",
            Infer = ctx =>
            {
                var c = ChannelRule(ctx, 1, [2, 3, 4], "scale, mean and variance");
                if (!ctx.Shape(0).IsCompatibleWith(ctx.Shape(1))) throw ctx.Fail($"the gradient dy {ctx.Shape(0)} must have the shape of x {ctx.Shape(1)}");
                ctx.RequireSameDType(0, 1);
                return [new(ctx.Shape(1), ctx.DType(1)), new(c, ctx.DType(1)), new(c, ctx.DType(1))];
            },
            Kernel = ctx =>
            {
                var (rows, channels) = RowsChannels(ctx.InputShape(1));
                if (channels == 0) return;
                ctx.Backend.BatchNormGrad(ctx.Input(0), ctx.Input(1), ctx.Input(2), ctx.Input(3), ctx.Input(4), ctx.Attrs.Double("epsilon"), ctx.Attrs.Bool("training"),
                    rows, channels, ctx.Output(0), ctx.Output(1), ctx.Output(2));
            },
            NotDifferentiable = "second-order gradients of batch normalisation are not implemented",
        },
    ];

    /// <summary>x (input <paramref name="xIndex"/>) is floating with rank ≥ 2; the per-channel inputs share its dtype and are [C].</summary>
    private static Shape ChannelRule(InferContext ctx, int xIndex, int[] perChannel, string names)
    {
        ctx.RequireFloating(xIndex);
        var x = ctx.Shape(xIndex);
        if (x.Rank < 2) throw ctx.Fail($"x must have rank ≥ 2 [batch, ..., channels] (channels last), got {x}");
        var c = x[^1];
        foreach (var i in perChannel)
        {
            ctx.RequireSameDType(xIndex, i);
            var s = ctx.Shape(i);
            if (s.Rank != 1 || (c >= 0 && s[0] >= 0 && s[0] != c))
                throw ctx.Fail($"{names} must be [{(c < 0 ? "?" : c)}] (one per channel of x {x}), input {i} is {s}");
            if (c < 0) c = s[0];
        }
        return new Shape(c);
    }

    private static (int Rows, int Channels) RowsChannels(Shape x) => ((int)(x.ElementCount / Math.Max(x[^1], 1)), x[^1]);

    /// <summary>
    /// dx, dγ, dβ from the fused gradient kernel. Training: the statistics outputs depend on x as well
    /// (∂μ/∂x = 1/n, ∂σ²ᵤ/∂x = 2(x − μ)/(n − 1)), so gradients flowing into them are added to dx, and mean and
    /// variance get none (they are not read). Inference: y depends on the given statistics, with
    /// ∂/∂μ = −γ·r·Σdy = −γ·r·dβ and ∂/∂σ² = −½·γ·r²·Σdy·x̂ = −½·γ·r²·dγ (r = 1/√(σ² + ε)), and outputs 1 and 2
    /// are copies of them.
    /// </summary>
    private static Output?[] Gradient(GradContext g)
    {
        var gr = g.Graph;
        var (x, scale, mean, variance) = (g.Input(0), g.Input(1), g.Input(3), g.Input(4));
        var (epsilon, training) = (g.Attrs.Double("epsilon"), g.Attrs.Bool("training"));
        var grad = gr.AddOp("FusedBatchNormGrad", [g.GradOrZeros(0), x, scale, mean, variance], new Attributes().Set("epsilon", epsilon).Set("training", training));
        Output dx = grad[0], dScale = grad[1], dOffset = grad[2];
        if (training)
        {
            if (g.Grad(1) is null && g.Grad(2) is null) return [dx, dScale, dOffset, null, null];
            var rank = x.Shape.Rank;
            var n = gr.ReducedCount(x, Enumerable.Range(0, rank - 1).ToArray(), x.DType);
            if (g.Grad(1) is { } dMean) dx += dMean / n;
            if (g.Grad(2) is { } dVar)
            {
                var one = gr.Scalar(1, x.DType);
                dx += dVar * gr.Scalar(2, x.DType) * (x - g.Result(1)) / gr.Maximum(n - one, one);
            }
            return [dx, dScale, dOffset, null, null];
        }
        var r = gr.Rsqrt(variance + gr.Scalar(epsilon, x.DType));
        Output dMu = gr.Neg(scale * r * dOffset), dSigma = gr.Scalar(-0.5, x.DType) * scale * r * r * dScale;
        if (g.Grad(1) is { } m) dMu += m;
        if (g.Grad(2) is { } v) dSigma += v;
        return [dx, dScale, dOffset, dMu, dSigma];
    }
}

public sealed partial class Graph
{
    /// <summary>
    /// Batch normalisation over the last axis of x [..., C] (tf.compat.v1.nn.fused_batch_norm with NHWC):
    /// y = (x − μ)·scale / √(σ² + ε) + offset. With <paramref name="training"/>, μ and σ² are the batch mean and
    /// biased variance per channel (<paramref name="mean"/> and <paramref name="variance"/> are not read); otherwise
    /// they are <paramref name="mean"/> and <paramref name="variance"/> (the moving statistics).
    /// Returns (y, batch mean, batch variance); in training the variance returned is Bessel-corrected, n/(n − 1)
    /// times the one used to normalise (as TensorFlow's, which Keras feeds to its moving average); in inference the
    /// two statistics are the given ones.
    /// </summary>
    /// <remarks>
    /// Differentiable in x, scale and offset (the training gradient includes the statistics' dependence on x), and in
    /// inference also in mean and variance. A channel containing NaN/±∞ gives NaN statistics and outputs in training.
    /// An empty batch gives NaN statistics in training.
    /// </remarks>
    /// <exception cref="ShapeException">x is not floating of rank ≥ 2, or the per-channel inputs are not [C] of x's dtype.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is negative or not finite.</exception>
    public (Output Y, Output BatchMean, Output BatchVariance) FusedBatchNorm(Output x, Output scale, Output offset, Output mean, Output variance,
        double epsilon = 1e-3, bool training = true, string? name = null)
    {
        if (!(epsilon >= 0) || double.IsInfinity(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"FusedBatchNorm '{name ?? "FusedBatchNorm"}': epsilon must be finite and ≥ 0");
        var op = AddOp("FusedBatchNorm", [x, scale, offset, mean, variance], new Attributes().Set("epsilon", epsilon).Set("training", training), name);
        return (op[0], op[1], op[2]);
    }

    /// <summary>The gradient of <see cref="FusedBatchNorm"/> with respect to y: (dx, dscale, doffset).</summary>
    internal (Output Dx, Output DScale, Output DOffset) FusedBatchNormGrad(Output dy, Output x, Output scale, Output mean, Output variance, double epsilon, bool training, string? name = null)
    {
        var op = AddOp("FusedBatchNormGrad", [dy, x, scale, mean, variance], new Attributes().Set("epsilon", epsilon).Set("training", training), name);
        return (op[0], op[1], op[2]);
    }
}
