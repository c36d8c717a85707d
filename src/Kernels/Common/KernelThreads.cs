using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Nabla.Kernels;

/// <summary>
/// Fork-join for the CPU kernels: the calling thread and <see cref="Environment.ProcessorCount"/> − 1 persistent
/// workers take the iterations of a loop from a shared counter. After a loop the workers spin for
/// <see cref="SpinMicroseconds"/> before they block, so the back-to-back parallel kernels of a plan reach workers
/// that are already awake. <c>Parallel.For</c> hands each loop to thread-pool threads that have usually gone to
/// sleep since the previous kernel, and waking one costs tens of µs in a virtual machine, against kernels of 5–200 µs.
/// </summary>
/// <remarks>
/// Every loop uses the pool, training steps and inference runs alike, unless the environment variable
/// <c>NABLA_KERNEL_POOL=0</c> sends them all to <c>Parallel.For</c> (CI's second test pass does, so both schemes stay tested).
/// The workers start at the first loop. One loop runs on the workers at a time. A loop started while another is running
/// (replica sessions on their own threads, a kernel nested in a loop body) runs on <c>Parallel.For</c> instead. Which
/// thread runs an iteration never changes what it computes: the kernels split their work into fixed chunks. An exception
/// in an iteration is rethrown to the caller (the first one, as itself) after every started iteration has finished.
/// <para>
/// Training steps used <c>Parallel.For</c> until session (j): the pool had been blamed for W2 steps that ran about 2×
/// slower in some processes (session (d)). Forty alternating pairs of processes showed that slow state as often without
/// the pool (6 of 40) as with it (7 of 40), while the pool was faster in 28 of the 40 pairs (medians 529 against 558 µs;
/// docs/results.md, session (j)).
/// </para>
/// </remarks>
internal static class KernelThreads
{
    /// <summary>How long an idle worker keeps polling for the next loop before it blocks.</summary>
    public const int SpinMicroseconds = 200;

    /// <summary>Whether no loop uses the pool (<c>NABLA_KERNEL_POOL=0</c>): every loop then runs on <c>Parallel.For</c>.</summary>
    public static bool Disabled { get; } = Environment.GetEnvironmentVariable("NABLA_KERNEL_POOL") == "0";

    [ThreadStatic] private static bool t_inline;
    private static Worker[]? s_workers;
    private static readonly Lock s_start = new();
    private static Loop? s_current;
    private static int s_busy;
    private static long s_generation;
    [ThreadStatic] private static long t_pooledLoops;

    /// <summary>Number of persistent workers the pool has once started (0 on one core, where every loop runs on the caller, and with <see cref="Disabled"/>).</summary>
    public static int Workers => Disabled ? 0 : Math.Clamp(Environment.ProcessorCount - 1, 0, 63);

    /// <summary>
    /// The threads a loop started on this thread will run on: one inside <see cref="Inline"/>, else one per core. Kernels
    /// whose results do not depend on their split (the GEMM's slabs) size it by this, so an inline product is one slab.
    /// </summary>
    public static int Threads => t_inline ? 1 : Environment.ProcessorCount;

    /// <summary>Loops this thread has started on the pool so far (for tests).</summary>
    public static long PooledLoops => t_pooledLoops;

    /// <summary>
    /// Until disposed, loops started on this thread run on it alone, iteration by iteration, with the same results and
    /// error behaviour. For threads that are themselves one of several running at once on all the cores
    /// (<c>MirroredStrategy</c>'s replicas): splitting each of their kernels across the cores again only makes them
    /// wait for each other. Scopes nest.
    /// </summary>
    public static InlineScope Inline()
    {
        var previous = t_inline;
        t_inline = true;
        return new InlineScope(previous);
    }

    /// <summary>Restores the thread's previous <see cref="Inline"/> setting when disposed.</summary>
    public readonly struct InlineScope(bool previous) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => t_inline = previous;
    }

    /// <summary>Runs <paramref name="body"/>(i) for every i in [<paramref name="fromInclusive"/>, <paramref name="toExclusive"/>), possibly concurrently; returns when all have run.</summary>
    public static void For(int fromInclusive, int toExclusive, Action<int> body)
    {
        var count = toExclusive - fromInclusive;
        if (count <= 0) return;
        if (count == 1)
        {
            body(fromInclusive);
            return;
        }
        if (t_inline)
        {
            Run(new Loop(0, fromInclusive, toExclusive, body));
            return;
        }
        if (Disabled)
        {
            OnThreadPool(fromInclusive, toExclusive, body);
            return;
        }
        var workers = StartedWorkers();
        t_pooledLoops++;
        if (workers.Length == 0)
        {
            Run(new Loop(0, fromInclusive, toExclusive, body));
            return;
        }
        if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            OnThreadPool(fromInclusive, toExclusive, body);
            return;
        }
        try
        {
            var loop = new Loop(++s_generation, fromInclusive, toExclusive, body);
            Volatile.Write(ref s_current, loop);
            foreach (var w in workers) w.Wake();
            Run(loop);
        }
        finally
        {
            // Drop the loop (its body holds the kernel's buffers); a worker still holding it finds no iteration left.
            Volatile.Write(ref s_current, null);
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary>
    /// The loop on <c>Parallel.For</c>, with the same error behaviour as the pool: every iteration runs, and the first
    /// exception is rethrown as itself (not Parallel.For's AggregateException, which also stops starting iterations).
    /// </summary>
    private static void OnThreadPool(int fromInclusive, int toExclusive, Action<int> body)
    {
        Exception? first = null;
        Parallel.For(fromInclusive, toExclusive, i =>
        {
            try
            {
                body(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref first, e, null);
            }
        });
        if (first is not null) ExceptionDispatchInfo.Throw(first);
    }

    /// <summary>The caller's share of <paramref name="loop"/>, the wait for the workers' shares, and the first error.</summary>
    private static void Run(Loop loop)
    {
        loop.Work();
        loop.WaitForAll();
        if (loop.Error is { } e) ExceptionDispatchInfo.Throw(e);
    }

    /// <summary>The workers, started by the first loop that uses the pool.</summary>
    private static Worker[] StartedWorkers()
    {
        if (Volatile.Read(ref s_workers) is { } started) return started;
        lock (s_start)
        {
            if (s_workers is null)
            {
                var workers = new Worker[Workers];
                for (var i = 0; i < workers.Length; i++) workers[i] = new Worker(i);
                Volatile.Write(ref s_workers, workers);
            }
            return s_workers;
        }
    }

    /// <summary>One parallel loop: iterations are claimed from <see cref="_next"/>; <see cref="_remaining"/> counts those not yet finished.</summary>
    private sealed class Loop(long generation, int from, int to, Action<int> body)
    {
        public long Generation => generation;

        private int _next = from;
        private int _remaining = to - from;

        public Exception? Error { get; private set; }

        public void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < to)
            {
                try
                {
                    body(i);
                }
                catch (Exception e)
                {
                    lock (this) Error ??= e;
                }
                finally
                {
                    Interlocked.Decrement(ref _remaining);
                }
            }
        }

        public void WaitForAll()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _remaining) > 0) spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "workers live as long as the process")]
    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);
        private int _sleeping;

        public Worker(int index) =>
            new Thread(Run) { IsBackground = true, Name = $"Nabla kernel worker {index + 1}" }.Start();

        /// <summary>Releases the worker if it is blocked; a spinning worker sees the new loop by itself.</summary>
        public void Wake()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        private void Run()
        {
            long seen = 0;
            while (true)
            {
                var loop = Poll(seen);
                if (loop is null)
                {
                    Sleep(seen);
                    continue;
                }
                seen = loop.Generation;
                loop.Work();
            }
        }

        private static Loop? Fresh(long seen) => Volatile.Read(ref s_current) is { } loop && loop.Generation != seen ? loop : null;

        /// <summary>
        /// Polls for a loop newer than <paramref name="seen"/> for <see cref="SpinMicroseconds"/>; null if none came. The
        /// poll yields its core now and then (SpinWait's back-off), so a thread that is ready to run there is not held up.
        /// </summary>
        private static Loop? Poll(long seen)
        {
            var start = Stopwatch.GetTimestamp();
            var limit = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
            var spin = new SpinWait();
            do
            {
                if (Fresh(seen) is { } loop) return loop;
                spin.SpinOnce(sleep1Threshold: -1);
            }
            while (Stopwatch.GetTimestamp() - start < limit);
            return null;
        }

        /// <summary>Blocks until <see cref="Wake"/>, unless a new loop was published meanwhile (checked after announcing the sleep, so a wake-up is never lost).</summary>
        private void Sleep(long seen)
        {
            Interlocked.Exchange(ref _sleeping, 1);
            if (Fresh(seen) is not null && Interlocked.Exchange(ref _sleeping, 0) == 1) return;
            // Either nothing new (wait for the caller's release) or the caller already took the flag and released the semaphore.
            _wake.Wait();
        }
    }
}
