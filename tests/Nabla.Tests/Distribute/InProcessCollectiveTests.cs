using NUnit.Framework;
using Nabla.Distributed;

namespace Nabla.Tests.Distribute;

/// <summary>The in-process collective group: each member on its own thread, as MirroredStrategy runs them.</summary>
public sealed class InProcessCollectiveTests
{
    /// <summary>Runs <paramref name="body"/> on one thread per member and returns each member's exception (null if none).</summary>
    private static Exception?[] RunMembers(InProcessGroup group, Action<ICollective> body)
    {
        var errors = new Exception?[group.Size];
        var threads = Enumerable.Range(0, group.Size).Select(r => new Thread(() =>
        {
            try
            {
                body(group.Member(r));
            }
            catch (Exception e)
            {
                errors[r] = e;
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.That(t.Join(TimeSpan.FromSeconds(30)), "a member did not finish");
        return errors;
    }

    [TestCase(1, 7)]
    [TestCase(2, 0)]
    [TestCase(3, 1)]
    [TestCase(3, 1001)]
    [TestCase(4, 5)]
    [TestCase(2, 4099)] // vectors of elements, then a scalar tail
    public void AllReduceSumMeanAndMaxMatchASerialReduction(int size, int length)
    {
        var group = new InProcessGroup(size);
        var inputs = Enumerable.Range(0, size).Select(r => Enumerable.Range(0, length).Select(i => (float)Math.Sin(i * 0.37 + r * 1.3)).ToArray()).ToArray();
        var sums = new float[size][];
        var means = new double[size][];
        var maxes = new float[size][];
        var errors = RunMembers(group, c =>
        {
            var a = (float[])inputs[c.Rank].Clone();
            c.AllReduce(a.AsSpan(), ReduceOp.Sum);
            sums[c.Rank] = a;
            var d = inputs[c.Rank].Select(v => (double)v).ToArray();
            c.AllReduce(d.AsSpan(), ReduceOp.Mean);
            means[c.Rank] = d;
            var m = (float[])inputs[c.Rank].Clone();
            c.AllReduce(m.AsSpan(), ReduceOp.Max);
            maxes[c.Rank] = m;
        });
        Assert.That(errors, Is.All.Null);
        for (var i = 0; i < length; i++)
        {
            var sum = 0f;
            for (var r = 0; r < size; r++) sum += inputs[r][i]; // rank order, as the group combines them
            var mean = inputs.Sum(x => (double)x[i]) / size;
            var max = inputs.Max(x => x[i]);
            for (var r = 0; r < size; r++)
            {
                Assert.That(sums[r][i], Is.EqualTo(sum), $"sum, member {r}, element {i}");
                Assert.That(means[r][i], Is.EqualTo(mean).Within(1e-15), $"mean, member {r}, element {i}");
                Assert.That(maxes[r][i], Is.EqualTo(max), $"max, member {r}, element {i}");
            }
        }
    }

    [Test]
    public void BroadcastAllGatherAndBarrier()
    {
        var group = new InProcessGroup(3);
        var gathered = new float[3][];
        var broadcast = new float[3][];
        var bytes = new byte[3][];
        var errors = RunMembers(group, c =>
        {
            var b = Enumerable.Repeat((float)c.Rank, 4).ToArray();
            c.Broadcast(b.AsSpan(), root: 2);
            broadcast[c.Rank] = b;
            var raw = new byte[] { (byte)(10 + c.Rank) };
            c.Broadcast(raw.AsSpan(), root: 1);
            bytes[c.Rank] = raw;
            c.Barrier();
            var all = new float[6];
            c.AllGather(new[] { c.Rank * 10f, c.Rank * 10f + 1 }, all);
            gathered[c.Rank] = all;
        });
        Assert.That(errors, Is.All.Null);
        for (var r = 0; r < 3; r++)
        {
            Assert.That(broadcast[r], Is.EqualTo(new[] { 2f, 2f, 2f, 2f }));
            Assert.That(bytes[r], Is.EqualTo(new byte[] { 11 }));
            Assert.That(gathered[r], Is.EqualTo(new[] { 0f, 1f, 10f, 11f, 20f, 21f }));
        }
    }

    [Test]
    public void BuffersOfDifferentLengthsFailEveryMember()
    {
        var group = new InProcessGroup(2, TimeSpan.FromSeconds(10));
        var errors = RunMembers(group, c => c.AllReduce(new float[c.Rank + 3].AsSpan()));
        Assert.That(errors, Is.All.InstanceOf<CollectiveException>());
        Assert.That(errors.Select(e => e!.Message), Has.Some.Contains("different lengths").And.Some.Contains("replica 1: 4"));
    }

    [Test]
    public void AMemberThatFailsAbortsTheOthersWithItsName()
    {
        var group = new InProcessGroup(3, TimeSpan.FromSeconds(20));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var errors = RunMembers(group, c =>
        {
            if (c.Rank == 1)
            {
                group.Abort(1, new InvalidOperationException("boom"));
                return;
            }
            c.AllReduce(new float[8].AsSpan());
        });
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the others must not wait for the timeout");
        Assert.That(errors[1], Is.Null);
        foreach (var r in new[] { 0, 2 })
        {
            Assert.That(errors[r], Is.InstanceOf<CollectiveException>());
            Assert.That(errors[r]!.Message, Does.Contain("replica 1 failed").And.Contain("boom"));
        }
    }

    [Test]
    public void AMemberThatNeverArrivesTimesOutNamingIt()
    {
        var group = new InProcessGroup(3, TimeSpan.FromMilliseconds(300));
        var errors = RunMembers(group, c =>
        {
            if (c.Rank != 2) c.Barrier();
        });
        Assert.That(errors[0], Is.InstanceOf<CollectiveException>());
        Assert.That(errors[0]!.Message, Does.Contain("replica(s) 2 did not reach"));
        Assert.That(errors[1], Is.InstanceOf<CollectiveException>());
    }

    [Test]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InProcessGroup(0));
        var single = new InProcessGroup(1).Member(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => single.Broadcast(new float[2].AsSpan(), root: 1));
        Assert.Throws<ArgumentException>(() => single.AllGather(new float[2], new float[3]));
        var data = new[] { 1f, 2f };
        single.AllReduce(data.AsSpan(), ReduceOp.Mean);
        Assert.That(data, Is.EqualTo(new[] { 1f, 2f }), "a group of one reduces to its own values");
    }
}
