using NUnit.Framework;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Layers;

/// <summary>Alternating training of two models with a frozen discriminator, the Keras GAN pattern (SEEDS W15).</summary>
public sealed class GanTests : KerasTestBase
{
    [Test]
    public void FrozenDiscriminatorInTheCombinedModelIsOnlyTrainedByItsOwnStep()
    {
        var generator = new Sequential([new Dense(8, "relu", inputShape: [4]), new Dense(2)], name: "generator");
        var discriminator = new Sequential([new Dense(8, "relu", inputShape: [2]), new Dense(1, "sigmoid")], name: "discriminator");
        discriminator.Compile(new SGD(0.1), new BinaryCrossentropy());
        discriminator.Trainable = false;
        var noise = Keras.Input(4);
        var gan = new Model(noise, discriminator.Apply(generator.Apply(noise)), "gan");
        gan.Compile(new SGD(0.1), new BinaryCrossentropy());
        Assert.That(gan.TrainableWeights, Has.Count.EqualTo(4), "only the generator's kernel and bias ×2");

        var z = Tensor.RandomNormal(new Shape(16, 4), seed: 1);
        var real = Tensor.RandomNormal(new Shape(16, 2), 3, 0.1, seed: 2);
        var fake = generator.Predict(z);
        var ones = Tensor.Ones(new Shape(16, 1));
        var zeros = Tensor.Zeros(new Shape(16, 1));

        var d0 = discriminator.GetWeights();
        var g0 = generator.GetWeights();
        discriminator.TrainOnBatch(HostConcat(real, fake), HostConcat(ones, zeros));
        var d1 = discriminator.GetWeights();
        Assert.That(Changed(d0, d1), Is.True, "the discriminator's own step updates it (compiled while trainable)");
        Assert.That(Changed(g0, generator.GetWeights()), Is.False);

        gan.TrainOnBatch(z, ones);
        Assert.That(Changed(d1, discriminator.GetWeights()), Is.False, "the combined step must not touch the frozen discriminator");
        Assert.That(Changed(g0, generator.GetWeights()), Is.True);
    }

    [Test]
    public void TwoOptimizersMinimiseTwoLossesOverTwoVariableListsInGraphMode()
    {
        // A custom GAN loop (SEEDS W15/W16): models applied to graph outputs, each loss minimised by its own Adam.
        var generator = new Sequential([new Dense(8, "relu", inputShape: [4]), new Dense(2)], name: "generator");
        var discriminator = new Sequential([new Dense(8, "leaky_relu", inputShape: [2]), new Dense(1)], name: "discriminator");
        var g = Keras.Graph;
        var noise = g.Placeholder(DType.Float32, new Shape(-1, 4), "noise");
        var real = g.Placeholder(DType.Float32, new Shape(-1, 2), "real");
        var fake = generator.Apply(noise, training: true);
        var realLogits = discriminator.Apply(real, training: true);
        var fakeLogits = discriminator.Apply(fake, training: true);
        var bce = new BinaryCrossentropy(fromLogits: true);
        var dLoss = bce.Compute(g.OnesLike(realLogits), realLogits) + bce.Compute(g.ZerosLike(fakeLogits), fakeLogits);
        var gLoss = bce.Compute(g.OnesLike(fakeLogits), fakeLogits);
        var dOpt = new Adam(0.0002, beta1: 0.5);
        var gOpt = new Adam(0.0002, beta1: 0.5);
        var dStep = dOpt.Minimize(dLoss, discriminator.TrainableWeights);
        var gStep = gOpt.Minimize(gLoss, generator.TrainableWeights);
        Keras.InitializeVariables([.. generator.Weights, .. discriminator.Weights, .. dOpt.Variables, .. gOpt.Variables]);
        var session = Keras.GetSession();

        var feeds = new Dictionary<Output, Tensor>
        {
            [noise] = Tensor.RandomNormal(new Shape(16, 4), seed: 1),
            [real] = Tensor.RandomNormal(new Shape(16, 2), 3, 0.1, seed: 2),
        };
        var d0 = discriminator.GetWeights();
        var g0 = generator.GetWeights();
        session.Run(dStep, feeds);
        var d1 = discriminator.GetWeights();
        Assert.That(Changed(d0, d1), Is.True);
        Assert.That(Changed(g0, generator.GetWeights()), Is.False, "the discriminator's optimizer must leave the generator alone");
        session.Run(gStep, feeds);
        Assert.That(Changed(d1, discriminator.GetWeights()), Is.False, "the generator's optimizer must leave the discriminator alone");
        Assert.That(Changed(g0, generator.GetWeights()), Is.True);
        Assert.That(session.Run(dOpt.Iterations.Value).ToDoubleArray()[0], Is.EqualTo(1));
        Assert.That(session.Run(gOpt.Iterations.Value).ToDoubleArray()[0], Is.EqualTo(1));
    }

    private static bool Changed(Tensor[] a, Tensor[] b) => a.Zip(b).Any(p => !p.First.ToArray<float>().SequenceEqual(p.Second.ToArray<float>()));

    private static Tensor HostConcat(Tensor a, Tensor b) => Tensor.Concat([a, b], 0);
}
