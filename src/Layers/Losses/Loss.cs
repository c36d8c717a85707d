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
    /// "huber"/"huber_loss", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy" (case-insensitive).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static Loss FromName(string name) => name.ToLowerInvariant() switch
    {
        "mse" or "mean_squared_error" => new MeanSquaredError(),
        "mae" or "mean_absolute_error" => new MeanAbsoluteError(),
        "huber" or "huber_loss" => new Huber(),
        "binary_crossentropy" or "bce" => new BinaryCrossentropy(),
        "categorical_crossentropy" => new CategoricalCrossentropy(),
        "sparse_categorical_crossentropy" => new SparseCategoricalCrossentropy(),
        _ => throw new ArgumentException($"unknown loss '{name}'; known: mse, mae, huber, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy", nameof(name)),
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

/// <summary>
/// The Huber loss, quadratic for small errors and linear for large ones (keras.losses.Huber):
/// mean over the last axis of ½·e² where |e| ≤ δ and δ·|e| − ½·δ² elsewhere, with e = y_pred − y_true.
/// </summary>
/// <remarks>
/// Huber (1964), "Robust estimation of a location parameter"; Keras's formula and default δ = 1. Its
/// gradient is e clipped to [−δ, δ], which is why DQN uses it (Mnih et al. 2015 clip the TD error to
/// [−1, 1]). NaN in either input gives NaN; an infinite error gives an infinite loss.
/// </remarks>
public sealed class Huber(double delta = 1.0) : Loss("huber_loss")
{
    /// <summary>Where the loss turns from quadratic to linear (must be positive and finite).</summary>
    public double Delta { get; } = double.IsFinite(delta) && delta > 0 ? delta
        : throw new ArgumentOutOfRangeException(nameof(delta), delta, "Huber: delta must be positive and finite");

    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred)
    {
        RequireSameShape(yTrue, yPred);
        var g = yPred.Graph;
        var error = yPred - AsPredictionType(yTrue, yPred);
        var absError = g.Abs(error);
        var quadratic = 0.5 * g.Square(error);
        var linear = Delta * absError - 0.5 * Delta * Delta;
        return g.ReduceMean(g.Where(g.LessEqual(absError, g.Scalar(Delta, yPred.DType)), quadratic, linear), -1);
    }
}
