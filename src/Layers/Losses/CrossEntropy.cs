namespace Nabla.Layers;

/// <summary>
/// Binary cross-entropy averaged over the last axis (keras.losses.BinaryCrossentropy).
/// </summary>
/// <remarks>
/// Probabilities are clipped to [ε, 1 − ε] with ε = 1e−7 as in Keras. As tf.keras does in graph mode,
/// when y_pred is the output of a Sigmoid node the loss is computed from that node's input with the
/// stable logistic-loss formula instead, so saturated sigmoids still give finite, exact gradients.
/// </remarks>
public sealed class BinaryCrossentropy(bool fromLogits = false) : Loss("binary_crossentropy")
{
    /// <summary>Keras's backend epsilon.</summary>
    internal const double Epsilon = 1e-7;

    /// <summary>Whether y_pred holds logits rather than probabilities.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred)
    {
        RequireSameShape(yTrue, yPred);
        var g = yPred.Graph;
        var z = AsPredictionType(yTrue, yPred);
        Output perElement;
        if (FromLogits) perElement = g.SigmoidCrossEntropyWithLogits(z, yPred);
        else if (yPred.Op.Type == "Sigmoid") perElement = g.SigmoidCrossEntropyWithLogits(z, yPred.Op.Inputs[0]);
        else
        {
            var p = g.Clip(yPred, Epsilon, 1 - Epsilon);
            perElement = -(z * g.Log(p + Epsilon) + (1.0 - z) * g.Log(1.0 - p + Epsilon));
        }
        return g.ReduceMean(perElement, -1);
    }
}

/// <summary>Cross-entropy −Σ y_true·log(y_pred) over the last axis for one-hot or soft labels (keras.losses.CategoricalCrossentropy).</summary>
/// <remarks>
/// Probabilities are renormalised to sum to 1 and clipped to [1e−7, 1 − 1e−7] as in Keras; when y_pred is
/// a Softmax node (as tf.keras detects in graph mode) the fused, stable softmax cross-entropy on its logits is used.
/// </remarks>
public sealed class CategoricalCrossentropy(bool fromLogits = false) : Loss("categorical_crossentropy")
{
    /// <summary>Whether y_pred holds logits rather than probabilities.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred)
    {
        RequireSameShape(yTrue, yPred);
        var g = yPred.Graph;
        var labels = AsPredictionType(yTrue, yPred);
        if (FromLogits) return g.SoftmaxCrossEntropyWithLogits(labels, yPred);
        if (yPred.Op.Type == "Softmax") return g.SoftmaxCrossEntropyWithLogits(labels, yPred.Op.Inputs[0]);
        var p = yPred / g.ReduceSum(yPred, [-1], keepDims: true);
        p = g.Clip(p, BinaryCrossentropy.Epsilon, 1 - BinaryCrossentropy.Epsilon);
        return -g.ReduceSum(labels * g.Log(p), -1);
    }
}

/// <summary>Cross-entropy for integer class ids (keras.losses.SparseCategoricalCrossentropy).</summary>
/// <remarks>
/// Labels have shape y_pred.shape[:-1] (or a trailing size-1 axis, squeezed as Keras does); float labels are
/// cast to int32. A label outside [0, classes) raises <see cref="InvalidArgumentException"/> before the step runs.
/// Probabilities are clipped and their log used as logits (Keras's approach); a Softmax node's logits are used directly.
/// </remarks>
public sealed class SparseCategoricalCrossentropy(bool fromLogits = false) : Loss("sparse_categorical_crossentropy")
{
    /// <summary>Whether y_pred holds logits rather than probabilities.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred)
    {
        var g = yPred.Graph;
        var labels = SparseLabels(yTrue, yPred, GetType().Name, Name);
        Output logits;
        if (FromLogits) logits = yPred;
        else if (yPred.Op.Type == "Softmax") logits = yPred.Op.Inputs[0];
        else logits = g.Log(g.Clip(yPred, BinaryCrossentropy.Epsilon, 1 - BinaryCrossentropy.Epsilon));
        return g.SparseSoftmaxCrossEntropyWithLogits(labels, logits);
    }

    /// <summary>Integer labels of shape y_pred.shape[:-1]: squeezes a trailing size-1 axis and casts floats to int32.</summary>
    internal static Output SparseLabels(Output yTrue, Output yPred, string type, string name)
    {
        var g = yPred.Graph;
        if (yTrue.Shape.Rank == yPred.Shape.Rank && yTrue.Shape.Rank > 0 && yTrue.Shape[^1] == 1)
            yTrue = g.Squeeze(yTrue, [-1]);
        if (yTrue.Shape.Rank != yPred.Shape.Rank - 1)
            throw new ShapeException($"{type} '{name}': sparse labels {yTrue.Shape} must have the shape of y_pred {yPred.Shape} without its last axis");
        return yTrue.DType.IsInteger() ? yTrue : g.Cast(yTrue, DType.Int32);
    }
}
