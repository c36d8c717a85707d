using NUnit.Framework;

namespace Nabla.Tests.Execution;

/// <summary>The static buffer assignment on its own: no two values that are live at once share a byte, and the arena is close to the lower bound.</summary>
public sealed class MemoryPlanTests
{
    [Test]
    public void RandomLifetimesNeverOverlapInMemory()
    {
        var rng = new Random(5);
        for (var trial = 0; trial < 200; trial++)
        {
            var n = rng.Next(1, 40);
            var regions = Enumerable.Range(0, n).Select(i =>
            {
                var start = rng.Next(-1, 30);
                var end = rng.Next(10) == 0 ? int.MaxValue : start + rng.Next(0, 8);
                return new MemoryPlan.Region(i, rng.Next(2), 64L * rng.Next(0, 20), start, end);
            }).ToList();
            var plan = MemoryPlan.Assign(n, regions);
            foreach (var a in regions)
            {
                Assert.That(plan.Offsets[a.Slot] % 64, Is.EqualTo(0));
                Assert.That(plan.Offsets[a.Slot] + a.Bytes, Is.LessThanOrEqualTo(plan.ArenaBytes[a.Arena]));
                foreach (var b in regions)
                {
                    if (a.Slot >= b.Slot || a.Arena != b.Arena || a.Bytes == 0 || b.Bytes == 0) continue;
                    var liveTogether = a.Start <= b.End && b.Start <= a.End;
                    var overlap = plan.Offsets[a.Slot] < plan.Offsets[b.Slot] + b.Bytes && plan.Offsets[b.Slot] < plan.Offsets[a.Slot] + a.Bytes;
                    Assert.That(liveTogether && overlap, Is.False, $"trial {trial}: slots {a.Slot} and {b.Slot}");
                }
            }
            Assert.That(plan.PeakBytes, Is.GreaterThanOrEqualTo(plan.LiveBytesLowerBound));
        }
    }

    [Test]
    public void AChainReusesTheBufferOfAValueThatDied()
    {
        // a → b → c → d, each 1 KiB, each read only by the next: a and c can share, as can b and d.
        var regions = new[] { new MemoryPlan.Region(0, 0, 1024, 0, 1), new(1, 0, 1024, 1, 2), new(2, 0, 1024, 2, 3), new(3, 0, 1024, 3, 3) };
        var plan = MemoryPlan.Assign(4, regions);
        Assert.That(plan.PeakBytes, Is.EqualTo(2048));
        Assert.That(plan.LiveBytesLowerBound, Is.EqualTo(2048));
    }

    [Test]
    public void ArenasArePlannedSeparately()
    {
        var regions = new[] { new MemoryPlan.Region(0, 0, 128, 0, 5), new(1, 3, 64, 0, 5) };
        var plan = MemoryPlan.Assign(2, regions);
        Assert.That(plan.ArenaBytes[0], Is.EqualTo(128));
        Assert.That(plan.ArenaBytes[3], Is.EqualTo(64));
        Assert.That(plan.Arenas, Is.EqualTo(new[] { 0, 3 }));
    }
}
