using NUnit.Framework;
using Nabla.Samples;
using Nabla.Tests.Layers;

namespace Nabla.Tests.Samples;

/// <summary>The text classifiers' networks (W19, W20) against the parameter counts Keras prints for the seed configurations.</summary>
public sealed class TextSampleModelTests : KerasTestBase
{
    [Test]
    public void W19Conv1DClassifierHasTheSeedsParameterCount()
    {
        var model = W19SpamConv1D.Build();
        var text = model.Summary(_ => { });
        Assert.That(model.CountParams(), Is.EqualTo(2_789_889));
        Assert.That(text, Does.Contain("(None, 200, 256)").And.Contain("(None, 198, 256)").And.Contain("(None, 256)"));
    }

    [Test]
    public void W20BidirectionalLstmClassifierHasTheSeedsParameterCount()
    {
        var model = W20SpamBiLstm.Build();
        var text = model.Summary(_ => { });
        Assert.That(model.CountParams(), Is.EqualTo(411_777));
        Assert.That(text, Does.Contain("(None, 128)"), "Bidirectional(LSTM(64)) concatenates both directions");
    }

    [Test]
    public void ConfusionFiguresFollowTheirDefinitions()
    {
        var c = new SpamClassification.Confusion(TruePositive: 30, FalsePositive: 10, TrueNegative: 50, FalseNegative: 10);
        Assert.That(c.Accuracy, Is.EqualTo(0.8));
        Assert.That(c.Precision, Is.EqualTo(0.75));
        Assert.That(c.Recall, Is.EqualTo(0.75));
        Assert.That(new SpamClassification.Confusion(0, 0, 5, 0).Precision, Is.NaN, "no positive prediction: precision is undefined");
    }
}
