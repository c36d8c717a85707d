using Nabla.Optimizers;

namespace Nabla.Layers;

public partial class Model
{
    private Compiled? _compiled;
    private StepFunction? _trainStep, _testStep;
    private Output[]? _predictOutputs;
    private Distribute.DistributionStrategy? _strategy;

    /// <summary>The distribution strategy whose scope was open at <c>Compile</c>, if any (tf's model.distribute_strategy).</summary>
    public Distribute.DistributionStrategy? DistributeStrategy => _strategy;

    /// <summary>False on the non-chief workers of a multi-worker strategy, where checkpoints and file logs are not written.</summary>
    internal bool WritesFiles => _strategy?.IsChief ?? true;

    /// <summary>The optimizer given to Compile.</summary>
    public Optimizer? Optimizer => _compiled?.Optimizer;

    /// <summary>Whether Compile has been called.</summary>
    public bool IsCompiled => _compiled is not null;

    /// <summary>
    /// Configures training (keras Model.compile): an optimizer, a loss for the (single) output, and
    /// metrics. As in graph-mode Keras, the trainable weights are collected now (or when the model is
    /// first built), so set <see cref="Layer.Trainable"/> before compiling.
    /// </summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="loss">The loss; null when every loss term comes from <see cref="Layer"/>.AddLoss.</param>
    /// <param name="metrics">Metric objects.</param>
    public void Compile(Optimizer optimizer, Loss? loss = null, IEnumerable<Metric>? metrics = null) =>
        Compile(optimizer, loss is null ? [] : [loss], metrics?.Select(MetricSpec.Of), null);

    /// <summary>Compile with metrics given by Keras name ("accuracy", "mae", …).</summary>
    public void Compile(Optimizer optimizer, Loss? loss, params string[] metrics) =>
        Compile(optimizer, loss is null ? [] : [loss], metrics.Select(MetricSpec.Of), null);

    /// <summary>Compile by Keras names: <c>Compile("adam", "sparse_categorical_crossentropy", "accuracy")</c>.</summary>
    public void Compile(string optimizer, string? loss = null, params string[] metrics) =>
        Compile(Optimizers.Optimizer.FromName(optimizer), loss is null ? [] : [Loss.FromName(loss)], metrics.Select(MetricSpec.Of), null);

    /// <summary>Compile a multi-output model: one loss per output (null for none) and optional loss weights.</summary>
    public void Compile(Optimizer optimizer, IReadOnlyList<Loss?> losses, IEnumerable<Metric>? metrics = null, IReadOnlyList<double>? lossWeights = null) =>
        Compile(optimizer, losses, metrics?.Select(MetricSpec.Of), lossWeights);

    private void Compile(Optimizer optimizer, IReadOnlyList<Loss?> losses, IEnumerable<MetricSpec>? metrics, IReadOnlyList<double>? lossWeights)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (lossWeights is not null && lossWeights.Count != losses.Count)
            throw new ArgumentException($"model '{Name}': {lossWeights.Count} loss weights for {losses.Count} losses", nameof(lossWeights));
        _strategy = Distribute.DistributionStrategy.Current;
        _compiled = new Compiled(optimizer, losses.ToArray(), metrics?.ToArray() ?? [], lossWeights?.ToArray());
        if (IsFunctional || Built) _compiled.Trainable = TrainableWeights;
        _trainStep = _testStep = null;
    }

    private StepFunction TrainStep(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y) => _trainStep ??= BuildStep(x, y, training: true);

    private StepFunction TestStep(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y) => _testStep ??= BuildStep(x, y, training: false);

    private StepFunction BuildStep(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y, bool training)
    {
        var compiled = _compiled ?? throw new InvalidOperationException($"model '{Name}' must be compiled before training or evaluation: call Compile(optimizer, loss, metrics)");
        var inputs = ExecutionInputs(x);
        if (x.Count != inputs.Length) throw new ArgumentException($"model '{Name}' takes {inputs.Length} inputs, got {x.Count}");
        var g = inputs[0].Graph;
        Output[] outputs;
        List<Output> extraLosses;
        List<Operation> stateUpdates;
        using (var trace = Trace.Begin(training))
        {
            outputs = Apply(inputs, training);
            extraLosses = trace.Losses;
            stateUpdates = trace.Updates;
        }
        compiled.Trainable ??= TrainableWeights;
        var losses = compiled.Losses;
        if (losses.Length > 0 && losses.Length != outputs.Length)
            throw new ArgumentException($"model '{Name}' has {outputs.Length} outputs but was compiled with {losses.Length} losses");
        var supervised = Enumerable.Range(0, outputs.Length).Where(i => (losses.Length > 0 && losses[i] is not null) || compiled.Metrics.Length > 0).ToArray();
        if (supervised.Length > 0 && y.Count != outputs.Length)
            throw new ArgumentException($"model '{Name}' has {outputs.Length} outputs with a loss or metrics, but {y.Count} target arrays were given");

        var mode = training ? "train" : "test";
        var names = new List<string> { "loss" };
        var fetches = new List<Output>();
        var targets = new List<Output>();
        Output? total = null;
        using (g.NameScope($"{Name}_{mode}"))
        {
            for (var i = 0; i < outputs.Length; i++)
            {
                if (Array.IndexOf(supervised, i) < 0) continue;
                var t = g.Placeholder(y[i].DType, new Shape([-1, .. y[i].Shape.Skip(1)]), $"target_{i}");
                targets.Add(t);
                if (losses.Length > 0 && losses[i] is { } loss)
                {
                    var term = loss.Compute(t, outputs[i]);
                    if (compiled.LossWeights is { } w) term = term * w[i];
                    total = total is null ? term : total.Value + term;
                }
            }
            foreach (var extra in extraLosses) total = total is null ? extra : total.Value + extra;
            if (total is null) throw new InvalidOperationException($"model '{Name}' has no loss: compile it with a loss, or add one in Call with AddLoss");
            fetches.Add(total.Value);
            var ti = 0;
            for (var i = 0; i < outputs.Length; i++)
            {
                if (Array.IndexOf(supervised, i) < 0) continue;
                var t = targets[ti++];
                foreach (var spec in compiled.Metrics)
                {
                    var m = spec.Resolve(t.Shape, outputs[i].Shape);
                    fetches.Add(g.ReduceMean(g.Cast(m.Call(t, outputs[i]), DType.Float32)));
                    names.Add(outputs.Length == 1 ? m.Name : $"{OutputName(i)}_{m.Name}");
                }
            }
        }
        Operation? update = null;
        ReplicatedUpdate? replicated = null;
        if (training)
        {
            var vars = compiled.Trainable;
            if (vars.Count == 0) throw new InvalidOperationException($"model '{Name}' has no trainable weights (are all its layers frozen?)");
            // Under a strategy the backward pass starts from the replica's weight n_r / N instead of 1 (see AllReducedGradients).
            Output? replicaWeight = null;
            if (_strategy is not null)
                using (g.NameScope($"{Name}_allreduce"))
                    replicaWeight = g.Placeholder(total.Value.DType, Shape.Scalar, "replica_weight");
            var grads = g.Gradients([total.Value], vars.Select(v => v.Value).ToArray(), replicaWeight is { } rw ? [rw] : null, UnconnectedGradients.None);
            var pairs = new List<(Output, Variable)>();
            for (var i = 0; i < vars.Count; i++)
                if (grads[i] is { } gr) pairs.Add((gr, vars[i]));
            if (pairs.Count == 0) throw new InvalidOperationException($"model '{Name}': the loss does not depend on any trainable weight");
            if (_strategy is not null)
            {
                // Replicas would each update their own moving statistics from their share of the batch and drift
                // apart; synchronising them (Keras's SyncBatchNormalization) is not built, so refuse rather than diverge.
                if (stateUpdates.Count > 0)
                    throw new NotSupportedException($"model '{Name}': layer state updates (BatchNormalization's moving statistics) are not synchronised across replicas yet, so they cannot be trained under a distribution strategy");
                (replicated, pairs) = AllReducedGradients(g, pairs, replicaWeight!.Value, fetches, _strategy.BucketBytes);
            }
            update = compiled.Optimizer.ApplyGradients(pairs);
            // Layer state (batch-norm moving statistics) is updated in the same run as the weights.
            if (stateUpdates.Count > 0) update = g.Group([update, .. stateUpdates], $"{Name}_train_updates");
            Runtime.EnsureInitialized(compiled.Optimizer.Variables);
        }
        Runtime.EnsureInitialized(Weights);
        return new StepFunction(inputs, targets.ToArray(), fetches.ToArray(), names.ToArray(), update) { Replicated = replicated };
    }

    /// <summary>
    /// Data parallel: the gradient of the mean loss over the global batch of N rows is Σ_r (n_r/N)·∇(local mean loss_r).
    /// Each replica's backward pass starts from its weight n_r/N (<paramref name="weight"/>, fed each step) instead of 1,
    /// so its gradients come out already weighted, at no cost; the replicas' gradients are then summed inside the graph,
    /// one AllReduce op per bucket, and the update applies the sums. Regularisation terms are in every replica's loss and
    /// their weights add up to 1, so they count once.
    /// <para>The step's logs travel with the first bucket, so a step synchronises the replicas once: the vector
    /// [n_r/N · mean_1, …, n_r/N · mean_k, n_r] of the <paramref name="fetches"/> (loss and metrics, batch means) sums to the
    /// global batch's means and its row count. A replica without rows contributes zeros (its means are 0/0).</para>
    /// </summary>
    private (ReplicatedUpdate, List<(Output, Variable)>) AllReducedGradients(Graph g, List<(Output, Variable)> pairs, Output weight, List<Output> fetches, long bucketBytes)
    {
        var buckets = new Distribute.GradientBuckets(pairs.Select(p => p.Item2).ToArray(), bucketBytes);
        var reduced = new Output[pairs.Count];
        using (g.NameScope($"{Name}_allreduce"))
        {
            var rows = g.Placeholder(DType.Float32, Shape.Scalar, "replica_rows");
            var w = weight.DType == DType.Float32 ? weight : g.Cast(weight, DType.Float32);
            var means = g.Stack(fetches.Select(f => f.DType == DType.Float32 ? f : g.Cast(f, DType.Float32)).ToArray(), 0, "means");
            var zero = g.Scalar(0);
            var weighted = g.Select(g.Greater(w, zero), g.Mul(means, w), zero, "weighted_means");
            var logs = g.Concat([weighted, g.Reshape(rows, [1])], 0, "logs");
            Output? reducedLogs = null;
            for (var b = 0; b < buckets.Count; b++)
            {
                var members = buckets.Layout[b];
                Output[] values = [.. members.Select(i => pairs[i].Item1), .. b == 0 ? [logs] : Array.Empty<Output>()];
                var sums = g.AllReduce(values, $"bucket_{b}");
                for (var k = 0; k < members.Length; k++) reduced[members[k]] = sums[k];
                if (b == 0) reducedLogs = sums[^1];
            }
            return (new ReplicatedUpdate(weight, rows, reducedLogs!.Value), pairs.Select((p, i) => (reduced[i], p.Item2)).ToList());
        }
    }

    private Output[] PredictOutputs(IReadOnlyList<Tensor> x)
    {
        if (_predictOutputs is not null) return _predictOutputs;
        var inputs = ExecutionInputs(x);
        using (Trace.Begin(training: false))
            _predictOutputs = Apply(inputs, training: false);
        Runtime.EnsureInitialized(Weights);
        return _predictOutputs;
    }

    private string OutputName(int i) =>
        IsFunctional && Outputs[i].Producer is { } p ? p.Layer.Name : $"output_{i + 1}";

    private sealed class Compiled(Optimizer optimizer, Loss?[] losses, MetricSpec[] metrics, double[]? lossWeights)
    {
        public Optimizer Optimizer { get; } = optimizer;
        public Loss?[] Losses { get; } = losses;
        public MetricSpec[] Metrics { get; } = metrics;
        public double[]? LossWeights { get; } = lossWeights;
        public IReadOnlyList<Variable>? Trainable { get; set; }
    }

    /// <summary>A metric object, or a Keras name resolved once the target and output shapes are known.</summary>
    private sealed class MetricSpec(Func<Shape, Shape, Metric> resolve)
    {
        public Metric Resolve(Shape yTrue, Shape yPred) => resolve(yTrue, yPred);

        public static MetricSpec Of(Metric m) => new((_, _) => m);

        public static MetricSpec Of(string name)
        {
            Metric.FromName(name, new Shape(1, 2), new Shape(1, 2)); // rejects an unknown name at Compile, not at the first Fit
            return new((t, p) => Metric.FromName(name, t, p));
        }
    }
}
