using Nabla.Data;

namespace Nabla.Layers;
using Nabla.Data;

public partial class Model
{
    private Random? _shuffleRandom;

    /// <summary>Set by a callback (EarlyStopping) to end <c>Fit</c> after the current epoch.</summary>
    public bool StopTraining { get; set; }

    /// <summary>The history of the last Fit.</summary>
    public History? History { get; private set; }

    /// <summary>
    /// Trains on arrays (keras Model.fit): <paramref name="x"/> and <paramref name="y"/> hold samples along
    /// axis 0. Returns the per-epoch logs (loss, metrics, and val_ versions when validating).
    /// </summary>
    /// <param name="x">Inputs.</param>
    /// <param name="y">Targets (null when the loss comes only from AddLoss).</param>
    /// <param name="batchSize">Samples per step (Keras default 32).</param>
    /// <param name="epochs">Last epoch index + 1.</param>
    /// <param name="verbose">0 silent, 1 progress bar (one line per epoch when output is not a terminal), 2 one line per epoch.</param>
    /// <param name="callbacks">Callbacks, called in order.</param>
    /// <param name="validationSplit">Fraction of the samples, taken from the end before shuffling, held out for validation.</param>
    /// <param name="validationData">Validation arrays; takes precedence over <paramref name="validationSplit"/>.</param>
    /// <param name="shuffle">Shuffle the training samples every epoch.</param>
    /// <param name="initialEpoch">Epoch to start from (resuming).</param>
    public History Fit(Tensor x, Tensor? y = null, int batchSize = 32, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, double validationSplit = 0, (Tensor X, Tensor Y)? validationData = null,
        bool shuffle = true, int initialEpoch = 0) =>
        Fit([x], y is null ? [] : [y], batchSize, epochs, verbose, callbacks, validationSplit,
            validationData is { } v ? ([v.X], [v.Y]) : null, shuffle, initialEpoch);

    /// <summary>Trains a model with several inputs and/or outputs; see the single-array overload.</summary>
    public History Fit(Tensor[] x, Tensor[] y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, double validationSplit = 0, (Tensor[] X, Tensor[] Y)? validationData = null,
        bool shuffle = true, int initialEpoch = 0)
    {
        if (!(validationSplit >= 0 && validationSplit < 1)) throw new ArgumentOutOfRangeException(nameof(validationSplit), validationSplit, "validation split must be in [0, 1)");
        IBatchFeed? validation = null;
        int? trainRows = null;
        if (validationData is { } vd) validation = new ArrayBatchFeed(vd.X, vd.Y, batchSize, null);
        else if (validationSplit > 0)
        {
            // Row ranges of the caller's arrays, not copies: train on [0, cut), validate on [cut, n).
            var cut = ArrayBatchFeed.SplitTail(x, validationSplit);
            validation = new ArrayBatchFeed(x, y, batchSize, null, start: cut);
            trainRows = cut;
        }
        if (_shuffleRandom is null)
        {
            var seed = unchecked((int)((Graph ?? Keras.Graph).Seed * 2654435761UL) ^ 0x5EED);
            // Every worker must shuffle alike for the row shares to partition each epoch: the chief's seed.
            _shuffleRandom = new Random(_strategy?.AgreeOnSeed(seed) ?? seed);
        }
        var train = new ArrayBatchFeed(x, y, batchSize, shuffle ? _shuffleRandom : null, count: trainRows) { Shard = _strategy?.FeedShard };
        return FitLoop(train, validation, x, y, epochs, verbose, callbacks, initialEpoch);
    }

    /// <summary>
    /// Trains on a batched <see cref="Dataset"/> whose elements are (inputs…, targets…), as Keras's fit(dataset).
    /// Shuffling and batching are the dataset's; an infinite dataset needs <paramref name="stepsPerEpoch"/>.
    /// </summary>
    public History Fit(Dataset dataset, int epochs = 1, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        Dataset? validationData = null, int? stepsPerEpoch = null, int initialEpoch = 0)
    {
        var feed = new DatasetBatchFeed(dataset, DatasetInputCount(), stepsPerEpoch);
        var sample = feed.Sample();
        var validation = validationData is null ? null : new DatasetBatchFeed(validationData, DatasetInputCount(), null);
        return FitLoop(feed, validation, sample.X, sample.Y, epochs, verbose, callbacks, initialEpoch);
    }

    /// <summary>Loss and metrics over a batched dataset of (inputs…, targets…).</summary>
    public IReadOnlyDictionary<string, double> Evaluate(Dataset dataset)
    {
        var feed = new DatasetBatchFeed(dataset, DatasetInputCount(), null);
        var sample = feed.Sample();
        return EvaluateFeed(feed, sample.X, sample.Y, "");
    }

    private int DatasetInputCount() => IsFunctional ? Inputs.Count : 1;

    /// <summary>Runs one training step on one batch (keras train_on_batch) and returns its loss and metrics; under a distribution strategy the batch is the global batch, split among the replicas.</summary>
    public IReadOnlyDictionary<string, double> TrainOnBatch(Tensor[] x, Tensor[] y)
    {
        var step = TrainStep(x, y);
        var means = new RunningMeans(step.Names);
        if (_strategy is not null)
        {
            // A synchronous step of every replica; the replicas are re-synchronised from replica 0 first,
            // since weights may have been set between calls.
            _strategy.BeginFit(this, step);
            var (values, size) = _strategy.TrainStep(this, step, new Batch(x, y, x[0].Shape[0]));
            means.Add(values, size);
        }
        else means.Add(step.Run(Session, x, y), x[0].Shape[0]);
        return means.Logs();
    }

    /// <summary>Single-input, single-output form of <see cref="TrainOnBatch(Tensor[], Tensor[])"/>.</summary>
    public IReadOnlyDictionary<string, double> TrainOnBatch(Tensor x, Tensor? y = null) => TrainOnBatch([x], y is null ? [] : [y]);

    /// <summary>Loss and metrics over the given arrays (keras evaluate), averaged over samples; dropout and noise are off.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor x, Tensor? y = null, int batchSize = 32) =>
        Evaluate([x], y is null ? [] : [y], batchSize);

    /// <summary>Loss and metrics for a model with several inputs and/or outputs.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor[] x, Tensor[] y, int batchSize = 32) =>
        EvaluateFeed(new ArrayBatchFeed(x, y, batchSize, null), x, y, "");

    /// <summary>Outputs for the given inputs, in batches (keras predict); dropout and noise are off.</summary>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        var outs = PredictMulti([x], batchSize);
        return outs.Length == 1 ? outs[0] : throw new InvalidOperationException($"model '{Name}' has {outs.Length} outputs; use PredictMulti");
    }

    /// <summary>Every output for the given inputs, each joined over the batches.</summary>
    public Tensor[] PredictMulti(Tensor[] x, int batchSize = 32)
    {
        var outputs = PredictOutputs(x);
        var inputs = ExecutionInputs(x);
        var parts = outputs.Select(_ => new List<Tensor>()).ToArray();
        var feeds = new Dictionary<Output, Tensor>();
        foreach (var batch in new ArrayBatchFeed(x, [], batchSize, null).Epoch(0))
        {
            for (var i = 0; i < inputs.Length; i++) feeds[inputs[i]] = batch.X[i];
            var values = Session.Run(outputs, feeds);
            for (var i = 0; i < values.Length; i++) parts[i].Add(values[i]);
        }
        return parts.Select(p => Rows.Concat(p)).ToArray();
    }

    private History FitLoop(IBatchFeed train, IBatchFeed? validation, IReadOnlyList<Tensor> sampleX, IReadOnlyList<Tensor> sampleY,
        int epochs, int verbose, IReadOnlyList<Callback>? callbacks, int initialEpoch)
    {
        var step = TrainStep(sampleX, sampleY);
        if (validation is not null) TestStep(sampleX, sampleY);
        if (_strategy is { IsChief: false }) verbose = 0; // only the chief logs
        var history = new History();
        var all = new CallbackList(this, [history, .. callbacks ?? [], .. ProgressLogger.For(verbose, epochs, train.Steps)]);
        if (_strategy is not null) return DistributedFitLoop(step, all, history, train, validation, sampleX, sampleY, epochs, initialEpoch);
        StopTraining = false;
        History = history;
        all.TrainBegin();
        for (var epoch = initialEpoch; epoch < epochs && !StopTraining; epoch++)
        {
            all.EpochBegin(epoch);
            var means = new RunningMeans(step.Names);
            var batchIndex = 0;
            foreach (var batch in train.Epoch(epoch))
            {
                means.Add(step.Run(Session, batch.X, batch.Y), batch.Size);
                all.TrainBatchEnd(batchIndex++, means.Logs());
            }
            var logs = means.Logs();
            if (validation is not null)
                foreach (var (k, v) in EvaluateFeed(validation, sampleX, sampleY, "val_")) logs[k] = v;
            all.EpochEnd(epoch, logs);
        }
        all.TrainEnd();
        return history;
    }

    /// <summary>FitLoop under a distribution strategy: each step is a synchronous step of every replica on one global batch.</summary>
    private History DistributedFitLoop(StepFunction step, CallbackList all, History history, IBatchFeed train, IBatchFeed? validation,
        IReadOnlyList<Tensor> sampleX, IReadOnlyList<Tensor> sampleY, int epochs, int initialEpoch)
    {
        var strategy = _strategy!;
        int epoch = initialEpoch, batchIndex = 0;
        try
        {
            strategy.BeginFit(this, step);
            StopTraining = false;
            History = history;
            all.TrainBegin();
            for (; epoch < epochs && !StopTraining; epoch++)
            {
                all.EpochBegin(epoch);
                var means = new RunningMeans(step.Names);
                batchIndex = 0;
                foreach (var batch in train.Epoch(epoch))
                {
                    var (values, size) = strategy.TrainStep(this, step, batch);
                    means.Add(values, size);
                    all.TrainBatchEnd(batchIndex, means.Logs());
                    batchIndex++;
                }
                var logs = means.Logs();
                if (validation is not null)
                    foreach (var (k, v) in EvaluateFeed(validation, sampleX, sampleY, "val_")) logs[k] = v;
                all.EpochEnd(epoch, logs);
            }
            all.TrainEnd();
            return history;
        }
        catch (Exception e)
        {
            strategy.OnFitFailure(e, epoch, batchIndex);
            throw;
        }
    }

    private Dictionary<string, double> EvaluateFeed(IBatchFeed feed, IReadOnlyList<Tensor> sampleX, IReadOnlyList<Tensor> sampleY, string prefix)
    {
        var step = TestStep(sampleX, sampleY);
        var means = new RunningMeans(step.Names);
        foreach (var batch in feed.Epoch(0)) means.Add(step.Run(Session, batch.X, batch.Y), batch.Size);
        return means.Logs(prefix);
    }
}
