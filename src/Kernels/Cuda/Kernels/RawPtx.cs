using Nabla.Kernels.Cuda.Ptx;

namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware.

/// <summary>
/// Lets the compute kernels write PTX as text with named registers (<c>%acc</c>, declared by their own
/// <c>.reg</c> lines) inside a <see cref="PtxEntry"/>, so that they can call the math library
/// (<see cref="PtxMath"/>), whose snippets allocate the entry's numbered registers.
/// </summary>
internal static class RawPtx
{
    /// <summary>
    /// Appends <paramref name="text"/> to the entry line by line: <c>name:</c> lines become labels, <c>//</c> lines
    /// comments, blank lines are dropped, and every other line is one instruction or declaration (its trailing
    /// semicolon is optional).
    /// </summary>
    public static void Emit(PtxEntry e, string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith("//", StringComparison.Ordinal)) e.Comment(line[2..].Trim());
            else if (line.EndsWith(':')) e.Label(line[..^1]);
            else e.Op(line.TrimEnd(';'));
        }
    }

    /// <summary>
    /// dst = <paramref name="function"/>(src) through <see cref="PtxMath.Emit"/> (exp, log, cos, ...), where src and
    /// dst are named registers of type <paramref name="type"/> (f32 or f64).
    /// </summary>
    public static void Math(PtxEntry e, string function, string type, string dst, string src)
    {
        var regType = type switch
        {
            "f32" => PtxType.F32,
            "f64" => PtxType.F64,
            _ => throw new ArgumentException($"the math library takes f32 or f64, not {type}", nameof(type)),
        };
        var x = e.Reg(regType);
        e.Op($"mov.{type} {x}, {src}");
        var y = PtxMath.Emit(e, function, x);
        e.Op($"mov.{type} {dst}, {y}");
    }
}
