using System.Text.RegularExpressions;
using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The embedded PTX modules: present, documented, and free of the mistakes a reader can catch without
/// ptxas (undeclared or out-of-range registers, branches to missing labels, parameters of other
/// kernels). Whether they assemble and compute the right thing is checked by <see cref="CudaDeviceTests"/>.
/// </summary>
[TestFixture]
public class PtxModulesTests
{
    private static readonly Dictionary<string, string[]> Entries = new()
    {
        ["binary"] = ["add_f32", "mul_f32"],
        ["cast"] = ["cast_f32_f64", "cast_f64_f32", "cast_f32_i32", "cast_i32_f32"],
        ["fill"] = ["fill_f32"],
        ["unary"] = ["neg_f32", "sqrt_f32"],
    };

    private static IEnumerable<string> Modules() => Entries.Keys;

    [Test]
    public void EveryPtxFileIsEmbedded() =>
        Assert.That(PtxModules.Names, Is.EqualTo(new[] { "binary", "cast", "fill", "unary" }));

    [TestCaseSource(nameof(Modules))]
    public void StartsWithItsContractAndTargetsSm75(string module)
    {
        var text = PtxModules.Read(module);
        Assert.That(text, Does.StartWith($"// {module}.ptx - "));
        var header = text[..text.IndexOf(".version", StringComparison.Ordinal)];
        Assert.That(header, Does.Contain("// Contract").And.Contain("// Launch shape").And.Contain("UNVERIFIED"));
        Assert.That(header.Split('\n').Where(l => l.Length > 0), Has.All.StartWith("//"), "only comments precede .version");
        var directives = text[text.IndexOf(".version", StringComparison.Ordinal)..].Split('\n').Take(3).Select(l => l.Trim());
        Assert.That(directives, Is.EqualTo(new[] { ".version 8.0", ".target sm_75", ".address_size 64" }));
    }

    [Test]
    public void EveryModuleDeclaresTheChosenIsaAndTarget()
    {
        // The csproj embeds native/cuda/*.ptx, so these are every .ptx file there.
        Assert.That((PtxModules.IsaVersion, PtxModules.Target), Is.EqualTo(("8.0", "sm_75")));
        Assert.That(PtxModules.Names, Is.Not.Empty);
        foreach (var module in PtxModules.Names)
        {
            var code = Regex.Replace(PtxModules.Read(module), "//[^\n]*", "");
            Assert.That(Regex.Matches(code, @"^\s*\.version\s+(\S+)\s*$", RegexOptions.Multiline).Select(m => m.Groups[1].Value),
                Is.EqualTo(new[] { PtxModules.IsaVersion }), $"{module}.ptx: one .version {PtxModules.IsaVersion}");
            Assert.That(Regex.Matches(code, @"^\s*\.target\s+([^\r\n]+?)\s*$", RegexOptions.Multiline).Select(m => m.Groups[1].Value),
                Is.EqualTo(new[] { PtxModules.Target }), $"{module}.ptx: one .target {PtxModules.Target}, no extra target options");
        }
    }

    [TestCaseSource(nameof(Modules))]
    public void DeclaresExactlyTheDocumentedEntries(string module)
    {
        var text = PtxModules.Read(module);
        var entries = Regex.Matches(text, @"^\.visible \.entry (\w+)\(", RegexOptions.Multiline).Select(m => m.Groups[1].Value);
        Assert.That(entries, Is.EqualTo(Entries[module]));
        foreach (var entry in Entries[module])
            Assert.That(text[..text.IndexOf(".version", StringComparison.Ordinal)], Does.Contain(entry + "("), $"{entry} is in the contract");
    }

    [TestCaseSource(nameof(Modules))]
    public void EachKernelUsesOnlyItsDeclaredRegistersLabelsAndParameters(string module)
    {
        var text = PtxModules.Read(module);
        var kernels = Regex.Matches(text, @"\.visible \.entry (\w+)\(([^)]*)\)\s*\{(.*?)\n\}", RegexOptions.Singleline);
        Assert.That(kernels, Has.Count.EqualTo(Entries[module].Length));
        foreach (Match k in kernels)
        {
            var (name, parameters, body) = (k.Groups[1].Value, k.Groups[2].Value, k.Groups[3].Value);
            var code = Regex.Replace(body, "//[^\n]*", "");

            var declared = Regex.Matches(code, @"\.reg\s+\.\w+\s+%(\w+?)<(\d+)>;").ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value));
            string[] special = ["tid", "ntid", "ctaid", "nctaid"];
            foreach (Match use in Regex.Matches(code, @"%([a-z]+)(\d*)\b"))
            {
                var (prefix, index) = (use.Groups[1].Value, use.Groups[2].Value);
                if (special.Contains(prefix) && index == "") continue;
                Assert.That(declared.ContainsKey(prefix), Is.True, $"{name}: %{prefix}{index} is not declared");
                if (index != "") Assert.That(int.Parse(index), Is.LessThan(declared[prefix]), $"{name}: %{prefix}{index} is past %{prefix}<{declared[prefix]}>");
            }

            var labels = Regex.Matches(code, @"^(\$\w+):", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
            Assert.That(labels, Is.Unique, name);
            Assert.That(labels, Has.All.StartWith("$" + name + "_"), $"{name}: labels carry the kernel's name");
            foreach (Match branch in Regex.Matches(code, @"\bbra(?:\.uni)?\s+(\$\w+);"))
                Assert.That(labels, Does.Contain(branch.Groups[1].Value), $"{name}: branch to a missing label");

            var declaredParams = Regex.Matches(parameters, @"\.param\s+\.\w+\s+(\w+)").Select(m => m.Groups[1].Value).ToArray();
            Assert.That(declaredParams, Has.All.StartWith(name + "_"), name);
            foreach (Match p in Regex.Matches(code, @"ld\.param\.\w+\s+%\w+,\s*\[(\w+)\]"))
                Assert.That(declaredParams, Does.Contain(p.Groups[1].Value), $"{name}: loads a parameter it does not declare");
            Assert.That(Regex.Count(code, @"ld\.param"), Is.EqualTo(declaredParams.Length), $"{name}: every parameter is read once");
            Assert.That(code.TrimEnd(), Does.EndWith("ret;"), name);
        }
    }

    [Test]
    public void NullTerminatedImageIsTheTextPlusOneZero()
    {
        var text = PtxModules.Read("fill");
        var image = PtxModules.ReadNullTerminated("fill");
        Assert.That(image[^1], Is.EqualTo((byte)0));
        Assert.That(System.Text.Encoding.UTF8.GetString(image, 0, image.Length - 1), Is.EqualTo(text));
        Assert.That(image[..^1], Has.None.EqualTo((byte)0));
    }

    [Test]
    public void UnknownModuleNamesTheEmbeddedOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => PtxModules.Read("gemm"))!;
        Assert.That(e.Message, Does.StartWith("No PTX module 'gemm'; embedded modules: binary, cast, fill, unary."));
    }

    [TestCase(0L, 1u), TestCase(1L, 1u), TestCase(256L, 1u), TestCase(257L, 2u), TestCase(1L << 40, 65_535u)]
    public void GridCoversTheElementsUpToTheGridStrideCap(long n, uint grid) =>
        Assert.That(CudaModule.GridFor(n), Is.EqualTo(grid));
}
