namespace Nabla;

public sealed partial class Graph
{
    /// <summary>softmax(x)ⱼ = exp(xⱼ − max x) / Σₖ exp(xₖ − max x) over the last axis (tf.nn.softmax).</summary>
    /// <remarks>
    /// Stable for any finite logits (±1000 included). A −∞ logit gets probability 0; a row whose
    /// entries are all −∞, or that contains +∞ or NaN, is NaN where the limit is undefined (as TensorFlow).
    /// </remarks>
    /// <exception cref="ShapeException"><paramref name="logits"/> is a scalar or not floating.</exception>
    public Output Softmax(Output logits, string? name = null) => Add1("Softmax", [logits], null, name);

    /// <summary>log_softmax(x)ⱼ = xⱼ − log Σₖ exp(xₖ) over the last axis, computed with the maximum subtracted (tf.nn.log_softmax).</summary>
    /// <remarks>A −∞ logit gives −∞; rows that are all −∞ or contain +∞/NaN give NaN, as for <see cref="Softmax"/>.</remarks>
    /// <exception cref="ShapeException"><paramref name="logits"/> is a scalar or not floating.</exception>
    public Output LogSoftmax(Output logits, string? name = null) => Add1("LogSoftmax", [logits], null, name);

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
