using System.Globalization;
using System.Text;

namespace Nabla.Layers;

public partial class Model
{
    /// <summary>
    /// The Keras-format table of layers, output shapes and parameter counts, ending with
    /// "Total params: 118,282" (keras Model.summary). Printed with <paramref name="print"/> (default the console) and returned.
    /// </summary>
    public string Summary(Action<string>? print = null)
    {
        var rows = new List<string[]>();
        var sequentialLike = this is Sequential || (IsFunctional && _calls.All(c => c.Inputs.Length == 1 && c.Outputs.Length == 1) && Inputs.Count == 1 && Outputs.Count == 1);
        var connected = IsFunctional && !sequentialLike;
        if (IsFunctional && this is not Sequential)
            foreach (var input in Inputs)
                rows.Add(Row($"{input.Value.Name} (InputLayer)", "[" + KerasTensor.FormatShape(input.Shape) + "]", 0, connected ? "[]" : null));
        if (IsFunctional && this is not Sequential)
            foreach (var call in _calls)
                rows.Add(Row($"{call.Layer.Name} ({call.Layer.GetType().Name})", Shapes(call.Outputs.Select(o => o.Shape).ToArray()), call.Layer.CountParams(),
                    connected ? "[" + string.Join(", ", call.Inputs.Select(i => $"'{(i.Producer is null ? i.Value.Name : i.Producer.Layer.Name)}'")) + "]" : null));
        else
            foreach (var layer in Layers)
                rows.Add(Row($"{layer.Name} ({layer.GetType().Name})", layer.LastOutputShapes is { } s ? Shapes(s) : "(unbuilt)", layer.CountParams(), null));

        int[] stops = connected ? [33, 59, 70, 98] : [29, 55, 65];
        string[] header = connected ? ["Layer (type)", "Output Shape", "Param #", "Connected to"] : ["Layer (type)", "Output Shape", "Param #"];
        var width = stops[^1];
        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(Name).Append("\"\n");
        sb.Append('_', width).Append('\n');
        sb.Append(Line(header, stops)).Append('\n');
        sb.Append('=', width).Append('\n');
        for (var i = 0; i < rows.Count; i++)
        {
            sb.Append(Line(rows[i], stops)).Append('\n');
            if (i < rows.Count - 1) sb.Append(' ', width).Append('\n');
        }
        sb.Append('=', width).Append('\n');
        var total = CountParams();
        var trainable = TrainableWeights.Sum(w => (long)w.Shape.Size);
        sb.Append("Total params: ").Append(total.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Trainable params: ").Append(trainable.ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Non-trainable params: ").Append((total - trainable).ToString("N0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append('_', width).Append('\n');
        var text = sb.ToString();
        (print ?? Console.Write)(text);
        return text;

        static string[] Row(string name, string shape, long parameters, string? connectedTo) =>
            connectedTo is null ? [name, shape, parameters.ToString(CultureInfo.InvariantCulture)]
            : [name, shape, parameters.ToString(CultureInfo.InvariantCulture), connectedTo];
    }

    private static string Shapes(Shape[] shapes) =>
        shapes.Length == 1 ? KerasTensor.FormatShape(shapes[0]) : "[" + string.Join(", ", shapes.Select(KerasTensor.FormatShape)) + "]";

    /// <summary>Keras's print_row: each field starts after the previous column stop and is cut at its own stop.</summary>
    private static string Line(string[] fields, int[] stops)
    {
        var line = new StringBuilder(" ");
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0) line.Length--;
            if (i > 0) line.Append(' ');
            line.Append(fields[i]);
            if (line.Length > stops[i]) line.Length = stops[i];
            line.Append(' ', stops[i] - line.Length);
        }
        return line.ToString();
    }
}
