using NUnit.Framework;
using Nabla.Kernels;

namespace Nabla.Tests.Kernels;

/// <summary>The CPU kernels' fork-join pool: every iteration exactly once, errors rethrown as themselves, and loops started concurrently or nested still complete.</summary>
public sealed class KernelThreadsTests
{
    [Test]
    public void EveryOtherCoreHasAWorkerUnlessThePoolIsDisabled() =>
        Assert.That(KernelThreads.Workers, Is.EqualTo(KernelThreads.Disabled ? 0 : Math.Min(Environment.ProcessorCount - 1, 63)));

    [Test]
    public void TrainingStepsAndInferenceRunsBothUseThePoolUnlessItIsDisabled()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 256), "x");
        var w = g.Variable(Tensor.RandomUniform(new Shape(256, 256), -0.1, 0.1, seed: 1), "w");
        var y = g.MatMul(x, w.Value); // 2·128·256·256 = 16.8 MFLOP: a parallel product
        var update = w.AssignSub(g.MatMul(g.Transpose(x), y) * 1e-6);
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.RandomUniform(new Shape(128, 256), -1, 1, seed: 2) };
        using var s = new Session(g, options: new SessionOptions { DeferExecution = false });
        s.Run(g.GlobalVariablesInitializer());
        s.Run(y, feeds);
        var before = KernelThreads.PooledLoops;
        s.Run(y, feeds);
        Assert.That(KernelThreads.PooledLoops, KernelThreads.Disabled ? Is.EqualTo(before) : Is.GreaterThan(before), "an inference run's product");
        before = KernelThreads.PooledLoops;
        s.Run([y], feeds, update.Op);
        Assert.That(KernelThreads.PooledLoops, KernelThreads.Disabled ? Is.EqualTo(before) : Is.GreaterThan(before), "a training step's products");
    }

    [TestCase(0, 0)]
    [TestCase(0, 1)]
    [TestCase(3, 5)]
    [TestCase(0, 1000)]
    public void EveryIterationRunsExactlyOnce(int from, int to)
    {
        var hits = new int[Math.Max(to, 1)];
        KernelThreads.For(from, to, i => Interlocked.Increment(ref hits[i]));
        Assert.That(hits.Skip(from).Take(to - from), Is.All.EqualTo(1));
        Assert.That(hits.Take(from), Is.All.EqualTo(0));
    }

    [Test]
    public void BackToBackLoopsSeeEachOthersResults()
    {
        // The pattern of a plan: each loop reads what the previous one wrote.
        var data = new long[64];
        for (var round = 0; round < 2000; round++)
            KernelThreads.For(0, data.Length, i => data[i] = data[i] + data[(i + 1) % data.Length] % 7 + 1);
        Assert.That(data, Is.All.GreaterThan(2000));
        var expected = new long[64];
        for (var round = 0; round < 2000; round++)
        {
            var next = (long[])expected.Clone();
            // Iterations of one loop may run in any order, so use a loop whose iterations are independent to compare exactly.
            for (var i = 0; i < next.Length; i++) next[i] = expected[i] + 1;
            expected = next;
        }
        var counters = new long[64];
        for (var round = 0; round < 2000; round++) KernelThreads.For(0, counters.Length, i => counters[i]++);
        Assert.That(counters, Is.EqualTo(expected));
    }

    [Test]
    public void TheFirstExceptionIsRethrownAsItselfAfterTheOtherIterationsFinish()
    {
        var done = 0;
        var error = Assert.Throws<InvalidOperationException>(() => KernelThreads.For(0, 8, i =>
        {
            if (i == 3) throw new InvalidOperationException("iteration 3");
            Thread.Sleep(1);
            Interlocked.Increment(ref done);
        }));
        Assert.That(error!.Message, Is.EqualTo("iteration 3"));
        Assert.That(done, Is.EqualTo(7));
        // The pool is usable afterwards.
        var sum = 0;
        KernelThreads.For(0, 10, i => Interlocked.Add(ref sum, i));
        Assert.That(sum, Is.EqualTo(45));
    }

    [Test]
    public void InsideInlineLoopsRunOnTheCallerInOrderWithTheSameErrorsAndScopesNest()
    {
        var caller = Environment.CurrentManagedThreadId;
        var order = new List<int>();
        var threadsSeen = new HashSet<int>();
        var pooled = KernelThreads.PooledLoops;
        using (KernelThreads.Inline())
        {
            Assert.That(KernelThreads.Threads, Is.EqualTo(1));
            KernelThreads.For(0, 64, i =>
            {
                lock (order)
                {
                    order.Add(i);
                    threadsSeen.Add(Environment.CurrentManagedThreadId);
                }
            });
            var done = 0;
            var error = Assert.Throws<InvalidOperationException>(() => KernelThreads.For(0, 8, i =>
            {
                if (i == 2) throw new InvalidOperationException("iteration 2");
                done++;
            }));
            Assert.That(error!.Message, Is.EqualTo("iteration 2"));
            Assert.That(done, Is.EqualTo(7), "every other iteration still ran");
            using (KernelThreads.Inline()) KernelThreads.For(0, 2, _ => { });
            KernelThreads.For(0, 2, i => threadsSeen.Add(Environment.CurrentManagedThreadId)); // still inline after the inner scope
        }
        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 64)));
        Assert.That(threadsSeen, Is.EquivalentTo(new[] { caller }));
        Assert.That(KernelThreads.PooledLoops, Is.EqualTo(pooled), "no loop went to the pool");
        Assert.That(KernelThreads.Threads, Is.EqualTo(Environment.ProcessorCount), "the scope ended");
    }

    [Test]
    public void ConcurrentAndNestedLoopsComplete()
    {
        var totals = new long[4];
        var threads = Enumerable.Range(0, totals.Length).Select(t => new Thread(() =>
        {
            for (var round = 0; round < 200; round++)
                KernelThreads.For(0, 4, i => KernelThreads.For(0, 3, j => Interlocked.Increment(ref totals[t])));
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.That(t.Join(TimeSpan.FromSeconds(60)), Is.True, "a loop never finished");
        Assert.That(totals, Is.All.EqualTo(200 * 4 * 3));
    }
}
