using System.Globalization;
using System.Text.RegularExpressions;

namespace Nabla.Tests.Support;

// Operand parsing of PtxKernelParser: registers (checked against the instruction type), immediates and addresses.
internal sealed partial class PtxKernelParser
{
    /// <summary>The qualifiers of an opcode: its types in order, and the other words, which the opcode's parser must consume.</summary>
    private sealed class Quals(List<PtxType> types, List<string> words)
    {
        public List<PtxType> Types { get; } = types;
        public List<string> Words { get; } = words;

        public bool Take(string word) => Words.Remove(word);

        public string? TakeAny(params string[] options)
        {
            foreach (var o in options) if (Words.Remove(o)) return o;
            return null;
        }
    }

    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "volatile", "relaxed", "acquire", "release", "acq_rel", "weak", "gpu", "cta", "sys", "cluster",
        "ca", "cg", "cs", "lu", "cv", "nc", "aligned",
    };

    private Quals SplitQualifiers(IEnumerable<string> parts)
    {
        var types = new List<PtxType>();
        var words = new List<string>();
        foreach (var q in parts)
        {
            if (PtxTypes.TryParse(q, out var t)) types.Add(t);
            else if (Ignored.Contains(q) || q.StartsWith("L1::", StringComparison.Ordinal) || q.StartsWith("L2::", StringComparison.Ordinal)) continue;
            else if (q == "shared::cta") words.Add("shared");
            else words.Add(q);
        }
        return new Quals(types, words);
    }

    /// <summary>Splits operands at top-level commas (not inside [] or {}).</summary>
    private static List<string> SplitOperands(string s)
    {
        var list = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] is '[' or '{') depth++;
            else if (s[i] is ']' or '}') depth--;
            else if (s[i] == ',' && depth == 0)
            {
                list.Add(s[start..i].Trim());
                start = i + 1;
            }
        }
        var last = s[start..].Trim();
        if (last.Length > 0 || list.Count > 0) list.Add(last);
        return list;
    }

    private (int Index, PtxType Type) Lookup(string token)
    {
        if (_registers.TryGetValue(token, out var r)) return r;
        if (token.StartsWith('%') && PtxSpecial.IndexOf(token) < 0 && (token.StartsWith("%tid", StringComparison.Ordinal) || token.StartsWith("%ctaid", StringComparison.Ordinal) ||
            token.StartsWith("%ntid", StringComparison.Ordinal) || token.StartsWith("%nctaid", StringComparison.Ordinal) || token.StartsWith("%lanemask", StringComparison.Ordinal) ||
            token.StartsWith("%clock", StringComparison.Ordinal) || token.StartsWith("%smid", StringComparison.Ordinal)))
            throw Error($"special register {token} is not supported");
        throw Error($"undeclared register {token}");
    }

    private void CheckType(PtxType instr, PtxType reg, string token, bool wider)
    {
        if (instr == PtxType.Pred || reg == PtxType.Pred)
        {
            if (instr != reg) throw Error($"{token} is .{PtxTypes.Name(reg)} but the operand must be .{PtxTypes.Name(instr)}");
            return;
        }
        int si = PtxTypes.Size(instr), sr = PtxTypes.Size(reg);
        var widerOk = wider && (PtxTypes.IsInt(instr) || instr is PtxType.F16 or PtxType.BF16) && !PtxTypes.IsFloat(reg);
        if (sr != si && !(widerOk && sr > si))
            throw Error($"{token} is a {sr * 8}-bit .{PtxTypes.Name(reg)} register but .{PtxTypes.Name(instr)} needs {si * 8} bits");
        if (PtxTypes.IsFloat(instr) && !(reg == instr || PtxTypes.IsBits(reg)))
            throw Error($"{token} is .{PtxTypes.Name(reg)}; a .{PtxTypes.Name(instr)} operand must be a .{PtxTypes.Name(instr)} or .b{si * 8} register");
        if (PtxTypes.IsInt(instr) && !PtxTypes.IsBits(instr) && PtxTypes.IsFloat(reg))
            throw Error($"{token} is .{PtxTypes.Name(reg)}; a .{PtxTypes.Name(instr)} operand must be an integer or .b register");
    }

    /// <summary>A destination register of type <paramref name="t"/> (wider allowed for ld/cvt of sub-word types).</summary>
    private int Dst(string token, PtxType t, bool wider = false)
    {
        if (token == "_") throw Error("the sink '_' operand is not supported");
        if (PtxSpecial.IndexOf(token) >= 0) throw Error($"special register {token} is read-only");
        var (index, type) = Lookup(token);
        CheckType(t, type, token, wider);
        return index;
    }

    /// <summary>A source: register, special register or immediate of type <paramref name="t"/>.</summary>
    private int Src(string token, PtxType t, bool wider = false)
    {
        if (token.Length > 0 && (char.IsAsciiDigit(token[0]) || token[0] is '-' or '+'))
            return Constant(Immediate(token, t));
        var (index, type) = Lookup(token);
        CheckType(t, type, token, wider);
        return index;
    }

    /// <summary>A predicate source, possibly negated ("!%p").</summary>
    private int PredSrc(string token, out bool negated)
    {
        negated = token.StartsWith('!');
        return Src(negated ? token[1..].Trim() : token, PtxType.Pred);
    }

    private int Constant(ulong value)
    {
        if (!_constantIndex.TryGetValue(value, out var k))
        {
            k = _constants.Count;
            _constants.Add(value);
            _constantIndex.Add(value, k);
        }
        return -(k + 2);
    }

    /// <summary>An immediate as the bits of type <paramref name="t"/>: integers (decimal, 0x hex, 0b, octal, trailing U), 0f/0d hex floats, decimal floats.</summary>
    private ulong Immediate(string token, PtxType t)
    {
        var s = token;
        if (s.StartsWith("0f", StringComparison.OrdinalIgnoreCase) && s.Length == 10)
        {
            var bits = uint.Parse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var f = BitConverter.UInt32BitsToSingle(bits);
            return t switch
            {
                PtxType.F32 => bits,
                PtxType.F64 => BitConverter.DoubleToUInt64Bits(f),
                _ when PtxTypes.IsBits(t) && PtxTypes.Size(t) == 4 => bits,
                _ => throw Error($"float literal {token} for a .{PtxTypes.Name(t)} operand"),
            };
        }
        if (s.StartsWith("0d", StringComparison.OrdinalIgnoreCase) && s.Length == 18)
        {
            var bits = ulong.Parse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return t switch
            {
                PtxType.F64 => bits,
                PtxType.F32 => BitConverter.SingleToUInt32Bits((float)BitConverter.UInt64BitsToDouble(bits)),
                _ when PtxTypes.IsBits(t) && PtxTypes.Size(t) == 8 => bits,
                _ => throw Error($"double literal {token} for a .{PtxTypes.Name(t)} operand"),
            };
        }
        if (FloatLiteralRegex().IsMatch(s))
        {
            var d = double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
            return t switch
            {
                PtxType.F32 => BitConverter.SingleToUInt32Bits((float)d),
                PtxType.F64 => BitConverter.DoubleToUInt64Bits(d),
                _ => throw Error($"float literal {token} for a .{PtxTypes.Name(t)} operand"),
            };
        }
        var negative = s.StartsWith('-');
        var body = s.TrimStart('-', '+').TrimEnd('U', 'u');
        ulong magnitude;
        try
        {
            magnitude = body.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? ulong.Parse(body[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : body.StartsWith("0b", StringComparison.OrdinalIgnoreCase) ? Convert.ToUInt64(body[2..], 2)
                : body.Length > 1 && body[0] == '0' ? Convert.ToUInt64(body[1..], 8)
                : ulong.Parse(body, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (FormatException e) { throw new NotSupportedException($"PTX {_module} line {_current.Line}: bad immediate '{token}'", e); }
        catch (OverflowException e) { throw new NotSupportedException($"PTX {_module} line {_current.Line}: immediate '{token}' does not fit 64 bits", e); }
        var value = negative ? 0UL - magnitude : magnitude;
        return t switch
        {
            PtxType.F32 => BitConverter.SingleToUInt32Bits(negative ? -(float)magnitude : magnitude),
            PtxType.F64 => BitConverter.DoubleToUInt64Bits(negative ? -(double)magnitude : magnitude),
            PtxType.Pred => value != 0 ? 1UL : 0UL,
            _ when PtxTypes.Size(t) == 8 => value,
            _ => value & ((1UL << (PtxTypes.Size(t) * 8)) - 1),
        };
    }

    [GeneratedRegex(@"^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?\d+[eE][-+]?\d+$")]
    private static partial Regex FloatLiteralRegex();

    /// <summary>Parses "[reg]", "[reg+imm]", "[reg+-imm]", "[name]", "[name+imm]" or "[imm]" into <paramref name="i"/>.</summary>
    private void Address(string token, PtxInstr i)
    {
        if (!token.StartsWith('[') || !token.EndsWith(']')) throw Error($"expected an address, got '{token}'");
        var inner = token[1..^1].Replace(" ", "", StringComparison.Ordinal);
        var m = AddressRegex().Match(inner);
        if (!m.Success) throw Error($"cannot parse address '{token}'");
        var baseName = m.Groups["base"].Value;
        long offset = 0;
        if (m.Groups["off"].Success)
        {
            var o = m.Groups["off"].Value;
            var neg = m.Groups["sign"].Value == "-";
            if (o.StartsWith('-')) { neg = !neg; o = o[1..]; }
            offset = o.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? long.Parse(o[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) : long.Parse(o, CultureInfo.InvariantCulture);
            if (neg) offset = -offset;
        }
        if (char.IsAsciiDigit(baseName[0]))
        {
            i.Offset = (long)Immediate(baseName, PtxType.U64) + offset;
            return;
        }
        if (_symbols.TryGetValue(baseName, out var sym))
        {
            var space = i.Space == PtxSpace.Generic ? sym.Space : i.Space;
            if (space != sym.Space) throw Error($"'{baseName}' is in .{sym.Space.ToString().ToLowerInvariant()} space, not .{i.Space.ToString().ToLowerInvariant()}");
            if (i.Space == PtxSpace.Generic) throw Error($"a generic access to variable '{baseName}' needs its generic address (cvta)");
            i.Offset = sym.Offset + offset;
            i.SymLo = sym.Offset;
            i.SymHi = sym.Size >= long.MaxValue - sym.Offset ? long.MaxValue : sym.Offset + sym.Size;
            return;
        }
        var (index, type) = Lookup(baseName);
        if (PtxTypes.Size(type) is not (4 or 8) || PtxTypes.IsFloat(type)) throw Error($"address register {baseName} must be a 32- or 64-bit integer register");
        if (PtxTypes.Size(type) == 4 && i.Space is PtxSpace.Global or PtxSpace.Generic) throw Error($"a 32-bit address register ({baseName}) cannot address .global/generic memory with .address_size 64");
        i.A = index;
        i.Offset = offset;
    }

    [GeneratedRegex(@"^(?<base>[%A-Za-z_$0-9][\w$.]*)(?:(?<sign>[+-])(?<off>-?(?:0[xX][0-9a-fA-F]+|\d+)))?$")]
    private static partial Regex AddressRegex();
}
