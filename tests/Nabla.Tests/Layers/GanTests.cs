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

    private static bool Changed(Tensor[] a, Tensor[] b) => a.Zip(b).Any(p => !p.First.ToArray<float>().SequenceEqual(p.Second.ToArray<float>()));

    private static Tensor HostConcat(Tensor a, Tensor b) => Tensor.Concat([a, b], 0);
}
