using System.Text.RegularExpressions;
using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Kernels.Cuda.Ptx;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The generated PTX as text, without a device: every module the math library emits (each unary op × dtype, pow per rank,
/// fused programs) is deterministic and well formed (the header, every register used is declared, every label branched to
/// exists, every parameter read is declared), and the host-side helpers (constants, keys, shape collapsing) are right.
/// </summary>
public sealed partial class PtxWriterTests
{
    private static IEnumerable<(string Name, Func<string> Build)> Modules()
    {
        foreach (var op in Enum.GetValues<UnaryOp>())
            foreach (var dtype in new[] { DType.Float32, DType.Float64, DType.Int32, DType.Int64, DType.Bool })
            {
                var defined = dtype.IsFloating() ? op != UnaryOp.LogicalNot
                    : dtype.IsInteger() ? op is UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Sign or UnaryOp.Square
                    : op == UnaryOp.LogicalNot;
                if (!defined) continue;
                var entry = $"{UnaryFunctions.Ptx(op)}_{dtype.Name()}";
                yield return (entry, () => ElementwiseKernels.UnaryModule(op, dtype, entry));
            }
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            for (var rank = 1; rank <= 4; rank++)
            {
                var entry = $"pow_{dtype.Name()}_rank{rank}";
                var r = rank;
                yield return (entry, () => ElementwiseKernels.PowModule(dtype, r, entry));
            }
        foreach (var (name, program) in Programs())
            yield return (name, () => FusedPtx.Module(program, FusedPtx.Key(program)));
    }

    internal static IEnumerable<(string Name, FusedProgram Program)> Programs()
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            int[] shape = [2, 3, 4];
            yield return ($"fused_{dtype.Name()}", new FusedProgram(dtype, shape,
                [new FusedInput(dtype, [12, 4, 1], shape), new FusedInput(dtype, [0, 0, 1], shape), new FusedInput(dtype, [1, 2, 6], shape), new FusedInput(DType.Bool, [0, 0, 0], shape)],
                [
                    new(FusedCode.Binary, Binary: BinaryOp.Add, A: 0, B: 1),
                    new(FusedCode.Unary, Unary: UnaryOp.Erf, A: 4),
                    new(FusedCode.RandomUniform, A: 1, Key: 99, Lo: -1, Hi: 2),
                    new(FusedCode.Binary, Binary: BinaryOp.Maximum, A: 5, B: 6),
                    new(FusedCode.Binary, Binary: BinaryOp.Pow, A: 7, B: 2),
                    new(FusedCode.Select, A: 3, B: 8, C: 0),
                    new(FusedCode.NotZero, A: 9),
                    new(FusedCode.LogicalNot, A: 10),
                    new(FusedCode.Constant, Value: Math.PI),
                    new(FusedCode.Binary, Binary: BinaryOp.LessEqual, A: 12, B: 9),
                ],
                [(13, DType.Bool), (9, dtype), (6, dtype)], 2));
        }
    }

    private static IEnumerable<TestCaseData> ModuleCases() => Modules().Select(m => new TestCaseData(m.Build).SetName($"WellFormed_{m.Name}"));

    [TestCaseSource(nameof(ModuleCases))]
    public void ModuleIsDeterministicAndWellFormed(Func<string> build)
    {
        var text = build();
        Assert.That(build(), Is.EqualTo(text), "the same module twice");
        AssertWellFormed(text);
    }

    /// <summary>
    /// Writes every generated module of <see cref="Modules"/> as <c>{name}.ptx</c> into <c>$NABLA_PTX_DUMP</c> (a temporary folder
    /// when unset), so that bench/gpu/verify.sh can assemble them with <c>ptxas -arch=sm_90</c> next to native/cuda/*.ptx:
    /// <c>NABLA_PTX_DUMP=$OUT/ptx-generated dotnet test ... --filter FullyQualifiedName~PtxWriterTests.GeneratedModulesAreWrittenForPtxas</c>.
    /// </summary>
    [Test]
    public void GeneratedModulesAreWrittenForPtxas()
    {
        var folder = Environment.GetEnvironmentVariable("NABLA_PTX_DUMP") is { Length: > 0 } dump ? dump : Path.Combine(Path.GetTempPath(), $"nabla-ptx-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        var modules = Modules().ToList();
        foreach (var (name, build) in modules) File.WriteAllText(Path.Combine(folder, name + ".ptx"), build());
        Assert.That(Directory.GetFiles(folder, "*.ptx").Select(Path.GetFileNameWithoutExtension), Is.SupersetOf(modules.Select(m => m.Name)));
        TestContext.Out.WriteLine($"{modules.Count} generated modules in {folder}");
        if (Environment.GetEnvironmentVariable("NABLA_PTX_DUMP") is not { Length: > 0 }) Directory.Delete(folder, recursive: true);
    }

    [GeneratedRegex(@"\.visible \.entry (\w+)\(([^)]*)\)\s*\{(.*?)\n\}", RegexOptions.Singleline)]
    private static partial Regex EntryPattern();

    [GeneratedRegex(@"\.reg \.(\w+) (%[a-z]+)<(\d+)>;")]
    private static partial Regex RegDeclaration();

    [GeneratedRegex(@"%[a-z]+(\.[xyz])?\d*")]
    private static partial Regex RegisterUse();

    [GeneratedRegex(@"^(\$\w+):$", RegexOptions.Multiline)]
    private static partial Regex LabelDefinition();

    [GeneratedRegex(@"\bbra(?:\.uni)? (\$\w+);")]
    private static partial Regex Branch();

    [GeneratedRegex(@"ld\.param\.\w+ %\w+, \[(\w+)(?:\+\d+)?\];")]
    private static partial Regex ParamRead();

    /// <summary>Fails unless the module has the generated header and each entry declares every register, label and parameter it uses.</summary>
    internal static void AssertWellFormed(string text)
    {
        Assert.That(text, Does.StartWith("// generated by Nabla PtxWriter; UNVERIFIED on hardware\n"));
        Assert.That(text, Does.Contain($"\n.version {PtxModules.IsaVersion}\n.target {PtxModules.Target}\n.address_size 64\n"));
        var entries = EntryPattern().Matches(text);
        Assert.That(entries, Is.Not.Empty, "at least one entry");
        foreach (Match entry in entries)
        {
            var name = entry.Groups[1].Value;
            var parameters = entry.Groups[2].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split(' ')[^1].Split('[')[0]).ToHashSet();
            var body = entry.Groups[3].Value;
            var declared = RegDeclaration().Matches(body).ToDictionary(m => m.Groups[2].Value, m => int.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
            var code = string.Join('\n', body.Split('\n').Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal) && !l.TrimStart().StartsWith(".reg", StringComparison.Ordinal)));
            foreach (Match use in RegisterUse().Matches(code))
            {
                var token = use.Value;
                if (use.Groups[1].Success)
                {
                    Assert.That(token, Is.AnyOf("%tid.x", "%ntid.x", "%ctaid.x", "%nctaid.x"), $"{name}: special register");
                    continue;
                }
                var prefix = token.TrimEnd("0123456789".ToCharArray());
                var index = int.Parse(token[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
                Assert.That(declared.TryGetValue(prefix, out var count) && index < count, Is.True, $"{name}: {token} is not declared");
            }
            var labels = LabelDefinition().Matches(code).Select(m => m.Groups[1].Value).ToList();
            Assert.That(labels, Is.Unique, $"{name}: labels");
            foreach (Match branch in Branch().Matches(code))
                Assert.That(labels, Does.Contain(branch.Groups[1].Value), $"{name}: branch target");
            foreach (Match read in ParamRead().Matches(code))
                Assert.That(parameters, Does.Contain(read.Groups[1].Value), $"{name}: parameter");
            foreach (var line in code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.EndsWith(':')))
                Assert.That(line, Does.EndWith(";"), $"{name}: instruction");
            Assert.That(code.TrimEnd(), Does.EndWith("ret;"), $"{name}: ends with ret");
        }
    }

    [Test]
    public void EveryTableFunctionHasASnippet()
    {
        foreach (var op in Enum.GetValues<BinaryOp>().Where(Arithmetic.Has))
            Assert.That(PtxMath.HasBinary(Arithmetic.Ptx(op)), Is.True, $"{op} ({Arithmetic.Ptx(op)})");
        Assert.That(PtxMath.HasBinary("pow"), Is.True);
        foreach (var op in Enum.GetValues<UnaryOp>().Where(o => o != UnaryOp.LogicalNot))
            Assert.That(PtxMath.Has(UnaryFunctions.Ptx(op)), Is.True, $"{op} ({UnaryFunctions.Ptx(op)})");
        Assert.That(PtxMath.Has("no_such_function"), Is.False);
    }

    [Test]
    public void ImmediatesAreExactHexadecimal()
    {
        Assert.That(PtxWriter.F32(1f), Is.EqualTo("0f3F800000"));
        Assert.That(PtxWriter.F32(-0f), Is.EqualTo("0f80000000"));
        Assert.That(PtxWriter.F64(1.0), Is.EqualTo("0d3FF0000000000000"));
        Assert.That(PtxWriter.F64(double.NegativeInfinity), Is.EqualTo("0dFFF0000000000000"));
    }

    /// <summary>π/2 split into three doubles from 128 decimal digits: the head is Math.PI/2, the second its well-known error term.</summary>
    [Test]
    public void HalfPiSplitsIntoThreeDoubles()
    {
        var p = PtxMath.HalfPi;
        Assert.That(p[0], Is.EqualTo(Math.PI / 2));
        Assert.That(p[1], Is.EqualTo(6.123233995736766e-17));
        Assert.That(Math.Abs(p[2]), Is.LessThan(Math.Pow(2, -105)).And.GreaterThan(0));
        Assert.That(PtxMath.SplitDecimal("0.1", 1, 2), Is.EqualTo(new[] { 0.1, -5.551115123125783e-18 }));
    }

    /// <summary>2/π in 53-bit chunks (scaled by 2^600): the head is 2/π truncated, each next chunk below the previous one's last bit.</summary>
    [Test]
    public void TwoOverPiChunksAreConsecutivePieces()
    {
        var c = PtxMath.TwoOverPiChunks.Select(v => v * Math.Pow(2, -600)).ToArray();
        Assert.That(Math.Abs(c[0] - 2 / Math.PI), Is.LessThanOrEqualTo(Math.BitIncrement(2 / Math.PI) - 2 / Math.PI));
        for (var j = 1; j < 10; j++)
            Assert.That(c[j], Is.GreaterThanOrEqualTo(0).And.LessThan(Math.Pow(2, -53 * j)), $"chunk {j}");
        Assert.That(c[1], Is.GreaterThan(0));
    }

    [Test]
    public void FusedKeysAreCanonical()
    {
        var a = Programs().First().Program;
        var b = Programs().First().Program;
        Assert.That(FusedPtx.Key(a), Is.EqualTo(FusedPtx.Key(b)), "equal programs share a module");
        int[] shape = [4];
        FusedProgram One(double value) => new(DType.Float32, shape, [new FusedInput(DType.Float32, [1], shape)],
            [new(FusedCode.Constant, Value: value), new(FusedCode.Binary, Binary: BinaryOp.Add, A: 0, B: 1)], [(2, DType.Float32)], 0);
        Assert.That(FusedPtx.Key(One(0.1)), Is.Not.EqualTo(FusedPtx.Key(One(0.1000000000000001))), "constants by their bits");
        Assert.That(FusedPtx.Key(One(0.0)), Is.Not.EqualTo(FusedPtx.Key(One(-0.0))), "signed zeros differ");
    }

    /// <summary>A launcher that compiles nothing: it records which generated modules the kernels ask for and what they launch.</summary>
    private sealed class RecordingLauncher : IKernelLauncher
    {
        private readonly Dictionary<string, string> _texts = new(StringComparer.Ordinal);
        public List<string> Compiled { get; } = [];
        public List<(string Key, string Entry, int Args, uint Blocks)> Launches { get; } = [];

        public KernelHandle Function(string module, string entry) => throw new InvalidOperationException($"the math kernels generate their modules; asked for embedded {module}:{entry}");

        public KernelHandle Function(string key, Func<string> ptx, string entry)
        {
            if (!_texts.ContainsKey(key))
            {
                var text = ptx();
                AssertWellFormed(text);
                Assert.That(text, Does.Contain($".visible .entry {entry}("));
                _texts.Add(key, text);
                Compiled.Add(key);
            }
            return new KernelHandle(Compiled.IndexOf(key), key, entry);
        }

        public void Launch(KernelHandle function, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, KernelArgs args) =>
            Launches.Add((function.Module, function.Entry, args.Count, grid.X));
    }

    [Test]
    public void EqualKernelsShareOneGeneratedModule()
    {
        var k = new RecordingLauncher();
        ElementwiseKernels.Unary(k, UnaryOp.Exp, DType.Float32, 0x1000, 0x2000, 10);
        ElementwiseKernels.Unary(k, UnaryOp.Exp, DType.Float32, 0x1000, 0x2000, 100_000);
        ElementwiseKernels.Unary(k, UnaryOp.Exp, DType.Float64, 0x1000, 0x2000, 10);
        Assert.That(k.Compiled, Has.Count.EqualTo(2), "exp float32 once, exp float64 once");
        Assert.That(k.Launches.Select(l => (l.Entry, l.Args, l.Blocks)), Is.EqualTo(new[] { ("exp_float32", 3, 1u), ("exp_float32", 3, 391u), ("exp_float64", 3, 1u) }));

        // Contiguous operands of any shape collapse to rank 1: one module.
        ElementwiseKernels.BinaryPow(k, DType.Float32, 0x1000, 0, [3, 1], 0x2000, 0, [3, 1], 0x3000, [2, 3]);
        ElementwiseKernels.BinaryPow(k, DType.Float32, 0x1000, 0, [20, 4, 1], 0x2000, 0, [0, 0, 1], 0x3000, [2, 5, 4]);
        Assert.That(k.Launches.Skip(3).Select(l => l.Entry), Is.EqualTo(new[] { "pow_float32_rank1", "pow_float32_rank2" }));

        var program = Programs().First().Program;
        ElementwiseKernels.Fused(k, program, [1, 2, 3, 4], [5, 6, 7], [8, 9]);
        ElementwiseKernels.Fused(k, Programs().First().Program, [1, 2, 3, 4], [5, 6, 7], [8, 9]);
        Assert.That(k.Compiled, Has.Count.EqualTo(5), "two pow ranks and one fused module more");
        Assert.That(k.Launches[^1].Args, Is.EqualTo(4 + 3 + 2 + 1), "inputs, outputs, counters and n");
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.Fused(k, program, [1, 2, 3], [5, 6, 7], [8, 9]), "an input missing");
    }

    [Test]
    public void SharedArraysAndSpecialRegistersAreDeclared()
    {
        var w = new PtxWriter("shared test");
        var e = w.Entry("block_sum");
        var y = e.Pointer("y");
        var shared = e.Shared("partial", 256 * 4, 4);
        var tid = e.Special("%tid.x");
        var offset = e.Reg(PtxType.B64);
        e.Op($"mul.wide.u32 {offset}, {tid}, 4");
        e.Op($"add.s64 {offset}, {offset}, {shared}");
        var v = e.Const(PtxType.F32, 1.5);
        e.Op($"st.shared.f32 [{offset}], {v}");
        e.Op("bar.sync 0");
        e.Op($"ld.shared.f32 {v}, [{shared}]");
        e.Op($"st.global.f32 [{y}], {v}");
        e.End();
        var text = w.ToString();
        AssertWellFormed(text);
        Assert.That(text, Does.Contain(".shared .align 4 .b8 block_sum_partial[1024];"));
        Assert.Throws<ArgumentException>(() => w.Entry("block_sum"), "a second entry of the same name");
        Assert.Throws<ArgumentException>(() => w.Entry("1bad"), "not an identifier");
    }
}
