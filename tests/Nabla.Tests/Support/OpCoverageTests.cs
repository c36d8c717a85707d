using System.Reflection;
using NUnit.Framework;

namespace Nabla.Tests.Support;

/// <summary>Fails when a registered op type has no test fixture declaring it in <see cref="ICoversOps.CoveredOps"/>.</summary>
public class OpCoverageTests
{
    [Test]
    public void EveryRegisteredOpHasATestEntry()
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
