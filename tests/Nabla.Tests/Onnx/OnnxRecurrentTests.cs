using NUnit.Framework;
using Nabla.Layers;
using Nabla.Onnx;
using static Nabla.Tests.Onnx.OnnxTestSupport;

namespace Nabla.Tests.Onnx;

/// <summary>
/// ONNX RNN, LSTM and GRU nodes written by hand in the forms our exporter never writes (bidirectional, layout 1,
/// sequence_lens, initial states of two directions, explicit default activations, a missing bias or Y), imported and
/// checked against ONNX Runtime on the same file; the options we cannot honour fail naming the node; what the
/// exporter writes for recurrent layers.
/// </summary>
[TestFixture]
public sealed class OnnxRecurrentTests
{
    private const int Steps = 5, Features = 3, Hidden = 4;

    [SetUp]
    public void Fresh() => Keras.ClearSession();

    /// <summary>One hand-built recurrent model: its bytes and how to make its inputs at a batch size.</summary>
    public sealed record Recurrent(string Name, byte[] Onnx, Func<int, Tensor[]> Inputs)
    {
        /// <inheritdoc/>
        public override string ToString() => Name;
    }

    private static IEnumerable<Recurrent> HandBuilt()
    {
        yield return Build("RNN forward, no B", "RNN", 1, layout: 0, bias: false);
        yield return Build("RNN reverse, sequence_lens, initial_h", "RNN", 1, layout: 0, direction: "reverse", lengths: true, initialStates: true);
        yield return Build("LSTM bidirectional, initial states", "LSTM", 4, layout: 0, direction: "bidirectional", initialStates: true);
        yield return Build("LSTM forward, sequence_lens, explicit activations", "LSTM", 4, layout: 0, lengths: true, activations: ["Sigmoid", "Tanh", "Tanh"]);
        yield return Build("LSTM bidirectional, sequence_lens, only Y_h and Y_c", "LSTM", 4, layout: 0, direction: "bidirectional", lengths: true, noY: true);
        yield return Build("GRU linear_before_reset 1, bidirectional, sequence_lens", "GRU", 3, layout: 0, direction: "bidirectional", lengths: true, linearBeforeReset: 1);
        yield return Build("GRU linear_before_reset 0, reverse, initial_h", "GRU", 3, layout: 0, direction: "reverse", initialStates: true);
        yield return Build("GRU linear_before_reset 0, forward, sequence_lens", "GRU", 3, layout: 0, lengths: true);
    }

    /// <summary>
    /// A model with one recurrent node: X [T, B, I] (layout 0) or [B, T, I] (layout 1) and, as wanted, sequence_lens
    /// (int32 graph input, lengths 1..T) and initial states (graph inputs); every output of the node is a graph output.
    /// </summary>
    private static Recurrent Build(string name, string op, int gates, int layout, string direction = "forward", bool bias = true,
        bool lengths = false, bool initialStates = false, string[]? activations = null, int? linearBeforeReset = null, bool noY = false)
    {
        var b = new OnnxBuilder();
        var d = direction == "bidirectional" ? 2 : 1;
        b.Input("x", layout == 0 ? [Steps, -1, Features] : [-1, Steps, Features]);
        var inputs = new List<string> { "x", b.Init("W", d, gates * Hidden, Features), b.Init("R", d, gates * Hidden, Hidden), bias ? b.Init("B", d, 2 * gates * Hidden) : "" };
        if (lengths) b.Input("lens", [-1], DType.Int32);
        inputs.Add(lengths ? "lens" : "");
        var states = initialStates ? (op == "LSTM" ? 2 : 1) : 0;
        for (var s = 0; s < states; s++)
        {
            b.Input($"state{s}", layout == 0 ? [d, -1, Hidden] : [-1, d, Hidden]);
            inputs.Add($"state{s}");
        }
        var attrs = new List<Nabla.Onnx.Proto.AttributeProto> { OnnxBuilder.I("hidden_size", Hidden), OnnxBuilder.S("direction", direction) };
        if (layout != 0) attrs.Add(OnnxBuilder.I("layout", layout));
        if (linearBeforeReset is { } lbr) attrs.Add(OnnxBuilder.I("linear_before_reset", lbr));
        if (activations is not null)
        {
            var a = new Nabla.Onnx.Proto.AttributeProto { Name = "activations", Type = Nabla.Onnx.Proto.AttributeProto.Types.AttributeType.Strings };
            foreach (var name1 in Enumerable.Range(0, d).SelectMany(_ => activations)) a.Strings.Add(Google.Protobuf.ByteString.CopyFromUtf8(name1));
            attrs.Add(a);
        }
        var outs = b.NodeMulti(op, [.. inputs], op == "LSTM" ? 3 : 2, [.. attrs]);
        if (noY) b.LastNode.Output[0] = "";
        foreach (var o in noY ? outs.Skip(1) : outs) b.Output(o);
        return new Recurrent(name, b.Bytes(), batch =>
        {
            var xs = new List<Tensor> { Tensor.RandomNormal(layout == 0 ? new Shape(Steps, batch, Features) : new Shape(batch, Steps, Features), 0, 1, (ulong)(11 * batch)) };
            if (lengths) xs.Add(Tensor.FromArray(Enumerable.Range(0, batch).Select(i => 1 + (3 * i + 2) % Steps).ToArray(), batch));
            for (var s = 0; s < states; s++)
                xs.Add(Tensor.RandomNormal(layout == 0 ? new Shape(d, batch, Hidden) : new Shape(batch, d, Hidden), 0, 1, (ulong)(13 * batch + s)));
            return [.. xs];
        });
    }

    [TestCaseSource(nameof(HandBuilt))]
    public void HandBuiltMatchesOrt(Recurrent c)
    {
        var m = Nabla.Onnx.Onnx.Import(c.Onnx, c.Name);
        using var session = new Session(m.Graph, Device.Cpu);
        foreach (var batch in new[] { 1, 4 })
        {
            var xs = c.Inputs(batch);
            var expected = RunOrt(c.Onnx, xs);
            var actual = m.Run(session, xs);
            Assert.That(actual, Has.Length.EqualTo(expected.Length));
            for (var k = 0; k < expected.Length; k++)
                AssertClose(actual[k].ToArray<float>(), new Tensor(expected[k].Select(v => (double)v).ToArray(), actual[k].Shape, DType.Float64), $"{c} batch {batch} output {k}");
        }
    }

    /// <summary>
    /// ONNX Runtime refuses layout 1 ("batchwise recurrent operations are not supported"), so a batch-major node is
    /// checked against ORT running the same weights time-major, with the inputs and outputs transposed.
    /// </summary>
    [TestCase("LSTM", 4, "reverse")]
    [TestCase("GRU", 3, "bidirectional")]
    [TestCase("RNN", 1, "forward")]
    public void LayoutOneMatchesOrtOnLayoutZero(string op, int gates, string direction)
    {
        var timeMajor = Build("layout 0", op, gates, layout: 0, direction: direction, initialStates: true, lengths: true);
        var batchMajor = Build("layout 1", op, gates, layout: 1, direction: direction, initialStates: true, lengths: true);
        var m = Nabla.Onnx.Onnx.Import(batchMajor.Onnx, "layout1.onnx");
        using var session = new Session(m.Graph, Device.Cpu);
        var xs = batchMajor.Inputs(3);
        // x [B, T, I] → [T, B, I]; states [B, D, H] → [D, B, H]; lengths as they are.
        var ortInputs = xs.Select(t => t.Shape.Rank == 3 ? Transposed(t, [1, 0, 2]) : t).ToArray();
        var expected = RunOrt(timeMajor.Onnx, ortInputs);
        var actual = m.Run(session, xs);
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (var k = 0; k < actual.Length; k++)
        {
            // Y [B, T, D, H] → [T, D, B, H]; Y_h, Y_c [B, D, H] → [D, B, H].
            var ours = Transposed(actual[k], actual[k].Shape.Rank == 4 ? [1, 2, 0, 3] : [1, 0, 2]);
            AssertClose(ours.ToArray<float>(), new Tensor(expected[k].Select(v => (double)v).ToArray(), ours.Shape, DType.Float64), $"{op} {direction} output {k}");
        }
    }

    private static Tensor Transposed(Tensor t, int[] perm)
    {
        var g = new Graph();
        var x = g.Placeholder(t.DType, t.Shape);
        using var s = new Session(g, Device.Cpu);
        return s.Run(g.Transpose(x, perm), new Dictionary<Output, Tensor> { [x] = t });
    }

    private static OnnxCase Case(string name) => OnnxCases.All().First(c => c.Name == name);

    /// <summary>Recurrent exports pass the ONNX gradient check: the backward ops of the imported RNN/LSTM/GRU (and of the unrolled masked form) against central differences.</summary>
    [TestCase("SimpleRNN sequences go_backwards")]
    [TestCase("LSTM last")]
    [TestCase("GRU reset_before sequences")]
    [TestCase("Bidirectional LSTM concat sequences")]
    [TestCase("Masking GRU")]
    [TestCase("W9 recurrent autoencoder")]
    [TestCase("W20 spam BiLSTM")]
    [TestCase("Embedding masked LSTM")]
    public void ExportedRecurrentModelsPassTheGradientCheck(string name)
    {
        var c = Case(name);
        var (model, onnx) = OnnxExportTests.Export(c);
        var result = OnnxGradientCheck.Run(onnx, c.Name, batch: 2, samplesPerTensor: 6);
        Assert.Multiple(() =>
        {
            foreach (var w in model.Weights)
                Assert.That(result.Tensors.Any(t => t.IsInitializer && t.Name.StartsWith(w.Name, StringComparison.Ordinal)), $"weight {w.Name} is checked");
            Assert.That(result.Tensors.All(t => t.Checked > 0));
            Assert.That(result.Passed, string.Join("\n", result.Tensors.Select(t => $"{t.Name}: {t.WorstRatio:G3}")));
        });
    }

    /// <summary>An unmasked layer is one ONNX node with its weights stored once in ONNX's layout; a masked one is unrolled (no RNN node, a Where per step and state).</summary>
    [Test]
    public void UnmaskedLayersAreOneNodeMaskedOnesAreUnrolled()
    {
        var (_, plain) = OnnxExportTests.Export(Case("LSTM last"));
        var g = Nabla.Onnx.Onnx.Parse(plain, "lstm").Graph;
        var lstm = g.Node.Single(n => n.OpType == "LSTM");
        Assert.Multiple(() =>
        {
            Assert.That(g.Initializer.Single(i => i.Name == lstm.Input[1]).Dims, Is.EqualTo(new long[] { 1, 20, 3 }), "W [1, 4U, I]");
            Assert.That(g.Initializer.Single(i => i.Name == lstm.Input[2]).Dims, Is.EqualTo(new long[] { 1, 20, 5 }), "R [1, 4U, U]");
            Assert.That(g.Initializer.Single(i => i.Name == lstm.Input[3]).Dims, Is.EqualTo(new long[] { 1, 40 }), "B [1, 8U]");
            Assert.That(g.Initializer.Count(i => i.Name.Contains("kernel", StringComparison.Ordinal)), Is.EqualTo(2), "Keras's layout is not stored too");
            Assert.That(lstm.Attribute.Single(a => a.Name == "direction").S.ToStringUtf8(), Is.EqualTo("forward"));
        });

        var (_, masked) = OnnxExportTests.Export(Case("Embedding masked LSTM"));
        var ops = Nabla.Onnx.Onnx.Parse(masked, "masked").Graph.Node.Select(n => n.OpType).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(ops, Does.Not.Contain("LSTM"));
            Assert.That(ops.Count(o => o == "Where"), Is.EqualTo(7 * 3), "7 steps × (output, h, c)");
        });
    }

    /// <summary>What cannot be exported or imported fails naming the layer or the node.</summary>
    [Test]
    public void UnsupportedFormsAreNamed()
    {
        // A masked recurrence is unrolled, so its number of steps must be known.
        var ids = Keras.Input([-1], DType.Int32);
        var y = new LSTM(3, name: "free_length").Apply(new Embedding(9, 4, maskZero: true).Apply(ids));
        var model = new Model(ids, y);
        Keras.InitializeVariables(model.Weights);
        var e = Assert.Throws<OnnxException>(() => model.ExportOnnxBytes());
        Assert.That(e!.Message, Does.Contain("layer 'free_length'").And.Contain("number of steps"));

        // go_backwards with an unknown number of steps: the final state exports, the sequence does not.
        Keras.ClearSession();
        var x = Keras.Input([-1, 3]);
        var last = new GRU(2, goBackwards: true, name: "back_last").Apply(x);
        var lastModel = new Model(x, last);
        Keras.InitializeVariables(lastModel.Weights);
        Assert.That(lastModel.ExportOnnxBytes(), Is.Not.Empty);
        Keras.ClearSession();
        var x2 = Keras.Input([-1, 3]);
        var seq = new GRU(2, goBackwards: true, returnSequences: true, name: "back_seq").Apply(x2);
        var seqModel = new Model(x2, seq);
        Keras.InitializeVariables(seqModel.Weights);
        var e2 = Assert.Throws<OnnxException>(() => seqModel.ExportOnnxBytes());
        Assert.That(e2!.Message, Does.Contain("layer 'back_seq'").And.Contain("number of steps"));
    }

    [TestCase("clip", "attribute 'clip' is not supported")]
    [TestCase("activations", "activations [Relu, Tanh] are not supported")]
    [TestCase("peepholes", "peephole")]
    [TestCase("hidden_size", "hidden_size 5 does not match")]
    [TestCase("lengths of unknown steps", "sequence_lens needs the number of steps")]
    public void UnsupportedNodesFailNamingTheNode(string what, string message)
    {
        var b = new OnnxBuilder();
        b.Input("x", what == "lengths of unknown steps" ? [-1, -1, Features] : [Steps, -1, Features]);
        var gates = what == "peepholes" ? 4 : 2;
        var op = what == "peepholes" ? "LSTM" : what == "activations" ? "GRU" : "RNN";
        if (op == "GRU") gates = 3;
        if (op == "RNN") gates = 1;
        List<string> inputs = ["x", b.Init("W", 1, gates * Hidden, Features), b.Init("R", 1, gates * Hidden, Hidden)];
        if (what == "lengths of unknown steps")
        {
            b.Input("lens", [-1], DType.Int32);
            inputs.AddRange(["", "lens"]);
        }
        if (what == "peepholes") inputs.AddRange(["", "", "", "", b.Init("P", 1, 3 * Hidden)]);
        var attrs = new List<Nabla.Onnx.Proto.AttributeProto>();
        switch (what)
        {
            case "clip": attrs.Add(OnnxBuilder.F("clip", 3)); break;
            case "hidden_size": attrs.Add(OnnxBuilder.I("hidden_size", 5)); break;
            case "activations":
                var a = new Nabla.Onnx.Proto.AttributeProto { Name = "activations", Type = Nabla.Onnx.Proto.AttributeProto.Types.AttributeType.Strings };
                a.Strings.Add(Google.Protobuf.ByteString.CopyFromUtf8("Relu"));
                a.Strings.Add(Google.Protobuf.ByteString.CopyFromUtf8("Tanh"));
                attrs.Add(a);
                break;
        }
        b.Output(b.Node(op, [.. inputs], name: "rec", attributes: [.. attrs]));
        var e = Assert.Throws<OnnxException>(() => Nabla.Onnx.Onnx.Import(b.Bytes(), "rec.onnx"));
        Assert.That(e!.Message, Does.Contain($"node 'rec' ({op})").And.Contain(message));
    }

    /// <summary>An integer input that indexes no table cannot be generated: the gradient check says so, naming the input.</summary>
    [Test]
    public void GradientCheckRefusesIntegerInputsItCannotGenerate()
    {
        var b = new OnnxBuilder();
        b.Input("x0", [-1, 3]);
        b.Input("k", [-1, 3], DType.Int32);
        b.Output(b.Node("Mul", ["x0", b.Node("Cast", ["k"], OnnxBuilder.I("to", 1))]));
        var e = Assert.Throws<OnnxException>(() => OnnxGradientCheck.Run(b.Bytes(), "ints.onnx", batch: 1));
        Assert.That(e!.Message, Does.Contain("input 'k' is int32").And.Contain("Gather"));
    }
}
