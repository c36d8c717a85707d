namespace Nabla.Layers;

public partial class Model
{
    /// <summary>Current values of <see cref="Layer.Weights"/>, in order (keras get_weights).</summary>
    public Tensor[] GetWeights()
    {
        var weights = Weights;
        if (weights.Count == 0) return [];
        Runtime.EnsureInitialized(weights);
        return Session.Run(weights.Select(w => w.Value).ToArray());
    }

    /// <summary>Sets every weight, in <see cref="Layer.Weights"/> order (keras set_weights); all shapes are checked before anything changes.</summary>
    /// <exception cref="ArgumentException">Wrong count, shape or dtype; nothing was changed.</exception>
    public void SetWeights(IReadOnlyList<Tensor> values)
    {
        var weights = Weights;
        if (values.Count != weights.Count) throw new ArgumentException($"model '{Name}' has {weights.Count} weights, got {values.Count} values", nameof(values));
        for (var i = 0; i < weights.Count; i++)
            if (values[i].Shape != weights[i].Shape || values[i].DType != weights[i].DType)
                throw new ArgumentException($"model '{Name}': weight '{weights[i].Name}' is {weights[i].DType.Name()} {weights[i].Shape}, got {values[i].DType.Name()} {values[i].Shape}", nameof(values));
        for (var i = 0; i < weights.Count; i++)
        {
            Session.AssignVariable(weights[i], values[i]);
            Runtime.MarkInitialized(weights[i]);
        }
    }
}
