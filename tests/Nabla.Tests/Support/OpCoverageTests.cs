using System.Reflection;
using Nabla.Tests.Gradients;
using NUnit.Framework;

namespace Nabla.Tests.Support;

/// <summary>
/// Coverage guards driven by the registered test cases, not by lists of names: every registered op must have a
/// CPU-vs-reference case in <see cref="OpCases"/> whose graph really contains the op; every differentiable op a
/// float64 gradient case (or an explicitly blocked one); every op at least <see cref="MinErrorCases"/>
/// error-input cases in <see cref="ErrorCases"/>, except the shortfall listed (exactly) in
/// <see cref="ErrorCases.KnownShortfall"/>.
/// </summary>
public class OpCoverageTests
{
    /// <summary>The required number of error-input cases per op.</summary>
    public const int MinErrorCases = 3;

    /// <summary>NoOp has no outputs, so there is nothing to compare between devices.</summary>
    private static readonly HashSet<string> s_noOutputs = ["NoOp"];

    /// <summary>Op types in the graph each case builds (on float64 placeholders, not run).</summary>
    private static Dictionary<OpCase, HashSet<string>> BuiltTypes()
    {
        var d = new Dictionary<OpCase, HashSet<string>>(ReferenceEqualityComparer.Instance);
        foreach (var c in OpCases.All)
        {
            var g = new Graph();
            var xs = c.Inputs.Select((t, i) => g.Placeholder(t.DType.IsFloating() ? DType.Float64 : t.DType, t.Shape, $"x{i}")).ToArray();
            c.Build(g, xs);
            d[c] = [.. g.Operations.Select(o => o.Type)];
        }
        return d;
    }

    [Test]
    public void EveryCaseBuildsTheOpItNames()
    {
        var wrong = BuiltTypes().Where(kv => !kv.Value.Contains(kv.Key.Op)).Select(kv => kv.Key.ToString()).ToArray();
        Assert.That(wrong, Is.Empty, "cases whose graph lacks the op they name: " + string.Join(", ", wrong));
        var unknown = OpCases.All.Select(c => c.Op).Concat(ErrorCases.All.Select(c => c.Op)).Where(t => !OpRegistry.Types.Contains(t)).Distinct().ToArray();
        Assert.That(unknown, Is.Empty, "cases naming unregistered ops: " + string.Join(", ", unknown));
    }

    [Test]
    public void EveryOpHasACpuVsReferenceCase()
    {
        var covered = OpCases.All.Select(c => c.Op).ToHashSet();
        var missing = OpRegistry.Types.Where(t => !covered.Contains(t) && !s_noOutputs.Contains(t)).Order().ToArray();
        Assert.That(missing, Is.Empty, "registered ops without a CPU-vs-reference case in OpCases: " + string.Join(", ", missing));
        foreach (var t in s_noOutputs) Assert.That(OpRegistry.Types, Does.Contain(t), $"exempt op {t} is no longer registered");
    }

    [Test]
    public void EveryDifferentiableOpHasAFloat64GradientCase()
    {
        var covered = OpCases.All.Where(c => c.Grad != GradKind.None).Select(c => c.Op).ToHashSet();
        var differentiable = OpRegistry.Types.Where(t => OpRegistry.Get(t).Gradient is not null).ToArray();
        var missing = differentiable.Where(t => !covered.Contains(t)).Order().ToArray();
        Assert.That(missing, Is.Empty, "differentiable ops without a gradient case in OpCases: " + string.Join(", ", missing));
        var bogus = covered.Where(t => OpRegistry.Types.Contains(t) && OpRegistry.Get(t).Gradient is null).Order().ToArray();
        Assert.That(bogus, Is.Empty, "gradient cases for ops registered as not differentiable: " + string.Join(", ", bogus));
    }

    [Test]
    public void EveryOpHasEnoughErrorInputCases()
    {
        var counts = ErrorCases.All.GroupBy(c => c.Op).ToDictionary(gr => gr.Key, gr => gr.Count());
        var shortfall = OpRegistry.Types
            .Select(t => (Op: t, Count: counts.GetValueOrDefault(t)))
            .Where(x => x.Count < MinErrorCases)
            .OrderBy(x => x.Op, StringComparer.Ordinal)
            .ToDictionary(x => x.Op, x => x.Count);
        // The listed shortfall must be exact: a new op without error cases fails here, and so does an op that gained
        // cases (shrink the list) or lost them.
        var listed = ErrorCases.KnownShortfall;
        var unlisted = shortfall.Where(kv => listed.GetValueOrDefault(kv.Key, -1) != kv.Value).Select(kv => $"{kv.Key} ({kv.Value})").ToArray();
        Assert.That(unlisted, Is.Empty, $"ops with fewer than {MinErrorCases} error-input cases, not (or differently) listed in ErrorCases.KnownShortfall: " + string.Join(", ", unlisted));
        var stale = listed.Keys.Where(k => !shortfall.ContainsKey(k)).Order().ToArray();
        Assert.That(stale, Is.Empty, "ops listed in ErrorCases.KnownShortfall that now have enough cases: " + string.Join(", ", stale));
    }

    /// <summary>The older, weaker check kept as a second net: each op is at least named by some fixture.</summary>
    [Test]
    public void EveryRegisteredOpHasAFixtureDeclaringIt()
    {
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in typeof(OpCoverageTests).Assembly.GetTypes())
        {
            if (!type.GetInterfaces().Contains(typeof(ICoversOps))) continue;
            var prop = type.GetProperty(nameof(ICoversOps.CoveredOps), BindingFlags.Public | BindingFlags.Static)!;
            foreach (var op in (IEnumerable<string>)prop.GetValue(null)!) covered.Add(op);
        }
        var missing = OpRegistry.Types.Where(t => !covered.Contains(t)).Order().ToArray();
        Assert.That(missing, Is.Empty, "registered ops without a test entry: " + string.Join(", ", missing));
        var unknown = covered.Where(c => !OpRegistry.Types.Contains(c)).Order().ToArray();
        Assert.That(unknown, Is.Empty, "test entries naming unregistered ops: " + string.Join(", ", unknown));
    }
}
