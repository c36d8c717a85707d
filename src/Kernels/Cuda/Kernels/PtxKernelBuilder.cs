using System.Globalization;
using System.Text;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: the text this builder writes has been run only on the tests' PTX emulator.

/// <summary>
/// Writes the text of one generated PTX kernel (one <c>.entry</c> per module): parameters, numbered
/// virtual registers (<c>%p</c>, <c>%rs</c>, <c>%r</c>, <c>%rd</c>, <c>%f</c>, <c>%fd</c>, declared at the
/// end with their counts), instructions and labels. The element-wise generators
/// (<see cref="ElementwisePtx"/>) build on it; ptxas allocates the real registers, so every value may
/// take a fresh virtual one.
/// </summary>
internal sealed class PtxKernelBuilder
{
    private readonly StringBuilder _body = new();
    private readonly List<string> _params = [];
    private int _pred, _b16, _b32, _b64, _f32, _f64, _labels;

    /// <summary>Starts kernel <paramref name="entry"/> (a <c>.visible .entry</c> name).</summary>
    public PtxKernelBuilder(string entry) => Entry = entry;

    /// <summary>The entry name.</summary>
    public string Entry { get; }

    /// <summary>Declares the next parameter, <c>.param {type} {entry}_{name}</c>, and returns its full name.</summary>
    public string Param(string type, string name)
    {
        var full = $"{Entry}_{name}";
        _params.Add($".param {type} {full}");
        return full;
    }

    /// <summary>Declares the next parameter as a byte array of <paramref name="bytes"/> bytes aligned to 8 (what <see cref="KernelArgs.AddBytes{T}"/> passes).</summary>
    public string ParamBytes(string name, int bytes)
    {
        var full = $"{Entry}_{name}";
        _params.Add($".param .align 8 .b8 {full}[{bytes}]");
        return full;
    }

    /// <summary>A fresh predicate register.</summary>
    public string Pred() => $"%p{_pred++}";

    /// <summary>A fresh 16-bit register (bytes are loaded into and stored from these, as nvcc does).</summary>
    public string B16() => $"%rs{_b16++}";

    /// <summary>A fresh 32-bit integer register.</summary>
    public string B32() => $"%r{_b32++}";

    /// <summary>A fresh 64-bit integer register.</summary>
    public string B64() => $"%rd{_b64++}";

    /// <summary>A fresh float32 register.</summary>
    public string F32() => $"%f{_f32++}";

    /// <summary>A fresh float64 register.</summary>
    public string F64() => $"%fd{_f64++}";

    /// <summary>A fresh register of PTX kind <paramref name="kind"/> (b16, b32, b64, f32, f64).</summary>
    public string Reg(string kind) => kind switch
    {
        "b16" => B16(),
        "b32" => B32(),
        "b64" => B64(),
        "f32" => F32(),
        "f64" => F64(),
        _ => throw new ArgumentException($"no register kind '{kind}' (b16, b32, b64, f32, f64)", nameof(kind)),
    };

    /// <summary>A fresh label name, unique within the kernel.</summary>
    public string NewLabel(string what) => $"${Entry}_{what}{_labels++}";

    /// <summary>Appends one instruction (without the indentation; with its semicolon).</summary>
    public void Emit(string instruction) => _body.Append("    ").Append(instruction).Append('\n');

    /// <summary>Appends a comment line to the body.</summary>
    public void Comment(string text) => _body.Append("    // ").Append(text).Append('\n');

    /// <summary>Places <paramref name="label"/> at the current position.</summary>
    public void Place(string label) => _body.Append(label).Append(":\n");

    /// <summary>
    /// The module text: <paramref name="header"/> as comment lines, the ISA and target of
    /// <see cref="PtxModules"/>, the entry with its parameters, the register declarations and the body.
    /// </summary>
    public string Build(string header)
    {
        var s = new StringBuilder();
        foreach (var line in header.Split('\n')) s.Append("// ").Append(line.TrimEnd()).Append('\n');
        s.Append(".version ").Append(PtxModules.IsaVersion).Append('\n');
        s.Append(".target ").Append(PtxModules.Target).Append('\n');
        s.Append(".address_size 64\n\n");
        s.Append(".visible .entry ").Append(Entry).Append("(\n");
        for (var i = 0; i < _params.Count; i++) s.Append("    ").Append(_params[i]).Append(i + 1 < _params.Count ? ",\n" : "\n");
        s.Append(")\n{\n");
        Declare(s, ".pred", "%p", _pred);
        Declare(s, ".b16", "%rs", _b16);
        Declare(s, ".b32", "%r", _b32);
        Declare(s, ".b64", "%rd", _b64);
        Declare(s, ".f32", "%f", _f32);
        Declare(s, ".f64", "%fd", _f64);
        s.Append('\n').Append(_body).Append("}\n");
        return s.ToString();
    }

    private static void Declare(StringBuilder s, string type, string prefix, int count)
    {
        if (count > 0) s.Append("    .reg ").Append(type).Append(' ').Append(prefix).Append('<').Append(count.ToString(CultureInfo.InvariantCulture)).Append(">;\n");
    }
}
