using NUnit.Framework;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Layers;

public sealed class RegularizationLayerTests : KerasTestBase
{
    [Test]
    public void DropoutIsInactiveAtInferenceAndActiveInTraining()
    {
        var input = Keras.Input(100);
        var dropout = new Dropout(0.5);
        var model = new Model(input, dropout.Apply(input));
        var x = Tensor.Ones(new Shape(8, 100));
        Assert.That(model.Predict(x).ToArray<float>(), Is.All.EqualTo(1f), "Predict must not drop");
        var trainingPath = dropout.Apply(input.Value, training: true);
        var dropped = Keras.GetSession().Run(trainingPath, new Dictionary<Output, Tensor> { [input.Value] = x }).ToArray<float>();
        Assert.That(dropped.Distinct().OrderBy(v => v), Is.EqualTo(new[] { 0f, 2f }));
        Assert.That(dropped.Count(v => v == 0) / 800.0, Is.EqualTo(0.5).Within(0.06));
    }

    [Test]
    public void GaussianNoiseOnlyWhileTraining()
    {
        var input = Keras.Input(1000);
        var noise = new GaussianNoise(0.5);
        var model = new Model(input, noise.Apply(input));
        var x = Tensor.Zeros(new Shape(4, 1000));
        Assert.That(model.Predict(x).ToArray<float>(), Is.All.EqualTo(0f));
        var trainingPath = noise.Apply(input.Value, training: true);
        var noisy = Keras.GetSession().Run(trainingPath, new Dictionary<Output, Tensor> { [input.Value] = x }).ToArray<float>();
        var std = Math.Sqrt(noisy.Select(v => (double)v * v).Average());
        Assert.That(std, Is.EqualTo(0.5).Within(0.03));
    }

    [Test]
    public void ActivityRegularizationAddsKerasPenaltyOnlyToTheTrainingLoss()
    {
        var input = Keras.Input(2);
        var identity = new Dense(2, useBias: false, kernelInitializer: Initializer.Constant(Tensor.FromArray([1f, 0f, 0f, 1f], 2, 2)));
        var model = new Model(input, new ActivityRegularization(l1: 0.1, l2: 0.01).Apply(identity.Apply(input)));
        model.Compile(new SGD(0), new MeanSquaredError());
        var x = Tensor.FromArray([1f, -2f, 3f, 4f], 2, 2);
        var y = Tensor.FromArray([1f, -2f, 3f, 4f], 2, 2);
        // The output equals y, so MSE is 0 and the training loss is the penalty:
        // per sample l1·Σ|x| + l2·Σx² = 0.1·3 + 0.01·5 = 0.35 and 0.1·7 + 0.01·25 = 0.95; averaged over the batch = 0.65.
        var train = model.TrainOnBatch(x, y)["loss"];
        Assert.That(train, Is.EqualTo(0.65).Within(1e-6));
        Assert.That(model.Evaluate(x, y)["loss"], Is.EqualTo(0).Within(1e-9), "evaluation leaves out training-only penalties");
    }
}
