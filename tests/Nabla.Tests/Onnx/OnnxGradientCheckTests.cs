using NUnit.Framework;
using Nabla.Layers;
using Nabla.Onnx;
using Nabla.Samples;

namespace Nabla.Tests.Onnx;

/// <summary>The ONNX gradient check on exported sample models, and the gradcheck command that prints it.</summary>
[TestFixture]
public sealed class OnnxGradientCheckTests
{
    [SetUp]
    public void Fresh() => Keras.ClearSession();

    private static IEnumerable<OnnxCase> Samples() => OnnxCases.Samples();

    [TestCaseSource(nameof(Samples))]
    public void ExportedSampleModelsPass(OnnxCase c)
    {
        var (model, onnx) = OnnxExportTests.Export(c);
        var result = OnnxGradientCheck.Run(onnx, c.Name, batch: 2, samplesPerTensor: 4);
        Assert.Multiple(() =>
        {
            foreach (var w in model.Weights)
                Assert.That(result.Tensors.Any(t => t.IsInitializer && t.Name.StartsWith(w.Name, StringComparison.Ordinal)), $"weight {w.Name} is checked");
            Assert.That(result.Tensors.Count(t => !t.IsInitializer), Is.EqualTo(1), "the input is checked");
            Assert.That(result.Tensors.All(t => t.Checked > 0));
            Assert.That(result.Passed, string.Join("\n", result.Tensors.Select(t => $"{t.Name}: {t.WorstRatio:G3}")));
        });
    }

    [Test]
    public void DisagreementIsReported()
    {
        var b = new OnnxBuilder();
        b.Input("x0", [-1, 3]);
        b.Output(b.Node("Sign", [b.Node("Sub", ["x0", "x0"])]));
        var result = OnnxGradientCheck.Run(b.Bytes(), "sign", batch: 1);
        Assert.That(result.Passed, Is.True, "sign(x − x) is constant, gradient 0 both ways");

        var c = new OnnxBuilder();
        c.Input("x0", [-1, 3]);
        // relu(x·z) at z = 0 sits on the kink: relu'(0) is taken as 0, so ∂/∂z is 0 symbolically, while the central
        // difference sees Σ w·relu(±x·h) and gives ½·Σ w·|x|. The check must report that tensor, and only that one.
        c.Output(c.Node("Relu", [c.Node("Mul", ["x0", c.Scalar("zero", 0f)])]));
        var relu = OnnxGradientCheck.Run(c.Bytes(), "relu-at-kink", batch: 1);
        Assert.Multiple(() =>
        {
            Assert.That(relu.Passed, Is.False);
            Assert.That(relu.Tensors.Single(t => t.Name == "zero").Passed, Is.False, "∂/∂z: 0 symbolic vs ½Σw|x| numeric");
            Assert.That(relu.Tensors.Single(t => t.Name == "x0").Passed, Is.True, "∂/∂x = relu'(0)·z = 0 both ways");
        });
    }

    [Test]
    public void CommandPrintsWorstErrorPerTensor()
    {
        var (_, onnx) = OnnxExportTests.Export(OnnxCases.Samples().First());
        var path = Path.Combine(Path.GetTempPath(), $"nabla-gradcheck-{Environment.ProcessId}.onnx");
        try
        {
            File.WriteAllBytes(path, onnx);
            var output = new StringWriter();
            var code = OnnxGradCheckCommand.Run(path, 2, 4, 1, output);
            var text = output.ToString();
            Assert.Multiple(() =>
            {
                Assert.That(code, Is.Zero, text);
                Assert.That(text, Does.Contain("dense/kernel").And.Contain("initializer").And.Contain("max abs err").And.Contain("PASS"));
            });
            var bad = new StringWriter();
            File.WriteAllBytes(path, onnx.AsSpan(0, onnx.Length / 2).ToArray());
            Assert.That(OnnxGradCheckCommand.Run(path, 2, 4, 1, bad), Is.EqualTo(2));
            Assert.That(bad.ToString(), Does.Contain("not a valid ONNX model"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
