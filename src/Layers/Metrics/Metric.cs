namespace Nabla.Layers;

/// <summary>
/// A Keras metric: <see cref="Call"/> gives one value per sample; the training loop averages it over
/// the batch and over the epoch, weighting each batch by its size (Keras's stateful Mean).
/// </summary>
public abstract class Metric
{
    /// <summary>Creates a metric with the name it is logged under.</summary>
    protected Metric(string name) => Name = name;

    /// <summary>The name in logs and History ("accuracy", "mae").</summary>
    public string Name { get; }

    /// <summary>Per-sample values (float32 or y_pred's dtype), shape y_pred.shape[:-1].</summary>
    public abstract Output Call(Output yTrue, Output yPred);

    /// <summary>
    /// Resolves a Keras metric name. "accuracy"/"acc" is chosen as Keras does from the shapes: a y_pred
    /// with last dimension 1 → binary accuracy; y_true of lower rank than y_pred (or last dimension 1
    /// against several classes) → sparse categorical accuracy; otherwise categorical accuracy.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Metric FromName(string name, Shape yTrue, Shape yPred)
    {
        switch (name.ToLowerInvariant())
        {
            case "accuracy" or "acc":
                var predLast = yPred.Rank > 0 ? yPred[^1] : 1;
                var trueLast = yTrue.Rank > 0 ? yTrue[^1] : 1;
                if (predLast == 1) return new BinaryAccuracy(name: name);
                if (yTrue.Rank < yPred.Rank || (trueLast == 1 && predLast > 1)) return new SparseCategoricalAccuracy(name);
                return new CategoricalAccuracy(name);
            case "binary_accuracy": return new BinaryAccuracy(name: name);
            case "categorical_accuracy": return new CategoricalAccuracy(name);
            case "sparse_categorical_accuracy": return new SparseCategoricalAccuracy(name);
            case "mae" or "mean_absolute_error": return new LossMetric(new MeanAbsoluteError(), name);
            case "mse" or "mean_squared_error": return new LossMetric(new MeanSquaredError(), name);
            case "binary_crossentropy": return new LossMetric(new BinaryCrossentropy(), name);
            case "categorical_crossentropy": return new LossMetric(new CategoricalCrossentropy(), name);
            case "sparse_categorical_crossentropy": return new LossMetric(new SparseCategoricalCrossentropy(), name);
            default:
                throw new ArgumentException($"unknown metric '{name}'; known: accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, mae, mse, and the loss names", nameof(name));
        }
    }
}

/// <summary>Fraction of elements where (y_pred &gt; threshold) equals y_true, averaged over the last axis.</summary>
public sealed class BinaryAccuracy(double threshold = 0.5, string name = "binary_accuracy") : Metric(name)
{
    /// <summary>Decision threshold.</summary>
    public double Threshold { get; } = threshold;

    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred)
    {
        var g = yPred.Graph;
        var predicted = g.Cast(g.Greater(yPred, g.Scalar(Threshold, yPred.DType)), yPred.DType);
        var hit = g.Cast(g.Equal(Loss.AsPredictionType(yTrue, yPred), predicted), DType.Float32);
        return g.ReduceMean(hit, -1);
    }
}

/// <summary>1 where argmax(y_true) = argmax(y_pred) (one-hot labels), else 0.</summary>
public sealed class CategoricalAccuracy(string name = "categorical_accuracy") : Metric(name)
{
    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred)
    {
        var g = yPred.Graph;
        return g.Cast(g.Equal(g.ArgMax(yTrue, -1), g.ArgMax(yPred, -1)), DType.Float32);
    }
}

/// <summary>1 where the integer label equals argmax(y_pred), else 0.</summary>
public sealed class SparseCategoricalAccuracy(string name = "sparse_categorical_accuracy") : Metric(name)
{
    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred)
    {
        var g = yPred.Graph;
        var labels = SparseCategoricalCrossentropy.SparseLabels(yTrue, yPred, GetType().Name, Name);
        return g.Cast(g.Equal(g.Cast(labels, DType.Int64), g.ArgMax(yPred, -1)), DType.Float32);
    }
}

/// <summary>A loss function reported as a metric (Keras's "mae", "mse" metrics).</summary>
public sealed class LossMetric(Loss loss, string? name = null) : Metric(name ?? loss.Name)
{
    /// <inheritdoc/>
    public override Output Call(Output yTrue, Output yPred) => loss.Call(yTrue, yPred);
}
