using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Softmax, log-softmax and softmax cross-entropy over the last axis of any-rank input (rows =
/// product of the leading dimensions), with TensorFlow semantics. These are kernels rather than
/// compositions because the row maximum must be subtracted before exponentiating (stability) and
/// one fused pass is cheaper than five element-wise ones. Their gradients are built from graph
/// ops, so gradients of gradients work. Shape rule: Unchanged for (log-)softmax; cross-entropy
/// drops the class axis (see <see cref="CrossEntropySpecs"/>).
/// </summary>
internal static class NNOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        SoftmaxDef("Softmax", log: false,
            // dx = y ⊙ (dy − Σⱼ dyⱼ·yⱼ)
            g => SoftmaxBackward(g.Graph, g.Result(0), g.Grad(0)!.Value)),
        SoftmaxDef("LogSoftmax", log: true, g =>
        {
            // dx = dy − softmax ⊙ Σⱼ dyⱼ, with softmax = exp(log-softmax): one element-wise op instead of a second row pass.
            var gr = g.Graph;
            var dy = g.Grad(0)!.Value;
            return dy - gr.Exp(g.Result(0)) * gr.ReduceSum(dy, -1, keepDims: true);
        }),
        new OpDef
        {
            Type = "SoftmaxCrossEntropyWithLogits",
            Infer = ctx =>
            {
                ctx.RequireFloating(0);
                var (x, z) = (ctx.Shape(0), ctx.Shape(1));
                if (ctx.DType(1) != ctx.DType(0))
                    throw ctx.Fail($"labels {ctx.DType(1).Name()} {z} must have the dtype of logits {ctx.DType(0).Name()} {x}");
                RequireClassAxis(ctx, x);
                if (!x.IsCompatibleWith(z)) throw ctx.Fail($"labels {z} and logits {x} must have the same shape");
                return CrossEntropySpecs(Merge(x, z), ctx.DType(0));
            },
            Kernel = ctx => CrossEntropyKernel(ctx, sparse: false),
            Gradient = g => CrossEntropyGradient(g, sparse: false),
        },
        new OpDef
        {
            Type = "SparseSoftmaxCrossEntropyWithLogits",
            Infer = ctx =>
            {
                ctx.RequireFloating(0);
                var (x, z) = (ctx.Shape(0), ctx.Shape(1));
                if (ctx.DType(1) is not (DType.Int32 or DType.Int64))
                    throw ctx.Fail($"labels must be int32 or int64 class ids, got {ctx.DType(1).Name()} {z}");
                RequireClassAxis(ctx, x);
                var lead = new Shape(x.Take(x.Rank - 1).ToArray());
                if (!lead.IsCompatibleWith(z)) throw ctx.Fail($"labels {z} must have shape logits.shape[:-1] = {lead} (logits {x})");
                return CrossEntropySpecs(Merge(x, new Shape([.. z, x[^1]])), ctx.DType(0));
            },
            Kernel = ctx => CrossEntropyKernel(ctx, sparse: true),
            Gradient = g => CrossEntropyGradient(g, sparse: true),
            // Fed and constant labels are checked on the host before the run; computed ones on the device.
            PreRunCheck = (op, shapes, host) =>
            {
                if (host(1) is { } labels) CheckLabels(op, labels, shapes[0][^1]);
            },
            Prepare = ctx =>
            {
                if (ctx.InputCheckedBeforeRun(1)) return;
                var (op, shape, classes) = (ctx.Op, ctx.InputShape(1), ctx.InputShape(0)[^1]);
                ctx.Check(CheckKind.IndexInRange, 1, classes, (position, value) => LabelMessage(op, value, position, shape, classes));
            },
        },
    ];

    private static OpDef SoftmaxDef(string type, bool log, Func<GradContext, Output> grad) => new()
    {
        Type = type,
        Infer = ctx =>
        {
            ctx.RequireFloating(0);
            RequireClassAxis(ctx, ctx.Shape(0));
            return ShapeRules.Unchanged(ctx);
        },
        Kernel = ctx =>
        {
            var (rows, cols) = RowsCols(ctx.InputShape(0));
            var y = ctx.Output(0);
            if (rows > 0 && cols > 0) ctx.Backend.Softmax(ctx.Input(0), y, rows, cols, log);
        },
        Gradient = g => [grad(g)],
    };

    private static void RequireClassAxis(InferContext ctx, Shape logits)
    {
        if (logits.Rank == 0) throw ctx.Fail("logits must have rank ≥ 1 (classes on the last axis), got a scalar");
    }

    /// <summary>Output 0: per-row loss, shape logits.shape[:-1]. Output 1: softmax − labels, shaped like logits.</summary>
    /// <remarks>
    /// Output 1 is what the fused kernel produces for free while computing the loss; the gradient
    /// reuses it (one multiply instead of a second softmax pass), which is why the op has two outputs.
    /// </remarks>
    private static OutputSpec[] CrossEntropySpecs(Shape logits, DType dtype) =>
        [new(new Shape(logits.Take(logits.Rank - 1).ToArray()), dtype), new(logits, dtype)];

    /// <summary>The more specific of two compatible shapes, dimension by dimension.</summary>
    private static Shape Merge(Shape a, Shape b) => new(a.Select((d, i) => d >= 0 ? d : b[i]).ToArray());

    private static (int Rows, int Cols) RowsCols(Shape s)
    {
        var rows = 1;
        for (var d = 0; d < s.Rank - 1; d++) rows *= s[d];
        return (rows, s[^1]);
    }

    private static void CrossEntropyKernel(KernelContext ctx, bool sparse)
    {
        var (rows, cols) = RowsCols(ctx.InputShape(0));
        var loss = ctx.Output(0);
        // Inference and evaluation never read the backprop output: the kernel need not write it.
        var backprop = ctx.IsOutputUsed(1) ? ctx.Output(1) : null;
        if (rows > 0) ctx.Backend.SoftmaxCrossEntropy(ctx.Input(0), ctx.Input(1), sparse, rows, cols, loss, backprop);
    }

    private static void CheckLabels(Operation op, Tensor labels, int classes)
    {
        var values = labels.ToDoubleArray();
        for (var i = 0; i < values.Length; i++)
            if (values[i] < 0 || values[i] >= classes)
                throw new InvalidArgumentException(LabelMessage(op, (long)values[i], i, labels.Shape, classes));
    }

    private static string LabelMessage(Operation op, long label, long position, Shape shape, int classes) =>
        $"{op}: label {label} at flat index {position} of labels {shape} is out of range [0, {classes})";

    /// <summary>softmax Jacobian-vector product: y ⊙ (dy − Σⱼ dyⱼ·yⱼ) over the last axis.</summary>
    private static Output SoftmaxBackward(Graph gr, Output y, Output dy) => (dy - gr.ReduceSum(dy * y, -1, keepDims: true)) * y;

    /// <summary>
    /// loss = Σ z·(lse(x) − x), backprop = softmax(x) − z. From the loss: dx = dy[..., None]·backprop
    /// (reusing the fused output; exact when each row of z sums to 1, the op's contract as in TensorFlow,
    /// since in general ∂loss/∂x = (Σz)·softmax − z) and dz = −dy[..., None]·log_softmax(x). From the backprop output,
    /// which the first-order gradient itself reads (so second order arrives here as Grad(1)):
    /// dx = softmax Jacobian applied to it and dz = −it. Both parts are ordinary graph ops, so the
    /// result is differentiable again.
    /// </summary>
    /// <remarks>
    /// Chosen over recomputing Softmax(x) in the first-order gradient: training (first order only)
    /// pays one multiply for dx, and higher orders stay exact because output 1 has its own gradient.
    /// </remarks>
    private static Output?[] CrossEntropyGradient(GradContext g, bool sparse)
    {
        var gr = g.Graph;
        var logits = g.Input(0);
        Output? dLogits = null, dLabels = null;
        if (g.Grad(0) is { } dLoss)
        {
            var d = gr.ExpandDims(dLoss, -1);
            dLogits = d * g.Result(1);
            if (!sparse) dLabels = gr.Neg(d * gr.LogSoftmax(logits));
        }
        if (g.Grad(1) is { } dBackprop)
        {
            var viaSoftmax = SoftmaxBackward(gr, gr.Softmax(logits), dBackprop);
            dLogits = dLogits is { } a ? a + viaSoftmax : viaSoftmax;
            if (!sparse) dLabels = dLabels is { } b ? b - dBackprop : gr.Neg(dBackprop);
        }
        // Sparse labels are integer class ids: no gradient.
        return [dLogits, sparse ? null : dLabels];
    }
}

public sealed partial class Graph
{
    /// <summary>softmax(x)ⱼ = exp(xⱼ − max x) / Σₖ exp(xₖ − max x) over the last axis (tf.nn.softmax).</summary>
    /// <remarks>
    /// Stable for any finite logits (±1000 included). A −∞ logit gets probability 0; a row whose
    /// entries are all −∞, or that contains +∞ or NaN, is NaN where the limit is undefined (as TensorFlow).
    /// </remarks>
    /// <exception cref="ShapeException"><paramref name="logits"/> is a scalar or not floating.</exception>
    public Output Softmax(Output logits, string? name = null) => AddSingleOutput("Softmax", [logits], null, name);

    /// <summary>log_softmax(x)ⱼ = xⱼ − log Σₖ exp(xₖ) over the last axis, computed with the maximum subtracted (tf.nn.log_softmax).</summary>
    /// <remarks>A −∞ logit gives −∞; rows that are all −∞ or contain +∞/NaN give NaN, as for <see cref="Softmax"/>.</remarks>
    /// <exception cref="ShapeException"><paramref name="logits"/> is a scalar or not floating.</exception>
    public Output LogSoftmax(Output logits, string? name = null) => AddSingleOutput("LogSoftmax", [logits], null, name);

    /// <summary>
    /// Per-row cross-entropy −Σⱼ labelsⱼ·log_softmax(logits)ⱼ over the last axis, fused and stable
    /// (tf.nn.softmax_cross_entropy_with_logits). Labels are dense (usually probabilities) of the
    /// logits' shape and dtype; the result has shape logits.shape[:-1].
    /// </summary>
    /// <remarks>
    /// Both inputs get gradients: ∂/∂logits = softmax − labels, ∂/∂labels = −log_softmax(logits).
    /// As in TensorFlow, each row of labels must be a probability distribution: the exact
    /// ∂/∂logits is (Σ labels)·softmax − labels, which is softmax − labels only when the row sums to 1.
    /// A zero label weight on a −∞ logit contributes 0, a positive one +∞.
    /// </remarks>
    /// <exception cref="ShapeException">Shapes or dtypes of labels and logits differ, logits are a scalar or not floating.</exception>
    public Output SoftmaxCrossEntropyWithLogits(Output labels, Output logits, string? name = null) =>
        AddOp("SoftmaxCrossEntropyWithLogits", [logits, labels], null, name)[0];

    /// <summary>
    /// Per-row cross-entropy −log_softmax(logits)[label] for integer class ids
    /// (tf.nn.sparse_softmax_cross_entropy_with_logits). Labels are int32 or int64 of shape
    /// logits.shape[:-1]; the result has that shape too. Only logits get a gradient.
    /// </summary>
    /// <exception cref="ShapeException">Labels have the wrong rank, shape or dtype, or logits are a scalar or not floating.</exception>
    /// <exception cref="InvalidArgumentException">At run time, a label is outside [0, classes): raised before any kernel of the step runs when the labels are fed or constant, otherwise before this node's kernel.</exception>
    public Output SparseSoftmaxCrossEntropyWithLogits(Output labels, Output logits, string? name = null) =>
        AddOp("SparseSoftmaxCrossEntropyWithLogits", [logits, labels], null, name)[0];

    /// <summary>
    /// Element-wise logistic loss −z·log σ(x) − (1 − z)·log(1 − σ(x)) for labels z and logits x
    /// (tf.nn.sigmoid_cross_entropy_with_logits), evaluated as max(x, 0) − x·z + log1p(exp(−|x|)),
    /// which never overflows.
    /// </summary>
    /// <remarks>
    /// A composition, not a kernel. NOTE: max(x, 0) and −|x| are written as selects on x ≥ 0 (as
    /// TensorFlow does) rather than Relu and Abs, so that at x = 0 both pieces take the same branch
    /// and the gradient is σ(0) − z = ½ − z; with Relu'(0) = 0 and sign(0) = 0 it would be −z.
    /// ±∞ logits give NaN where x·z is ∞ − ∞.
    /// </remarks>
    /// <exception cref="ShapeException">Shapes or dtypes of labels and logits differ, or they are not floating.</exception>
    public Output SigmoidCrossEntropyWithLogits(Output labels, Output logits, string? name = null)
    {
        var scope = name ?? "logistic_loss";
        RequireArgument(labels, "SigmoidCrossEntropyWithLogits", nameof(labels));
        RequireArgument(logits, "SigmoidCrossEntropyWithLogits", nameof(logits));
        if (!logits.DType.IsFloating() || labels.DType != logits.DType)
            throw new ShapeException($"SigmoidCrossEntropyWithLogits '{scope}': labels {labels.DType.Name()} {labels.Shape} and logits {logits.DType.Name()} {logits.Shape} must share a floating dtype");
        if (!labels.Shape.IsCompatibleWith(logits.Shape))
            throw new ShapeException($"SigmoidCrossEntropyWithLogits '{scope}': labels {labels.Shape} and logits {logits.Shape} must have the same shape");
        using (NameScope(scope))
        {
            var zeros = ZerosLike(logits);
            var nonNegative = GreaterEqual(logits, zeros);
            var relu = Select(nonNegative, logits, zeros);
            var negAbs = Select(nonNegative, Neg(logits), logits);
            return relu - logits * labels + Log1p(Exp(negAbs));
        }
    }
}
