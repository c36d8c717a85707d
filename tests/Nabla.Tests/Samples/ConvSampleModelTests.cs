using NUnit.Framework;
using Nabla.Layers;
using Nabla.Samples;
using Nabla.Tests.Layers;

namespace Nabla.Tests.Samples;

/// <summary>
/// The networks of the convolutional samples (W8, W12, W14, W15, W17) built without their data: parameter
/// counts against Keras's (the figures Keras prints for the same layer lists) and output shapes, so a change
/// in a layer's defaults or shape rule shows here rather than minutes into a training run.
/// </summary>
public sealed class ConvSampleModelTests : KerasTestBase
{
    private static string Summary(Model m) => m.Summary(_ => { });

    [Test]
    public void LeNetAndTheCifarCnnHaveKerasParameterCounts()
    {
        var lenet = W17LeNet.LeNet();
        var text = Summary(lenet);
        Assert.That(lenet.CountParams(), Is.EqualTo(156 + 2416 + 48120 + 10164 + 850)); // 61,706
        Assert.That(text, Does.Contain("(None, 14, 14, 6)").And.Contain("(None, 5, 5, 16)").And.Contain("(None, 10)"));
        var cnn = W17LeNet.CifarCnn();
        Summary(cnn);
        Assert.That(cnn.CountParams(), Is.EqualTo(122_570), "TensorFlow's CNN tutorial prints Total params: 122,570");
    }

    [Test]
    public void W12AutoencoderMapsImagesToImagesWithThe32_32_16Filters()
    {
        var model = W12DenoisingConvAutoencoder.Build();
        var text = Summary(model);
        Assert.That(model.CountParams(), Is.EqualTo(320 + 9248 + 4624 + 4640 + 9248 + 289));
        Assert.That(text, Does.Contain("(None, 7, 7, 16)"), "the code after two 'same' poolings");
        Assert.That(text, Does.Contain("(None, 28, 28, 1)"));
    }

    [Test]
    public void W12NoiseIsClippedToTheUnitIntervalAndDrawnOncePerSeed()
    {
        var images = Tensor.RandomUniform(new Shape(4, 28, 28, 1), 0, 1, seed: 5);
        var a = W12DenoisingConvAutoencoder.Corrupt(images, seed: 1).ToArray<float>();
        var b = W12DenoisingConvAutoencoder.Corrupt(images, seed: 1).ToArray<float>();
        var c = W12DenoisingConvAutoencoder.Corrupt(images, seed: 2).ToArray<float>();
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(c));
        Assert.That(a.Min(), Is.EqualTo(0f));
        Assert.That(a.Max(), Is.EqualTo(1f));
        var x = images.ToArray<float>();
        var moved = a.Zip(x).Count(p => Math.Abs(p.First - p.Second) > 1e-3);
        Assert.That(moved, Is.GreaterThan(a.Length * 9 / 10), "noise of standard deviation 0.5 moves nearly every pixel");
    }

    [Test]
    public void W8EncoderEndsInThirtyCodingsAndTheDecoderRestoresTheImage()
    {
        var (encoder, decoder) = W8ConvAutoencoder.Build();
        var e = Summary(encoder);
        var d = Summary(decoder);
        Assert.That(e, Does.Contain("(None, 3, 3, 64)").And.Contain("(None, 30)"));
        Assert.That(d, Does.Contain("(None, 7, 7, 32)"), "Conv2DTranspose stride 2 'valid' on 3×3: (3 − 1)·2 + 3 = 7");
        Assert.That(d, Does.Contain("(None, 14, 14, 16)").And.Contain("(None, 28, 28)"));
        Assert.That(encoder.CountParams(), Is.EqualTo(160 + 4640 + 18496 + 17310));
        Assert.That(decoder.CountParams(), Is.EqualTo(4464 + 4640 + 4624 + 145));
    }

    [Test]
    public void W14EncoderSplitsMeanAndLogVarianceAndTheDecoderReturnsLogits()
    {
        var (encoder, decoder) = W14ConvVae.Build();
        var e = Summary(encoder);
        Assert.That(e, Does.Contain("(None, 13, 13, 32)").And.Contain("(None, 6, 6, 64)"));
        Assert.That(encoder.CountParams(), Is.EqualTo(320 + 18496 + (6 * 6 * 64 * 4 + 4)));
        var d = Summary(decoder);
        Assert.That(d, Does.Contain("(None, 28, 28, 1)"));
        Assert.That(decoder.CountParams(), Is.EqualTo((2 * 1568 + 1568) + (9 * 32 * 64 + 64) + (9 * 64 * 32 + 32) + (9 * 32 + 1)));
    }

    [Test]
    public void W15GeneratorMakesImagesAndTheDiscriminatorHasTwoNonTrainableWeightsPerBatchNormChannel()
    {
        var (generator, discriminator) = W15Dcgan.Build();
        var g = Summary(generator);
        Assert.That(g, Does.Contain("(None, 28, 28, 1)"));
        Assert.That(generator.NonTrainableWeights.Sum(w => w.Shape.Size), Is.EqualTo(2 * 128 + 2 * 64));
        Summary(discriminator);
        Assert.That(discriminator.NonTrainableWeights.Sum(w => w.Shape.Size), Is.EqualTo(2 * 128));
        Assert.That(discriminator.CountParams(), Is.EqualTo((25 * 64 + 64) + (25 * 64 * 128 + 128) + 4 * 128 + (7 * 7 * 128 + 1)));
    }

    [Test]
    public void Vgg16FlopCountIsTheKnown15Point5GigaMultiplyAdds()
    {
        Assert.That(W18Vgg16.ForwardFlops() / 2, Is.EqualTo(15.47e9).Within(0.01e9));
    }
}
