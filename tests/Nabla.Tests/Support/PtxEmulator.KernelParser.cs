using System.Globalization;
using System.Text.RegularExpressions;
using static Nabla.Tests.Support.PtxParser;

namespace Nabla.Tests.Support;

/// <summary>
/// Parses one <c>.entry</c>: the parameter list, then the body's declarations and labels, then each
/// instruction into a <see cref="PtxInstr"/> (PtxEmulator.Instructions.cs). Register operands are checked
/// against their declarations with the ISA's operand-size rules, so a 32/64-bit register mix-up
/// that ptxas would reject fails here too.
/// </summary>
internal sealed partial class PtxKernelParser
{
    private readonly string _module;
    private readonly Statement _header;
    private readonly List<Statement> _body;
    private readonly List<PtxVariable> _moduleShared;
    private readonly Dictionary<string, (int Index, PtxType Type)> _registers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (PtxSpace Space, long Offset, long Size)> _symbols = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly List<ulong> _constants = [];
    private readonly Dictionary<ulong, int> _constantIndex = [];
    private readonly List<(PtxInstr Instr, string Label)> _branches = [];
    private string _name = "";
    private Statement _current;

    /// <summary>The module's <c>.target sm_NN</c> as NN (instructions newer than it are refused, as ptxas would).</summary>
    private readonly int _sm;

    public PtxKernelParser(string module, Statement header, List<Statement> body, List<PtxVariable> moduleShared, int sm)
    {
        _sm = sm;
        _module = module;
        _header = header;
        _body = body;
        _moduleShared = moduleShared;
    }

    /// <summary>Parses the kernel.</summary>
    public PtxKernel Parse()
    {
        _current = _header;
        var (parameters, paramBytes) = ParseHeader();
        // Declarations first (they may follow instructions in PTX; scopes are flattened).
        var shared = new List<PtxVariable>(_moduleShared);
        var local = new List<PtxVariable>();
        var instructionCount = 0;
        foreach (var s in _body)
        {
            _current = s;
            var t = s.Text;
            if (t is "{" or "}" || t.StartsWith(".pragma", StringComparison.Ordinal) || t.StartsWith(".loc", StringComparison.Ordinal)) continue;
            if (t.EndsWith(':') && IdentifierRegex().IsMatch(t[..^1]))
            {
                if (!_labels.TryAdd(t[..^1], instructionCount)) throw Error($"label {t[..^1]} is defined twice");
                continue;
            }
            if (t.StartsWith(".reg", StringComparison.Ordinal)) { DeclareRegisters(t); continue; }
            if (t.StartsWith(".shared", StringComparison.Ordinal) || t.StartsWith(".extern .shared", StringComparison.Ordinal)) { shared.Add(ParseVariable(_module, s)); continue; }
            if (t.StartsWith(".local", StringComparison.Ordinal)) { local.Add(ParseVariable(_module, s)); continue; }
            if (t.StartsWith('.')) throw Error("unsupported directive in a kernel body");
            instructionCount++;
        }
        var registerCount = _registers.Count;
        for (var i = 0; i < PtxSpecial.Names.Length; i++) _registers.Add(PtxSpecial.Names[i], (registerCount + i, PtxType.U32));

        var staticShared = 0L;
        var dynamicOffset = 0L;
        foreach (var v in shared.Where(v => !v.Dynamic))
        {
            staticShared = Align(staticShared, v.Align);
            Define(v.Name, PtxSpace.Shared, staticShared, v.Size);
            staticShared += v.Size;
        }
        dynamicOffset = staticShared;
        foreach (var v in shared.Where(v => v.Dynamic)) dynamicOffset = Align(dynamicOffset, Math.Max(v.Align, 16));
        foreach (var v in shared.Where(v => v.Dynamic)) Define(v.Name, PtxSpace.Shared, dynamicOffset, long.MaxValue - dynamicOffset);
        var localBytes = 0L;
        foreach (var v in local)
        {
            localBytes = Align(localBytes, v.Align);
            Define(v.Name, PtxSpace.Local, localBytes, v.Size);
            localBytes += v.Size;
        }
        foreach (var p in parameters) Define(p.Name, PtxSpace.Param, p.Offset, p.Size);

        var code = new List<PtxInstr>(instructionCount);
        foreach (var s in _body)
        {
            _current = s;
            var t = s.Text;
            if (t is "{" or "}" || t.StartsWith('.') || (t.EndsWith(':') && IdentifierRegex().IsMatch(t[..^1]))) continue;
            var instr = ParseInstruction(t);
            instr.Line = s.Line;
            instr.Text = t;
            code.Add(instr);
        }
        foreach (var (instr, label) in _branches)
        {
            if (!_labels.TryGetValue(label, out var target))
                throw new NotSupportedException($"PTX {_module} line {instr.Line}: branch to undefined label '{label}': '{instr.Text}'");
            instr.Target = target;
        }
        // Falling off the end behaves as exit.
        code.Add(new PtxInstr { Op = PtxOp.Exit, Line = _body.Count > 0 ? _body[^1].Line : _header.Line, Text = "(end of kernel)" });

        var constantBase = registerCount + PtxKernel.SpecialCount;
        foreach (var instr in code)
        {
            Relocate(instr, constantBase);
            instr.Sources = Sources(instr).Where(x => x >= 0 && x < registerCount).Distinct().ToArray();
        }
        var names = new string[registerCount];
        foreach (var (name, (index, _)) in _registers) if (index < registerCount) names[index] = name;
        return new PtxKernel
        {
            Name = _name, Params = parameters, ParamBytes = paramBytes, Code = [.. code], RegisterCount = registerCount, RegisterNames = names,
            FileSize = constantBase + _constants.Count, Constants = [.. _constants], StaticSharedBytes = checked((int)staticShared),
            DynamicSharedOffset = checked((int)dynamicOffset), LocalBytes = checked((int)localBytes),
        };
    }

    private static long Align(long x, int a) => (x + a - 1) / a * a;

    private void Define(string name, PtxSpace space, long offset, long size)
    {
        if (!_symbols.TryAdd(name, (space, offset, size))) throw Error($"'{name}' is declared twice");
    }

    /// <summary>Immediates were numbered -1, -2, ...; they live after the special registers.</summary>
    private static void Relocate(PtxInstr i, int constantBase)
    {
        static int R(int x, int b) => x <= -2 ? b + (-x - 2) : x;
        i.D = R(i.D, constantBase); i.D2 = R(i.D2, constantBase);
        i.A = R(i.A, constantBase); i.B = R(i.B, constantBase); i.C = R(i.C, constantBase); i.E = R(i.E, constantBase);
        for (var k = 0; k < i.Regs.Length; k++) i.Regs[k] = R(i.Regs[k], constantBase);
    }

    private NotSupportedException Error(string why) => Unsupported(_module, _current, why);

    /// <summary>
    /// The registers an instruction reads. selp's two values are left out: selecting past an unset
    /// register is harmless (and compilers emit it), reading one anywhere else is a bug.
    /// </summary>
    private static IEnumerable<int> Sources(PtxInstr i)
    {
        if (i.Op != PtxOp.Selp) { yield return i.A; yield return i.B; }
        yield return i.C;
        yield return i.E;
        if (i.Op is PtxOp.St or PtxOp.MovPack) foreach (var x in i.Regs) yield return x;
    }

    /// <summary>Refuses a feature that needs a newer target than the module declares (ptxas rejects it).</summary>
    private void RequireTarget(int sm, string feature)
    {
        if (_sm < sm) throw Error($"{feature} requires .target sm_{sm} or higher; the module declares sm_{_sm}");
    }

    private (PtxParam[] Params, int Bytes) ParseHeader()
    {
        var m = HeaderRegex().Match(_header.Text);
        if (!m.Success) throw Error("cannot parse the .entry header");
        _name = m.Groups["name"].Value;
        var list = new List<PtxParam>();
        var offset = 0;
        foreach (var raw in m.Groups["params"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var p = ParamRegex().Match(raw);
            if (!p.Success || !PtxTypes.TryParse(p.Groups["type"].Value, out var type) || type == PtxType.Pred)
                throw Error($"cannot parse parameter '{raw}'");
            var elem = PtxTypes.Size(type);
            var count = p.Groups["count"].Success ? int.Parse(p.Groups["count"].Value, CultureInfo.InvariantCulture) : 1;
            var align = p.Groups["align"].Success ? int.Parse(p.Groups["align"].Value, CultureInfo.InvariantCulture) : elem;
            offset = (int)Align(offset, align);
            list.Add(new PtxParam(p.Groups["name"].Value, type, offset, elem * count));
            offset += elem * count;
        }
        var trailer = m.Groups["trailer"].Value.Trim();
        if (trailer.Length > 0 && !TrailerRegex().IsMatch(trailer)) throw Error($"unsupported performance directive '{trailer}'");
        return ([.. list], offset);
    }

    [GeneratedRegex(@"\.entry\s+(?<name>[A-Za-z_$][\w$]*)\s*\((?<params>[^)]*)\)(?<trailer>.*)$")]
    private static partial Regex HeaderRegex();

    [GeneratedRegex(@"^\.param\s+(?:\.align\s+(?<align>\d+)\s+)?\.(?<type>\w+)\s+(?:\.ptr\s+(?:\.(?:global|shared|const|local)\s+)?(?:\.align\s+\d+\s+)?)?(?<name>[A-Za-z_$][\w$]*)\s*(?:\[\s*(?<count>\d+)\s*\])?$")]
    private static partial Regex ParamRegex();

    [GeneratedRegex(@"^(\s*\.(maxntid|reqntid|minnctapersm|maxnreg|maxnctapersm|noreturn)\s*[\d,\s]*)*$")]
    private static partial Regex TrailerRegex();

    private void DeclareRegisters(string t)
    {
        var m = RegRegex().Match(t);
        if (!m.Success || !PtxTypes.TryParse(m.Groups["type"].Value, out var type)) throw Error("cannot parse the .reg declaration");
        foreach (var item in m.Groups["names"].Value.Split(',', StringSplitOptions.TrimEntries))
        {
            var range = RangeRegex().Match(item);
            if (range.Success)
            {
                var n = int.Parse(range.Groups["n"].Value, CultureInfo.InvariantCulture);
                for (var i = 0; i < n; i++) Declare(range.Groups["name"].Value + i.ToString(CultureInfo.InvariantCulture), type);
            }
            else if (RegisterNameRegex().IsMatch(item)) Declare(item, type);
            else throw Error($"cannot parse register name '{item}'");
        }
    }

    private void Declare(string name, PtxType type)
    {
        if (_registers.TryGetValue(name, out var existing))
        {
            // Nested scopes may redeclare a name; the emulator flattens scopes, so only the same type is allowed.
            if (existing.Type != type) throw Error($"register {name} redeclared with another type");
            return;
        }
        _registers.Add(name, (_registers.Count, type));
    }

    [GeneratedRegex(@"^\.reg\s+\.(?<type>\w+)\s+(?<names>.+)$")]
    private static partial Regex RegRegex();

    [GeneratedRegex(@"^(?<name>%?[A-Za-z_$][\w$]*)<(?<n>\d+)>$")]
    private static partial Regex RangeRegex();

    [GeneratedRegex(@"^%?[A-Za-z_$][\w$]*$")]
    private static partial Regex RegisterNameRegex();
}
