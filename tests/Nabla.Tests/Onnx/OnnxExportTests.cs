using NUnit.Framework;
using Nabla.Layers;
using Nabla.Onnx;
using static Nabla.Tests.Onnx.OnnxTestSupport;

namespace Nabla.Tests.Onnx;

/// <summary>Every exportable layer and the sample models: the exported file runs in ONNX Runtime and matches Predict.</summary>
[TestFixture]
public sealed class OnnxExportTests
{
    private static IEnumerable<OnnxCase> Cases() => OnnxCases.All();

    [SetUp]
    public void Fresh() => Keras.ClearSession();

    /// <summary>Builds the case with random weights and returns the model, its export and inputs at the given batch.</summary>
    internal static (Model Model, byte[] Onnx) Export(OnnxCase c)
    {
        Keras.ClearSession();
        Keras.SetRandomSeed(3);
        var model = c.Build();
        Randomize(model);
        return (model, model.ExportOnnxBytes());
    }

    [TestCaseSource(nameof(Cases))]
    public void OrtMatchesPredict(OnnxCase c)
    {
        var (model, onnx) = Export(c);
        foreach (var batch in new[] { 1, 7 })
        {
            var xs = c.Inputs(batch);
            var expected = model.PredictMulti(xs, batchSize: batch);
            var actual = RunOrt(onnx, xs);
            Assert.That(actual, Has.Length.EqualTo(expected.Length));
            for (var k = 0; k < expected.Length; k++) AssertClose(actual[k], expected[k], $"{c} batch {batch} output {k}");
        }
    }

    [Test]
    public void BatchDimensionStaysSymbolic()
    {
        var (_, onnx) = Export(OnnxCases.Samples().Last());
        var proto = Nabla.Onnx.Onnx.Parse(onnx, "lenet");
        Assert.Multiple(() =>
        {
            Assert.That(proto.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("N"));
            Assert.That(proto.Graph.Output[0].Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("N"));
            Assert.That(proto.OpsetImport.Single().Version, Is.EqualTo(17));
            Assert.That(proto.Graph.Node.Select(n => n.OpType), Does.Contain("Conv").And.Contain("MaxPool").And.Contain("MatMul"));
            Assert.That(OrtOutputShapes(onnx, Input(3, [28, 28, 1], 1))[0], Is.EqualTo(new[] { 3, 10 }));
        });
    }

    [Test]
    public void DropoutIsRemovedAndBatchNormUsesMovingStatistics()
    {
        var (_, mlp) = Export(OnnxCases.Samples().First());
        var bn = OnnxCases.Layers().First(c => c.Name == "BatchNormalization rank 4");
        var (_, bnOnnx) = Export(bn);
        var mlpOps = Nabla.Onnx.Onnx.Parse(mlp, "w2").Graph.Node.Select(n => n.OpType).ToList();
        var bnOps = Nabla.Onnx.Onnx.Parse(bnOnnx, "bn").Graph.Node.Select(n => n.OpType).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(mlpOps, Does.Not.Contain("Dropout").And.Not.Contain("RandomUniform"));
            Assert.That(bnOps, Does.Contain("BatchNormalization"));
        });
    }

    [Test]
    public void ConvFiltersAreStoredTransposedOnce()
    {
        var (model, onnx) = Export(OnnxCases.Layers().First(c => c.Name == "Conv2D valid"));
        var g = Nabla.Onnx.Onnx.Parse(onnx, "conv").Graph;
        var conv = g.Node.Single(n => n.OpType == "Conv");
        var w = g.Initializer.Single(i => i.Name == conv.Input[1]);
        Assert.That(w.Dims, Is.EqualTo(new long[] { 4, 3, 3, 3 }), "OIHW");
        Assert.That(g.Initializer.Count(i => i.Name.Contains("kernel", StringComparison.Ordinal)), Is.EqualTo(1), "the HWIO kernel is not stored too");
        Assert.That(model.Weights, Has.Count.EqualTo(2));
    }

    [Test]
    public void ExportToFileAndGraphApi()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3), "x");
        var w = g.Constant(Tensor.FromArray([1f, 2, 3, 4, 5, 6], 3, 2), "w");
        var y = g.Tanh(g.MatMul(x, w)) * 2.0;
        var path = Path.Combine(Path.GetTempPath(), $"nabla-graph-{Environment.ProcessId}.onnx");
        try
        {
            Nabla.Onnx.Onnx.Export(g, [x], [y], path, ["y"]);
            var input = Tensor.FromArray([0.1f, -0.2f, 0.3f, 0.5f, 0.25f, -1f], 2, 3);
            using var s = new Session(g, Device.Cpu);
            AssertClose(RunOrt(File.ReadAllBytes(path), input)[0], s.Run(y, new Dictionary<Output, Tensor> { [x] = input }), "graph export");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void LayerWithoutMappingIsNamed()
    {
        var x = Keras.Input(4);
        var y = new Lambda(v => v.Graph.Dropout(v, 0.5), name: "always_dropout").Apply(x);
        var model = new Model(x, y);
        var e = Assert.Throws<OnnxException>(() => model.ExportOnnxBytes());
        Assert.That(e!.Message, Does.Contain("layer 'always_dropout'").And.Contain("Random"));
    }

    [Test]
    public void UnbuiltModelIsRefused()
    {
        var model = new Sequential([new Dense(3)]);
        var e = Assert.Throws<InvalidOperationException>(() => model.ExportOnnxBytes());
        Assert.That(e!.Message, Does.Contain("not built"));
    }

    [Test]
    public void OutputsNeedingAnotherPlaceholderAreRefused()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Float32, new Shape(-1, 2), "a");
        var b = g.Placeholder(DType.Float32, new Shape(-1, 2), "b");
        var e = Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.ExportBytes(g, [a], [a + b]));
        Assert.That(e!.Message, Does.Contain("placeholder 'b'"));
    }

    [Test]
    public void TrainingModeBatchNormIsRefused()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 2), "x");
        var c = g.Constant(Tensor.Ones(new Shape(2)));
        var (y, _, _) = g.FusedBatchNorm(x, c, c, c, c, 1e-3, training: true, name: "bn");
        var e = Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.ExportBytes(g, [x], [y]));
        Assert.That(e!.Message, Does.Contain("FusedBatchNorm 'bn'").And.Contain("training"));
    }
}
