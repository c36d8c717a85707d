using Google.Protobuf;
using NUnit.Framework;
using Nabla.Layers;
using Nabla.Onnx;
using Nabla.Onnx.Proto;
using static Nabla.Tests.Onnx.OnnxTestSupport;

namespace Nabla.Tests.Onnx;

/// <summary>Import: our own exports round-trip, hand-built files of ops we never export match ONNX Runtime, bad files fail clearly.</summary>
[TestFixture]
public sealed class OnnxImportTests
{
    private static IEnumerable<OnnxCase> Cases() => OnnxCases.All();

    [SetUp]
    public void Fresh() => Keras.ClearSession();

    [TestCaseSource(nameof(Cases))]
    public void RoundTripGivesPredictOutputs(OnnxCase c)
    {
        var (model, onnx) = OnnxExportTests.Export(c);
        var imported = Nabla.Onnx.Onnx.Import(onnx, c.Name);
        using var session = new Session(imported.Graph, Device.Cpu);
        foreach (var batch in new[] { 1, 7 })
        {
            var xs = c.Inputs(batch);
            var expected = model.PredictMulti(xs, batchSize: batch);
            var actual = imported.Run(session, xs);
            for (var k = 0; k < expected.Length; k++) AssertClose(actual[k].ToArray<float>(), expected[k], $"{c} batch {batch} output {k}");
        }
    }

    [Test]
    public void ImportedModelRunsOnTheReferenceDevice()
    {
        var (model, onnx) = OnnxExportTests.Export(OnnxCases.Samples().Last());
        var imported = Nabla.Onnx.Onnx.Import(onnx, "lenet");
        using var reference = new Session(imported.Graph, Device.Reference);
        var x = Input(2, [28, 28, 1], 3);
        AssertClose(imported.Run(reference, x)[0].ToArray<float>(), model.Predict(x), "LeNet imported, reference backend");
    }

    [Test]
    public void ImportFromFileNamesInputsAndOutputs()
    {
        var (_, onnx) = OnnxExportTests.Export(OnnxCases.Samples().First());
        var path = Path.Combine(Path.GetTempPath(), $"nabla-w2-{Environment.ProcessId}.onnx");
        try
        {
            File.WriteAllBytes(path, onnx);
            var m = Nabla.Onnx.Onnx.Import(path);
            Assert.Multiple(() =>
            {
                Assert.That(m.Inputs.Keys.Single(), Does.StartWith("input"));
                Assert.That(m.Outputs.Keys.Single(), Is.EqualTo("dense_2"));
                Assert.That(m.Inputs.Values.Single().Shape, Is.EqualTo(new Shape(-1, 784)));
                Assert.That(m.Initializers, Has.Count.EqualTo(6));
                Assert.That(m.Opset, Is.EqualTo(17));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Hand-built graphs of standard ops the exporter never writes (NCHW Conv with pads, Gemm, NCHW BatchNormalization, …), checked against ONNX Runtime.</summary>
    private static IEnumerable<TestCaseData> HandBuilt()
    {
        var r = new OnnxBuilder();
        yield return Case("Gemm transB alpha beta", [[-1, 4]], b => b.Node("Gemm", ["x0", b.Init("w", 3, 4), b.Init("c", 3)], OnnxBuilder.I("transB", 1), OnnxBuilder.F("alpha", 0.5f), OnnxBuilder.F("beta", 2f)));
        yield return Case("Conv NCHW pads bias", [[-1, 2, 6, 5]], b => b.Node("Conv", ["x0", b.Init("w", 3, 2, 3, 3), b.Init("b", 3)], OnnxBuilder.Is("pads", 1, 0, 2, 1), OnnxBuilder.Is("strides", 1, 2)));
        yield return Case("Conv same upper", [[-1, 2, 7, 8]], b => b.Node("Conv", ["x0", b.Init("w", 2, 2, 3, 3)], OnnxBuilder.S("auto_pad", "SAME_UPPER"), OnnxBuilder.Is("strides", 2, 2)));
        yield return Case("Conv dilation pads", [[-1, 2, 7, 7]], b => b.Node("Conv", ["x0", b.Init("w", 2, 2, 3, 3)], OnnxBuilder.Is("pads", 2, 2, 2, 2), OnnxBuilder.Is("dilations", 2, 2)));
        yield return Case("ConvTranspose pads output_padding", [[-1, 2, 3, 4]], b => b.Node("ConvTranspose", ["x0", b.Init("w", 2, 3, 3, 3), b.Init("b", 3)], OnnxBuilder.Is("strides", 2, 2), OnnxBuilder.Is("pads", 1, 0, 1, 1), OnnxBuilder.Is("output_padding", 1, 0)));
        yield return Case("MaxPool explicit pads", [[-1, 2, 5, 6]], b => b.Node("MaxPool", ["x0"], OnnxBuilder.Is("kernel_shape", 3, 3), OnnxBuilder.Is("pads", 1, 1, 1, 0), OnnxBuilder.Is("strides", 2, 2)));
        yield return Case("AveragePool count_include_pad", [[-1, 2, 5, 6]], b => b.Node("AveragePool", ["x0"], OnnxBuilder.Is("kernel_shape", 2, 3), OnnxBuilder.Is("pads", 1, 1, 0, 1), OnnxBuilder.I("count_include_pad", 1)));
        yield return Case("AveragePool same_upper", [[-1, 2, 5, 7]], b => b.Node("AveragePool", ["x0"], OnnxBuilder.Is("kernel_shape", 3, 3), OnnxBuilder.Is("strides", 2, 2), OnnxBuilder.S("auto_pad", "SAME_UPPER")));
        yield return Case("GlobalAveragePool then Flatten", [[-1, 3, 4, 5]], b => b.Node("Flatten", [b.Node("GlobalAveragePool", ["x0"])]));
        yield return Case("GlobalMaxPool", [[-1, 3, 4, 5]], b => b.Node("GlobalMaxPool", ["x0"]));
        yield return Case("BatchNormalization NCHW", [[-1, 3, 4, 2]], b => b.Node("BatchNormalization", ["x0", b.Init("s", 3), b.Init("b", 3), b.Init("m", 3), b.Positive("v", 3)], OnnxBuilder.F("epsilon", 1e-3f)));
        yield return Case("Clip LeakyRelu Elu HardSigmoid", [[-1, 6]], b =>
            b.Node("HardSigmoid", [b.Node("Elu", [b.Node("LeakyRelu", [b.Node("Clip", ["x0", b.Scalar("lo", -0.5f), b.Scalar("hi", 0.8f)])], OnnxBuilder.F("alpha", 0.2f))], OnnxBuilder.F("alpha", 0.5f))]));
        yield return Case("Softmax axis 1 of 3", [[-1, 3, 4]], b => b.Node("Softmax", ["x0"], OnnxBuilder.I("axis", 1)));
        yield return Case("Split Concat Slice", [[-1, 6]], b =>
        {
            var parts = b.NodeMulti("Split", ["x0", b.Ints("split", 2, 4)], 2, OnnxBuilder.I("axis", 1));
            var sliced = b.Node("Slice", [parts[1], b.Ints("starts", 1), b.Ints("ends", -1), b.Ints("axes", 1)]);
            return b.Node("Concat", [sliced, parts[0]], OnnxBuilder.I("axis", 1));
        });
        yield return Case("Unsqueeze Squeeze Transpose Reshape", [[-1, 2, 3]], b =>
            b.Node("Reshape", [b.Node("Squeeze", [b.Node("Transpose", [b.Node("Unsqueeze", ["x0", b.Ints("axes", 1)])], OnnxBuilder.Is("perm", 0, 3, 2, 1)), b.Ints("axes", 3)]), b.Ints("shape", 0, -1)]));
        yield return Case("ReduceMean ReduceSum keepdims", [[-1, 3, 4]], b =>
            b.Node("Add", [b.Node("ReduceMean", ["x0"], OnnxBuilder.Is("axes", 2)), b.Node("ReduceSum", ["x0", b.Ints("axes", -1)])]));
        yield return Case("Pad Sum Max Mean Where", [[-1, 3]], b =>
        {
            var padded = b.Node("Pad", ["x0", b.Ints("pads", 0, 1, 0, 2), b.Scalar("v", 0.5f)]);
            var m = b.Node("Max", [padded, b.Scalar("z", 0f)]);
            var s = b.Node("Sum", [m, padded, padded]);
            var mean = b.Node("Mean", [s, m]);
            return b.Node("Where", [b.Node("Greater", [mean, b.Scalar("t", 0.3f)]), mean, b.Node("Neg", [mean])]);
        });
        yield return Case("Constant Tile Expand MatMul", [[-1, 2, 3]], b =>
        {
            var c = b.Node("Constant", [], OnnxBuilder.T("value", b.Tensor("c", 3, 2)));
            var tiled = b.Node("Tile", ["x0", b.Ints("repeats", 1, 2, 1)]);
            return b.Node("MatMul", [b.Node("Expand", [tiled, b.Ints("shape", 1, 4, 3)]), c]);
        });
        _ = r;

        static TestCaseData Case(string name, int[][] inputs, Func<OnnxBuilder, string> body)
        {
            var b = new OnnxBuilder();
            for (var i = 0; i < inputs.Length; i++) b.Input($"x{i}", inputs[i]);
            b.Output(body(b));
            return new TestCaseData(b.Bytes(), inputs).SetName($"HandBuilt({name})");
        }
    }

    [TestCaseSource(nameof(HandBuilt))]
    public void HandBuiltMatchesOrt(byte[] onnx, int[][] inputs)
    {
        var m = Nabla.Onnx.Onnx.Import(onnx, "hand-built");
        using var session = new Session(m.Graph, Device.Cpu);
        foreach (var batch in new[] { 1, 3 })
        {
            var xs = inputs.Select((s, i) => Tensor.RandomNormal(new Shape([batch, .. s.Skip(1)]), 0, 1, (ulong)(7 * batch + i))).ToArray();
            var expected = RunOrt(onnx, xs);
            var actual = m.Run(session, xs);
            for (var k = 0; k < expected.Length; k++)
                AssertClose(actual[k].ToArray<float>(), new Tensor(expected[k].Select(v => (double)v).ToArray(), actual[k].Shape, DType.Float64), $"batch {batch} output {k}");
        }
    }

    [Test]
    public void TruncatedFilesFailClearly()
    {
        var (_, onnx) = OnnxExportTests.Export(OnnxCases.Samples().Last());
        foreach (var length in new[] { 1, 7, onnx.Length / 3, onnx.Length / 2, onnx.Length - 3 })
        {
            var e = Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import(onnx.AsSpan(0, length).ToArray(), "cut.onnx"), $"length {length}");
            Assert.That(e!.Message, Does.Contain("cut.onnx"));
        }
    }

    [TestCase("Conv2D same stride 2", 5)]
    [TestCase("Conv2DTranspose output padding", 6)]
    [TestCase("MaxPooling2D same odd", 7)]
    [TestCase("BatchNormalization rank 4", 8)]
    [TestCase("W7 stacked autoencoder", 9)]
    [TestCase("LSTM return_state", 10)]
    [TestCase("Bidirectional GRU sum", 11)]
    [TestCase("Embedding masked GRU reset_after", 12)]
    public void CorruptedFilesFailClearlyAndNeverCrash(string model, int seed)
    {
        var (_, onnx) = OnnxExportTests.Export(OnnxCases.All().First(c => c.Name == model));
        // NABLA_ONNX_FUZZ_SEED shifts the seeds for a longer local fuzzing session (CI runs the fixed ones).
        var rng = new Random(seed + int.Parse(Environment.GetEnvironmentVariable("NABLA_ONNX_FUZZ_SEED") ?? "0", System.Globalization.CultureInfo.InvariantCulture));
        var (clean, rejected) = (0, 0);
        for (var trial = 0; trial < 1000; trial++)
        {
            var bad = (byte[])onnx.Clone();
            if (trial % 5 == 4) bad = bad.AsSpan(0, rng.Next(bad.Length)).ToArray();
            for (var k = 0; k < 1 + trial % 4; k++) if (bad.Length > 0) bad[rng.Next(bad.Length)] = (byte)rng.Next(256);
            try
            {
                // A changed byte inside weight data (or a name) still makes a valid model; it must then build a graph.
                var m = Nabla.Onnx.Onnx.Import(bad, "corrupt.onnx");
                Assert.That(m.Outputs, Is.Not.Empty);
                clean++;
            }
            catch (OnnxException e)
            {
                Assert.That(e.Message, Does.Contain("corrupt.onnx"));
                rejected++;
            }
        }
        TestContext.Out.WriteLine($"{rejected} rejected, {clean} still valid");
        Assert.That(rejected, Is.GreaterThan(200), "corruption must be detected");
        Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import([], "empty.onnx"));
        Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import(System.Text.Encoding.UTF8.GetBytes("not a model at all, just text"), "text.onnx"));
    }

    [Test]
    public void NodesTheGraphBuilderRefusesAreImportErrors()
    {
        var b = new OnnxBuilder();
        b.Input("x0", [-1, 4]);
        b.Output(b.Node("MatMul", ["x0", b.Init("w", 5, 3)], name: "mm"));
        var e = Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import(b.Bytes(), "m.onnx"));
        Assert.That(e!.Message, Does.Contain("node 'mm' (MatMul)").And.Contain("inner dimensions differ"));
        Assert.That(e.InnerException, Is.InstanceOf<ShapeException>());
    }

    [Test]
    public void UnsupportedOpNamesNodeAndType()
    {
        var b = new OnnxBuilder();
        b.Input("x0", [-1, 4]);
        b.Output(b.Node("Hardmax", ["x0"], name: "my_hardmax"));
        var e = Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import(b.Bytes(), "m.onnx"));
        Assert.That(e!.Message, Does.Contain("node 'my_hardmax' (Hardmax)").And.Contain("not supported"));
    }

    [Test]
    public void UnsupportedAttributeNamesNodeAndType()
    {
        var b = new OnnxBuilder();
        b.Input("x0", [-1, 4, 5, 5]);
        b.Output(b.Node("Conv", ["x0", b.Init("w", 4, 2, 3, 3)], name: "grouped", attributes: [OnnxBuilder.I("group", 2)]));
        var e = Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import(b.Bytes(), "m.onnx"));
        Assert.That(e!.Message, Does.Contain("node 'grouped' (Conv)").And.Contain("group"));

        var c = new OnnxBuilder();
        c.Input("x0", [-1, 4]);
        c.Output(c.Node("Relu", ["x0"], name: "odd", attributes: [OnnxBuilder.I("mystery", 1)]));
        var e2 = Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import(c.Bytes(), "m.onnx"));
        Assert.That(e2!.Message, Does.Contain("node 'odd' (Relu): attribute 'mystery' is not supported"));
    }

    [Test]
    public void MissingInputsAndOtherDomainsFail()
    {
        var b = new OnnxBuilder();
        b.Input("x0", [-1, 4]);
        b.Output(b.Node("Add", ["x0", "nowhere"], name: "add"));
        Assert.That(Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import(b.Bytes(), "m.onnx"))!.Message, Does.Contain("'nowhere'"));

        var d = new OnnxBuilder();
        d.Input("x0", [-1, 4]);
        d.Output(d.Node("FusedGemm", ["x0"], name: "ms", domain: "com.microsoft"));
        Assert.That(Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import(d.Bytes(), "m.onnx"))!.Message, Does.Contain("com.microsoft"));
    }
}

/// <summary>Writes small ONNX models by hand (opset 17), for ops and attributes our exporter never produces.</summary>
internal sealed class OnnxBuilder
{
    private readonly GraphProto _g = new() { Name = "hand" };
    private int _n;
    private ulong _seed = 11;

    public void Input(string name, int[] shape, DType dtype = DType.Float32) => _g.Input.Add(Nabla.Onnx.OnnxTypes.ValueInfo(name, dtype, new Shape(shape)));

    /// <summary>The node added last (to blank an optional output's name).</summary>
    public NodeProto LastNode => _g.Node[^1];

    public void Output(string name) => _g.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });

    public TensorProto Tensor(string name, params int[] shape) => Nabla.Onnx.OnnxTypes.ToProto(Nabla.Tensor.RandomNormal(new Shape(shape), 0, 0.5, _seed++), name);

    public string Init(string name, params int[] shape)
    {
        _g.Initializer.Add(Tensor(name, shape));
        return name;
    }

    public string Positive(string name, params int[] shape)
    {
        _g.Initializer.Add(Nabla.Onnx.OnnxTypes.ToProto(Nabla.Tensor.RandomUniform(new Shape(shape), 0.5, 1.5, _seed++), name));
        return name;
    }

    public string Scalar(string name, float v)
    {
        _g.Initializer.Add(Nabla.Onnx.OnnxTypes.ToProto(Nabla.Tensor.Scalar(v), name));
        return name;
    }

    public string Ints(string name, params long[] v)
    {
        _g.Initializer.Add(Nabla.Onnx.OnnxTypes.ToProto(Nabla.Tensor.FromArray(v, v.Length), name + "_" + _n++));
        return _g.Initializer[^1].Name;
    }

    public string Node(string op, string[] inputs, params AttributeProto[] attributes) => Node(op, inputs, null, null, attributes);

    public string Node(string op, string[] inputs, string? name = null, string? domain = null, params AttributeProto[] attributes) => NodeMulti(op, inputs, 1, name, domain, attributes)[0];

    public string[] NodeMulti(string op, string[] inputs, int outputs, params AttributeProto[] attributes) => NodeMulti(op, inputs, outputs, null, null, attributes);

    private string[] NodeMulti(string op, string[] inputs, int outputs, string? name, string? domain, AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name ?? $"{op}_{_n++}", Domain = domain ?? "" };
        node.Input.Add(inputs);
        var outs = Enumerable.Range(0, outputs).Select(i => $"{node.Name}_out{i}").ToArray();
        node.Output.Add(outs);
        node.Attribute.Add(attributes);
        _g.Node.Add(node);
        return outs;
    }

    public byte[] Bytes()
    {
        var m = new ModelProto { IrVersion = 8, Graph = _g, ProducerName = "test" };
        m.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        return m.ToByteArray();
    }

    public static AttributeProto I(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    public static AttributeProto F(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };

    public static AttributeProto S(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

    public static AttributeProto T(string name, TensorProto t) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = t };

    public static AttributeProto Is(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(v);
        return a;
    }
}
