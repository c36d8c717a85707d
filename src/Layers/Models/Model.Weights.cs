namespace Nabla.Layers;

public partial class Model
{
    private const string WeightOrderKey = "keras.weight_order";

    /// <summary>
    /// Saves every weight to <paramref name="path"/> in the safetensors format (see <see cref="Checkpoint"/>):
    /// tensors are named "<c>layer/weight</c>", the file carries a SHA-256 checksum, and it is written to a
    /// temporary file and renamed, so an interrupted save never leaves a partial file. Under
    /// <c>MultiWorkerMirroredStrategy</c> only the chief (rank 0) writes; on the other workers this does nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no weights yet (an unbuilt Sequential).</exception>
    public void SaveWeights(string path)
    {
        if (!WritesFiles) return; // under MultiWorkerMirroredStrategy only the chief writes
        var named = NamedWeights().ToList();
        if (named.Count == 0) throw new InvalidOperationException($"model '{Name}' has no weights to save (is it built?)");
        var duplicate = named.GroupBy(n => n.Name).FirstOrDefault(grp => grp.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"model '{Name}': two weights are both named '{duplicate.Key}' (give the layers distinct names)");
        Runtime.EnsureInitialized(named.Select(n => n.Variable));
        var names = named.ToDictionary(n => n.Variable, n => n.Name);
        Checkpoint.SaveVariables(Session, named.Select(n => n.Variable), path, v => names[v],
            new Dictionary<string, string> { [WeightOrderKey] = string.Join("\n", named.Select(n => n.Name)), ["keras.model"] = Name });
    }

    /// <summary>
    /// Loads weights saved by <see cref="SaveWeights"/>. Weights are matched by name when every name is in the
    /// file, otherwise by position (Keras's topological order), so a model rebuilt with other layer names
    /// still loads. The whole file is validated and every shape checked before any weight changes: a
    /// corrupt, truncated or mismatched file throws and leaves the model as it was. Under
    /// <c>MultiWorkerMirroredStrategy</c> this is a collective (every worker calls it): the chief reads the
    /// file and broadcasts the values, and a failed load on the chief fails every worker.
    /// </summary>
    /// <exception cref="CheckpointException">The file is corrupt, truncated, fails its checksum, or does not fit the model.</exception>
    public void LoadWeights(string path)
    {
        if (_strategy is { WorkerCount: > 1 }) LoadWeightsDistributed(path);
        else LoadWeightsLocal(path);
    }

    private void LoadWeightsLocal(string path)
    {
        var named = NamedWeights().ToList();
        if (named.Count == 0) throw new InvalidOperationException($"model '{Name}' has no weights to load into (build it first, e.g. with Predict on a sample or an input shape)");
        var metadata = Checkpoint.ReadMetadata(path);
        var byName = named.ToDictionary(n => n.Variable, n => n.Name);
        if (metadata.TryGetValue(WeightOrderKey, out var order))
        {
            var fileNames = order.Split('\n');
            // A name listed twice would map two weights to one tensor (and break the name lookup below).
            var repeated = fileNames.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(grp => grp.Count() > 1);
            if (repeated is not null)
                throw new CheckpointException(path, $"its {WeightOrderKey} lists the weight '{repeated.Key}' {repeated.Count()} times", null);
            if (!named.All(n => fileNames.Contains(n.Name)))
            {
                if (fileNames.Length != named.Count)
                    throw new CheckpointException(path, $"it holds {fileNames.Length} weights, model '{Name}' has {named.Count}, and their names differ", null);
                for (var i = 0; i < named.Count; i++) byName[named[i].Variable] = fileNames[i];
            }
        }
        Checkpoint.LoadVariables(Session, named.Select(n => n.Variable), path, v => byName[v]);
    }

    /// <summary>
    /// The multi-worker form of LoadWeights (a collective: every worker calls it): the chief reads the file
    /// and its values are broadcast, so every worker restores the same weights even if only the chief
    /// can read the file. A failed load on the chief fails every worker.
    /// </summary>
    private void LoadWeightsDistributed(string path)
    {
        var named = NamedWeights().ToList();
        Exception? error = null;
        if (_strategy!.IsChief)
        {
            try
            {
                LoadWeightsLocal(path);
            }
            catch (Exception e)
            {
                error = e; // handed to AfterLoad, which tells the other workers before rethrowing it
            }
        }
        Runtime.EnsureInitialized(named.Select(n => n.Variable));
        _strategy.AfterLoad(this, named.Select(n => n.Variable).ToList(), error);
    }

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
        for (var i = 0; i < weights.Count; i++) Session.AssignVariable(weights[i], values[i]);
    }
}
