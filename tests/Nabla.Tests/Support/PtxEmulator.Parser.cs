using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Nabla.Tests.Support;

/// <summary>
/// Parses PTX module text into <see cref="PtxModule"/>: statements, then per <c>.entry</c> its parameters,
/// declarations (<c>.reg</c>, <c>.shared</c>, <c>.local</c>), labels and instructions
/// (<see cref="PtxKernelParser"/>). Anything the emulator does not implement is a
/// <see cref="NotSupportedException"/> naming the line, never a silent skip.
/// </summary>
internal static partial class PtxParser
{
    /// <summary>One statement (instruction, directive, label "x:", or a scope brace) and the 1-based line it starts on.</summary>
    internal readonly record struct Statement(string Text, int Line);

    /// <summary>A module-scope or kernel-scope variable in shared or local space.</summary>
    internal sealed record PtxVariable(string Name, PtxSpace Space, int Align, int Size, bool Dynamic);

    /// <summary>Parses module <paramref name="name"/>.</summary>
    /// <exception cref="NotSupportedException">A construct the emulator does not implement, or invalid PTX; the message names the line.</exception>
    public static PtxModule Parse(string name, string text)
    {
        var statements = Split(text);
        var kernels = new Dictionary<string, PtxKernel>(StringComparer.Ordinal);
        var moduleShared = new List<PtxVariable>();
        var sm = 0;
        for (var i = 0; i < statements.Count; i++)
        {
            var s = statements[i];
            var t = s.Text;
            if (t.StartsWith(".target", StringComparison.Ordinal))
            {
                var m = Regex.Match(t, @"^\.target\s+sm_(\d+)");
                if (!m.Success) throw Unsupported(name, s, "expected .target sm_NN");
                sm = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                continue;
            }
            if (t.StartsWith(".version", StringComparison.Ordinal) || t.StartsWith(".file", StringComparison.Ordinal) || t.StartsWith(".loc", StringComparison.Ordinal)) continue;
            if (t.StartsWith(".address_size", StringComparison.Ordinal))
            {
                if (t.Split(' ', StringSplitOptions.RemoveEmptyEntries) is not [_, "64"]) throw Unsupported(name, s, "only .address_size 64 is supported");
                continue;
            }
            if (IsEntryHeader(t))
            {
                if (!t.Contains(".entry", StringComparison.Ordinal)) throw Unsupported(name, s, ".func and call are not supported by the emulator");
                if (i + 1 >= statements.Count || statements[i + 1].Text != "{") throw Unsupported(name, s, "an .entry without a body");
                var body = new List<Statement>();
                var depth = 0;
                var j = i + 1;
                for (; j < statements.Count; j++)
                {
                    var b = statements[j].Text;
                    if (b == "{") depth++;
                    else if (b == "}") depth--;
                    if (depth == 0) break;
                    if (b != "{" || depth > 1) body.Add(statements[j]);
                }
                if (depth != 0) throw Unsupported(name, s, "unbalanced braces in the kernel body");
                if (sm == 0) throw Unsupported(name, s, "an .entry before .target");
                var kernel = new PtxKernelParser(name, s, body, moduleShared, sm).Parse();
                if (!kernels.TryAdd(kernel.Name, kernel)) throw Unsupported(name, s, $"entry '{kernel.Name}' is declared twice");
                i = j;
                continue;
            }
            if (t.StartsWith(".shared", StringComparison.Ordinal) || t.StartsWith(".extern .shared", StringComparison.Ordinal))
            {
                moduleShared.Add(ParseVariable(name, s));
                continue;
            }
            throw Unsupported(name, s, "unsupported module-level statement (.global/.const variables and .func are not emulated)");
        }
        return new PtxModule { Name = name, Kernels = kernels };
    }

    internal static bool IsEntryHeader(string t) =>
        t.StartsWith(".visible", StringComparison.Ordinal) || t.StartsWith(".entry", StringComparison.Ordinal) ||
        t.StartsWith(".func", StringComparison.Ordinal) || t.StartsWith(".weak", StringComparison.Ordinal) ||
        t.StartsWith(".extern .func", StringComparison.Ordinal);

    internal static NotSupportedException Unsupported(string module, Statement s, string why) =>
        new($"PTX {module} line {s.Line}: {why}: '{s.Text}'");

    /// <summary><c>[.extern] .shared|.local [.align A] .type name[N]</c> (N empty for .extern).</summary>
    internal static PtxVariable ParseVariable(string module, Statement s)
    {
        var m = VariableRegex().Match(s.Text);
        if (!m.Success) throw Unsupported(module, s, "cannot parse the variable declaration");
        var space = m.Groups["space"].Value == "shared" ? PtxSpace.Shared : PtxSpace.Local;
        if (!PtxTypes.TryParse(m.Groups["type"].Value, out var type) || type == PtxType.Pred) throw Unsupported(module, s, "unknown variable type");
        var elem = PtxTypes.Size(type);
        var align = m.Groups["align"].Success ? int.Parse(m.Groups["align"].Value, CultureInfo.InvariantCulture) : elem;
        if (align <= 0 || (align & (align - 1)) != 0) throw Unsupported(module, s, "alignment must be a power of two");
        var dynamic = m.Groups["extern"].Success;
        if (dynamic != (m.Groups["count"].Success && m.Groups["count"].Value.Length == 0))
            throw Unsupported(module, s, dynamic ? ".extern .shared needs an empty [] extent" : "a variable needs a size ([N]) unless .extern");
        if (dynamic && space != PtxSpace.Shared) throw Unsupported(module, s, "only .shared may be .extern");
        var count = !m.Groups["count"].Success ? 1 : dynamic ? 0 : int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture);
        return new PtxVariable(m.Groups["name"].Value, space, align, elem * count, dynamic);
    }

    [GeneratedRegex(@"^(?<extern>\.extern\s+)?\.(?<space>shared|local)\s+(?:\.align\s+(?<align>\d+)\s+)?\.(?<type>\w+)\s+(?<name>[A-Za-z_$][\w$]*)\s*(?:\[\s*(?<count>\d*)\s*\])?$")]
    private static partial Regex VariableRegex();

    /// <summary>
    /// Splits the text into statements: comments removed, ';' ends a statement, "name:" is a label,
    /// and '{'/'}' are scope braces unless they are inside an instruction (vector operands).
    /// </summary>
    internal static List<Statement> Split(string text)
    {
        var result = new List<Statement>();
        var sb = new StringBuilder();
        var line = 1;
        var start = 1;
        void Emit()
        {
            var t = Regex.Replace(sb.ToString().Trim(), @"\s+", " ");
            if (t.Length > 0) result.Add(new Statement(t, start));
            sb.Clear();
        }
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n') i++;
                i--;
                continue;
            }
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0) throw new NotSupportedException($"PTX line {line}: unterminated /* comment");
                for (var k = i; k < end; k++) if (text[k] == '\n') line++;
                sb.Append(' ');
                i = end + 1;
                continue;
            }
            if (c == '\n')
            {
                // .version, .target, .address_size (and the debug .file/.loc) end at the end of their line, without ';'.
                if (LineDirectiveRegex().IsMatch(sb.ToString())) Emit();
                line++;
                sb.Append(' ');
                continue;
            }
            var empty = sb.ToString().Trim().Length == 0;
            if (empty && !char.IsWhiteSpace(c)) start = line;
            switch (c)
            {
                case ';':
                    Emit();
                    break;
                case '{' or '}' when empty:
                    result.Add(new Statement(c.ToString(), line));
                    sb.Clear();
                    break;
                case '{' when IsEntryHeader(sb.ToString().Trim()):
                    Emit();
                    result.Add(new Statement("{", line));
                    break;
                case ':' when IdentifierRegex().IsMatch(sb.ToString().Trim()) && (i + 1 >= text.Length || text[i + 1] != ':'):
                    sb.Append(':');
                    Emit();
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        if (sb.ToString().Trim().Length > 0) throw new NotSupportedException($"PTX line {start}: statement without ';' at the end of the module: '{sb.ToString().Trim()}'");
        return result;
    }

    [GeneratedRegex(@"^\s*\.(version|target|address_size|file|loc)\b")]
    private static partial Regex LineDirectiveRegex();

    [GeneratedRegex(@"^[A-Za-z_$][\w$]*$")]
    internal static partial Regex IdentifierRegex();
}
