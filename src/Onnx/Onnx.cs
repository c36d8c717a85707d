using Google.Protobuf;
using Nabla.Layers;
using Nabla.Onnx.Proto;

namespace Nabla.Onnx;

/// <summary>
/// ONNX export and import (opset <see cref="Opset"/>, IR version 8). Export writes the inference form of a graph:
/// dropout and noise are already identities in it, batch norm uses its moving statistics, and the batch dimension
/// stays symbolic ("N"). Import reads a model back into a Nabla <see cref="Graph"/> that runs on any device.
/// </summary>
/// <remarks>
/// <para>Serialisation is Google.Protobuf with C# classes generated at build time (Grpc.Tools' protoc) from a subset
/// of ONNX's own schema (Proto/onnx.proto). Compared with OnnxSharp, which bundles generated classes of the whole
/// schema, this depends only on the protobuf runtime, keeps the schema we rely on visible in the repository, and
/// follows the protobuf runtime's updates; compared with hand-written wire encoding, the generated parser gives
/// bounds-checked decoding of untrusted files for free (a truncated or corrupted file is an
/// <see cref="InvalidProtocolBufferException"/>, reported as an <see cref="OnnxException"/>).</para>
/// <para>Layouts: Nabla's convolutions and pooling are NHWC with HWIO filters, ONNX's are NCHW with OIHW weights. The
/// exporter puts a Transpose on each side of every spatial op and stores filters transposed; ONNX Runtime's transpose
/// optimizer cancels the back-to-back pairs inside a conv block. The importer does the converse.</para>
/// </remarks>
public static class Onnx
{
    /// <summary>The ONNX opset written by the exporter: 17.</summary>
    public const int Opset = OnnxTypes.Opset;

    /// <summary>
    /// Writes the computation from <paramref name="inputs"/> (placeholders) to <paramref name="outputs"/> as an ONNX
    /// model. Variables become initializers holding their current values in <paramref name="session"/> (default: the
    /// session Keras models of this graph use).
    /// </summary>
    /// <param name="graph">The graph holding the nodes.</param>
    /// <param name="inputs">Placeholders, in the order of the model's inputs; their names become the ONNX input names.</param>
    /// <param name="outputs">Values computed, in order.</param>
    /// <param name="path">The .onnx file written (replaced if it exists).</param>
    /// <param name="outputNames">ONNX names of the outputs (default: the nodes' names).</param>
    /// <param name="session">Where variable values are read.</param>
    /// <exception cref="OnnxException">A node has no faithful ONNX mapping (the message names it, its op type and its layer), a variable has no value, or an output depends on a placeholder that is not an input.</exception>
    public static void Export(Graph graph, Output[] inputs, Output[] outputs, string path, string[]? outputNames = null, Session? session = null)
    {
        var bytes = ExportBytes(graph, inputs, outputs, outputNames, session);
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>As <see cref="Export(Graph, Output[], Output[], string, string[], Session)"/>, returning the serialised model.</summary>
    /// <exception cref="OnnxException">As <see cref="Export(Graph, Output[], Output[], string, string[], Session)"/>.</exception>
    public static byte[] ExportBytes(Graph graph, Output[] inputs, Output[] outputs, string[]? outputNames = null, Session? session = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Length == 0) throw new ArgumentException("ONNX export needs at least one output", nameof(outputs));
        if (outputNames is not null && outputNames.Length != outputs.Length)
            throw new ArgumentException($"{outputNames.Length} output names for {outputs.Length} outputs", nameof(outputNames));
        foreach (var o in inputs.Concat(outputs))
            if (!ReferenceEquals(o.Graph, graph)) throw new ArgumentException($"'{o.Name}' belongs to another graph");
        session ??= graph.Variables.Count > 0 ? Keras.GetSession(graph) : null;
        var model = new OnnxWriter(graph, session).Write(inputs, outputs, outputNames, "nabla");
        return model.ToByteArray();
    }

    /// <summary>
    /// Writes a Keras model's inference form (Predict's computation) as ONNX: the model's inputs keep their names,
    /// outputs are named after the layers that produce them. Works for functional models and built Sequential models.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is not built (a Sequential without an input shape, or a subclassed model).</exception>
    /// <exception cref="OnnxException">A layer has no faithful ONNX mapping (the message names the layer).</exception>
    public static void ExportOnnx(this Model model, string path)
    {
        var (g, inputs, outputs, names) = InferenceGraph(model);
        Export(g, inputs, outputs, path, names, Keras.GetSession(g));
    }

    /// <summary>As <see cref="ExportOnnx(Model, string)"/>, returning the serialised model.</summary>
    /// <exception cref="InvalidOperationException">The model is not built.</exception>
    /// <exception cref="OnnxException">A layer has no faithful ONNX mapping.</exception>
    public static byte[] ExportOnnxBytes(this Model model)
    {
        var (g, inputs, outputs, names) = InferenceGraph(model);
        return ExportBytes(g, inputs, outputs, names, Keras.GetSession(g));
    }

    private static (Graph, Output[], Output[], string[]) InferenceGraph(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsFunctional)
            throw new InvalidOperationException($"model '{model.Name}' is not built: give its first layer an input shape, call Build, or use a functional model before exporting to ONNX");
        // The KerasTensors of a functional model are its layer calls traced in inference mode (dropout and noise off,
        // batch norm on moving statistics): exactly Predict's computation.
        var inputs = model.Inputs.Select(t => t.Value).ToArray();
        var outputs = model.Outputs.Select(t => t.Value).ToArray();
        var g = inputs[0].Graph;
        Keras.InitializeVariables(model.Weights);
        var names = model.Outputs.Select((t, i) => OutputName(t, i)).ToArray();
        return (g, inputs, outputs, names.Distinct().Count() == names.Length ? names : names.Select((n, i) => $"{n}_{i}").ToArray());
    }

    private static string OutputName(KerasTensor t, int i) => t.Producer is { } p ? p.Layer.Name : $"output_{i}";

    /// <summary>Reads an ONNX model file into a new Nabla graph (see <see cref="OnnxModel"/>).</summary>
    /// <exception cref="OnnxException">The file is not a valid ONNX model (truncated, corrupted), or a node uses an op or attribute that is not supported (the message names the node and its op type).</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    public static OnnxModel Import(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Import(File.ReadAllBytes(path), Path.GetFileName(path));
    }

    /// <summary>Reads a serialised ONNX model into a new Nabla graph.</summary>
    /// <exception cref="OnnxException">As <see cref="Import(string)"/>.</exception>
    public static OnnxModel Import(byte[] bytes, string source = "model")
    {
        var proto = Parse(bytes, source);
        var g = new Graph();
        var imported = new OnnxImporter(proto, source).Build(g, null, DType.Float32);
        return new OnnxModel(g, imported.Inputs, imported.Outputs, imported.Initializers, proto, source);
    }

    internal static ModelProto Parse(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length == 0) throw new OnnxException($"'{source}' is empty, not an ONNX model");
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxException($"'{source}' is not a valid ONNX model (truncated or corrupted protobuf): {e.Message}", e);
        }
        if (proto.Graph is null) throw new OnnxException($"'{source}' is not a valid ONNX model: it has no graph");
        if (proto.IrVersion < 3 || proto.IrVersion > 20)
            throw new OnnxException($"'{source}' is not a valid ONNX model: IR version {proto.IrVersion} (ONNX files have 3 to 20)");
        return proto;
    }
}
