using NUnit.Framework;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Layers;

public sealed class CallbackTests : KerasTestBase
{
    private static (Model Model, Tensor X, Tensor Y) Regression()
    {
        var x = Tensor.RandomNormal(new Shape(64, 3), seed: 1);
        var w = Tensor.FromArray([1f, -2f, 0.5f], 3, 1);
        var y = Tensor.MatMul(x, w);
        var model = new Sequential([new Dense(1, inputShape: [3])]);
        model.Compile(new SGD(0.05), new MeanSquaredError(), "mae");
        return (model, x, y);
    }

    [Test]
    public void EarlyStoppingStopsAfterPatienceAndRestoresBestWeights()
    {
        var (model, x, y) = Regression();
        // A loss that stops improving: monitored "loss" with a huge minDelta never counts as improved after epoch 0.
        var stop = new EarlyStopping("loss", minDelta: 1e9, patience: 2, restoreBestWeights: true);
        var history = model.Fit(x, y, epochs: 50, verbose: 0, callbacks: [stop]);
        Assert.That(history.Epochs, Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(stop.StoppedEpoch, Is.EqualTo(2));
        Assert.That(stop.BestEpoch, Is.EqualTo(0));
    }

    [Test]
    public void EarlyStoppingRestoresTheBestEpochsWeights()
    {
        var (model, x, y) = Regression();
        var recorder = new WeightRecorder();
        var stop = new EarlyStopping("loss", patience: 100, restoreBestWeights: true, mode: "max");
        model.Fit(x, y, epochs: 4, verbose: 0, callbacks: [recorder, stop]);
        // mode "max" on a falling loss: epoch 0 is "best", so its end-of-epoch weights come back.
        Assert.That(model.GetWeights()[0].ToArray<float>(), Is.EqualTo(recorder.Snapshots[0][0].ToArray<float>()));
    }

    private sealed class WeightRecorder : Callback
    {
        public List<Tensor[]> Snapshots { get; } = [];

        public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) => Snapshots.Add(Model.GetWeights());
    }

    [Test]
    public void MonitoringAMissingValueIsAClearError()
    {
        var (model, x, y) = Regression();
        var e = Assert.Throws<InvalidOperationException>(() => model.Fit(x, y, epochs: 2, verbose: 0, callbacks: [new EarlyStopping()]))!;
        Assert.That(e.Message, Does.Contain("val_loss").And.Contain("validation"));
    }

    [Test]
    public void CsvAndJsonLoggersWriteOneRecordPerEpoch()
    {
        var (model, x, y) = Regression();
        var dir = Directory.CreateTempSubdirectory("nabla-log-");
        try
        {
            var csv = Path.Combine(dir.FullName, "log.csv");
            var json = Path.Combine(dir.FullName, "log.jsonl");
            var history = model.Fit(x, y, epochs: 3, verbose: 0, validationSplit: 0.25, callbacks: [new CsvLogger(csv), new JsonLogger(json)]);
            var lines = File.ReadAllLines(csv);
            Assert.That(lines[0], Is.EqualTo("epoch,loss,mae,val_loss,val_mae"));
            Assert.That(lines, Has.Length.EqualTo(4));
            var row2 = lines[3].Split(',');
            Assert.That(double.Parse(row2[1], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(history["loss"][2]));
            var records = File.ReadAllLines(json).Select(l => System.Text.Json.JsonDocument.Parse(l)).ToArray();
            Assert.That(records, Has.Length.EqualTo(3));
            Assert.That(records[1].RootElement.GetProperty("epoch").GetInt32(), Is.EqualTo(1));
            Assert.That(records[1].RootElement.GetProperty("val_mae").GetDouble(), Is.EqualTo(history["val_mae"][1]));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void ProgressLoggerPrintsKerasStyleEpochLines()
    {
        var (model, x, y) = Regression();
        var output = new StringWriter();
        model.Fit(x, y, epochs: 2, batchSize: 16, verbose: 0, callbacks: [new ProgressLogger(2, 4, live: false, output: output)]);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[1], Does.Match(@"^Epoch 2/2 - 4/4 - \d+\.\ds \d+ms/step - loss: \d+\.\d{4} - mae: \d+\.\d{4}$"));
        var live = new StringWriter();
        model.Fit(x, y, epochs: 1, batchSize: 16, verbose: 0, callbacks: [new ProgressLogger(1, 4, live: true, output: live)]);
        Assert.That(live.ToString(), Does.StartWith("Epoch 1/1\n").And.Contain("4/4 [==============================]"));
    }

    [Test]
    public void StopTrainingFromACallbackEndsFitAfterTheEpoch()
    {
        var (model, x, y) = Regression();
        var history = model.Fit(x, y, epochs: 10, verbose: 0, callbacks: [new StopAt(1)]);
        Assert.That(history.Epochs, Is.EqualTo(new[] { 0, 1 }));
    }

    private sealed class StopAt(int epoch) : Callback
    {
        public override void OnEpochEnd(int e, IReadOnlyDictionary<string, double> logs) => Model.StopTraining |= e == epoch;
    }
}
