using System.Reflection;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Bench;

/// <summary>
/// Workload W2 (issue 3): the MNIST MLP 784-128(relu)-Dropout(0.3)-128(relu)-Dropout(0.3)-10(softmax),
/// sparse categorical cross-entropy, Adam (Keras defaults: lr 1e-3, eps 1e-7), batch 128, one random
/// batch reused every step. Shared by <see cref="W2StepBenchmarks"/> and <see cref="W2Profile"/> so
/// both time the same graph; bench/peers/w2_step_torch.py is its PyTorch twin.
/// </summary>
/// <remarks>
/// Napkin math: 118,282 parameters; a training step costs about 2·P·B flops forward and 4·P·B backward
/// (weight and input gradients), so 6 · 118,282 · 128 ≈ 90.8 MFLOP, nearly all in six GEMMs. Weights,
/// Adam moments and activations total ~2 MB, so the step is L2-resident and should be compute-bound.
/// </remarks>
internal sealed class W2
{
    public const int Batch = 128;
    public const int Parameters = 784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10;
    public const double StepFlops = 6.0 * Parameters * Batch;

    private W2(Sequential model, Tensor x, Tensor y)
    {
        Model = model;
        X = x;
        Y = y;
    }

    public Sequential Model { get; }

    public Tensor X { get; }

    public Tensor Y { get; }

    /// <summary>Builds and compiles the model in a fresh Keras graph and makes the random batch (x in [0,1), labels 0..9).</summary>
    public static W2 Create(ulong seed = 42)
    {
        Keras.ClearSession();
        Keras.SetRandomSeed(seed);
        var model = new Sequential([
            new Dense(128, "relu", inputShape: [784]),
            new Dropout(0.3),
            new Dense(128, "relu"),
            new Dropout(0.3),
            new Dense(10, "softmax"),
        ]);
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(), "accuracy");
        var x = Tensor.RandomUniform(new Shape(Batch, 784), 0, 1, seed: seed);
        var rng = new Random((int)seed);
        var labels = new int[Batch];
        for (var i = 0; i < Batch; i++) labels[i] = rng.Next(10);
        var w2 = new W2(model, x, Tensor.FromArray(labels, Batch));
        var trainable = model.TrainableWeights.Sum(v => v.Shape.Size);
        if (trainable != Parameters) throw new InvalidOperationException($"W2 has {trainable} trainable parameters, expected {Parameters}");
        return w2;
    }

    /// <summary>
    /// What one TrainOnBatch runs, taken from the model's compiled train step (internal to Nabla.Layers,
    /// hence reflection; call after the first TrainOnBatch): the feeds, fetched loss and metric, and update op.
    /// </summary>
    public (Dictionary<Output, Tensor> Feeds, Output[] Fetches, Operation Update) TrainStepParts()
    {
        var step = typeof(Model).GetField("_trainStep", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(Model)
            ?? throw new InvalidOperationException("Model._trainStep not found or not built yet: run TrainOnBatch first (or the Layers internals changed)");
        var t = step.GetType();
        Output[] Prop(string name) => (Output[])(t.GetProperty(name)?.GetValue(step)
            ?? throw new InvalidOperationException($"StepFunction.{name} not found"));
        object Captured(string name) => t.GetFields(BindingFlags.Instance | BindingFlags.NonPublic)
            .FirstOrDefault(f => f.Name.Contains(name, StringComparison.Ordinal))?.GetValue(step)
            ?? throw new InvalidOperationException($"StepFunction's captured '{name}' not found");
        var inputs = Prop("Inputs");
        var targets = Prop("Targets");
        var feeds = new Dictionary<Output, Tensor> { [inputs[0]] = X, [targets[0]] = Y };
        return (feeds, (Output[])Captured("fetches"), (Operation)Captured("update"));
    }
}
