namespace Nabla.Layers;

/// <summary>
/// A Keras loss: <see cref="Call"/> gives one value per sample (averaged over the last axis, as Keras's
/// loss functions do) and <see cref="Compute"/> averages those over the batch (Keras's default
/// "sum over batch size" reduction).
/// </summary>
public abstract class Loss
{
    /// <summary>Creates a loss with its Keras name (used in logs).</summary>
    protected Loss(string name) => Name = name;

    /// <summary>Keras name, e.g. "mean_squared_error".</summary>
    public string Name { get; }

    /// <summary>Per-sample loss, shape y_pred.shape[:-1].</summary>
    public abstract Output Call(Output yTrue, Output yPred);

    /// <summary>The scalar mean of <see cref="Call"/> over every sample.</summary>
    public Output Compute(Output yTrue, Output yPred)
    {
        var g = yPred.Graph;
        using (g.NameScope(Name))
            return g.ReduceMean(Call(yTrue, yPred));
    }

    /// <summary>
    /// A loss by Keras name: "mse"/"mean_squared_error", "mae"/"mean_absolute_error",
    /// "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy" (case-insensitive).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static Loss FromName(string name) => name.ToLowerInvariant() switch
    {
        "mse" or "mean_squared_error" => new MeanSquaredError(),
        "mae" or "mean_absolute_error" => new MeanAbsoluteError(),
        "binary_crossentropy" or "bce" => new BinaryCrossentropy(),
        "categorical_crossentropy" => new CategoricalCrossentropy(),
        "sparse_categorical_crossentropy" => new SparseCategoricalCrossentropy(),
        _ => throw new ArgumentException($"unknown loss '{name}'; known: mse, mae, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy", nameof(name)),
    };

    /// <summary>Casts labels to the prediction's dtype (Keras casts y_true to y_pred's dtype).</summary>
    internal static Output AsPredictionType(Output yTrue, Output yPred) =>
        yTrue.DType == yPred.DType ? yTrue : yTrue.Graph.Cast(yTrue, yPred.DType);

    /// <summary>Rejects a pair of shapes that cannot be compared element-wise, at graph-build time.</summary>
    internal void RequireSameShape(Output yTrue, Output yPred)
    {
        if (!yTrue.Shape.IsCompatibleWith(yPred.Shape))
            throw new ShapeException($"{GetType().Name} '{Name}': y_true {yTrue.Shape} and y_pred {yPred.Shape} must have the same shape");
    }
}

/// <summary>mean((y_pred − y_true)², axis = −1).</summary>
public sealed class MeanSquaredError() : Loss("mean_squared_error")
{
    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred)
    {
        RequireSameShape(yTrue, yPred);
        var g = yPred.Graph;
        return g.ReduceMean(g.Square(yPred - AsPredictionType(yTrue, yPred)), -1);
    }
}

/// <summary>mean(|y_pred − y_true|, axis = −1).</summary>
public sealed class MeanAbsoluteError() : Loss("mean_absolute_error")
{
    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred)
    {
        RequireSameShape(yTrue, yPred);
        var g = yPred.Graph;
        return g.ReduceMean(g.Abs(yPred - AsPredictionType(yTrue, yPred)), -1);
    }
}
