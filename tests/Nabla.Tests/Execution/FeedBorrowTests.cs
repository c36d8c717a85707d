using NUnit.Framework;

namespace Nabla.Tests.Execution;

/// <summary>
/// Feeds read only by GEMM/convolution kernels are read in place on the synchronous host backend
/// (<see cref="Nabla.Kernels.IAllocator.Borrow"/>): no upload, the caller's array is never written, each run sees its own feed,
/// and the results are those of the copied feed.
/// </summary>
public sealed class FeedBorrowTests
{
    private static (Graph G, Output X, Output Y) Dense(bool alsoElementWise)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 5), "x");
        var w = g.Constant(Tensor.FromArray(Enumerable.Range(0, 15).Select(i => (float)(i - 7) / 4).ToArray(), 5, 3));
        var y = g.MatMul(x, w);
        if (alsoElementWise) y = g.Add(y, g.ReduceSum(g.Exp(x)));
        return (g, x, y);
    }

    private static Tensor Input(int seed, int rows = 4) =>
        Tensor.FromArray(Enumerable.Range(0, rows * 5).Select(i => (float)Math.Sin(i * 0.7 + seed)).ToArray(), rows, 5);

    [Test]
    public void AFeedReadOnlyByMatMulIsNotCopiedAndNotWritten()
    {
        var (g, x, y) = Dense(alsoElementWise: false);
        using var borrowed = new Session(g);
        using var copied = new Session(g, options: new SessionOptions { DeferExecution = true });
        // The first run also uploads the constant weights into the session.
        borrowed.Run(y, new Dictionary<Output, Tensor> { [x] = Input(0) });
        copied.Run(y, new Dictionary<Output, Tensor> { [x] = Input(0) });
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var input = Input(seed);
            var before = input.ToArray<float>();
            var got = borrowed.Run(y, new Dictionary<Output, Tensor> { [x] = input });
            // Under NABLA_DEFER_EXECUTION=1 every session is deferred, and copies.
            var canBorrow = borrowed.Backend.Memory.Borrow(new float[1], DType.Float32) is not null;
            Assert.That(borrowed.LastRun!.Value.Uploads, Is.EqualTo(canBorrow ? 0 : 1), "the only feed is read in place");
            Assert.That(input.ToArray<float>(), Is.EqualTo(before), "the caller's array is unchanged");
            var expected = copied.Run(y, new Dictionary<Output, Tensor> { [x] = input });
            Assert.That(copied.LastRun!.Value.Uploads, Is.EqualTo(1), "the deferred backend copies it");
            Assert.That(got.ToArray<float>(), Is.EqualTo(expected.ToArray<float>()), $"seed {seed}: each run reads its own feed");
        }
    }

    [Test]
    public void AFeedAlsoReadByElementWiseKernelsIsCopied()
    {
        // Element-wise kernels and reductions split their vectors by the arena's alignment; they must read the copy.
        var (g, x, y) = Dense(alsoElementWise: true);
        using var s = new Session(g);
        s.Run(y, new Dictionary<Output, Tensor> { [x] = Input(0) }); // uploads the constant weights too
        s.Run(y, new Dictionary<Output, Tensor> { [x] = Input(1) });
        Assert.That(s.LastRun!.Value.Uploads, Is.EqualTo(1));
    }

    [Test]
    public void AFetchedFeedIsCopiedAndBatchSizesCanChange()
    {
        var (g, x, y) = Dense(alsoElementWise: false);
        using var s = new Session(g);
        var input = Input(5, rows: 2);
        s.Run(y, new Dictionary<Output, Tensor> { [x] = Input(0) }); // uploads the constant weights too
        var fetched = s.Run([x, y], new Dictionary<Output, Tensor> { [x] = input });
        Assert.That(s.LastRun!.Value.Uploads, Is.EqualTo(1), "a fetched feed is copied in");
        Assert.That(fetched[0].ToArray<float>(), Is.EqualTo(input.ToArray<float>()));
        foreach (var rows in new[] { 1, 7, 2 })
        {
            var r = s.Run(y, new Dictionary<Output, Tensor> { [x] = Input(rows, rows) });
            Assert.That(r.Shape, Is.EqualTo(new Shape(rows, 3)));
        }
    }
}
