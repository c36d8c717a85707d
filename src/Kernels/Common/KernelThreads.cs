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
/// Opt-in (<see cref="Enabled"/>): in some processes it is much slower, see there; otherwise loops of two or more
/// iterations run on <c>Parallel.For</c>. One loop runs on the workers at a time. A loop started while another is
/// running (replica sessions on their own threads, a kernel nested in a loop body) runs on <c>Parallel.For</c> instead. Which thread runs an iteration never changes what it computes: the kernels split their
/// work into fixed chunks. An exception in an iteration is rethrown to the caller (the first one, as
/// itself) after every started iteration has finished.
/// </remarks>
internal static class KernelThreads
{
    /// <summary>How long an idle worker keeps polling for the next loop before it blocks.</summary>
    public const int SpinMicroseconds = 200;

    // Declared before the workers: static initialisers run in text order.
    /// <summary>
    /// Whether loops use the pool (<c>NABLA_KERNEL_POOL=1</c>) or <c>Parallel.For</c> (the default). Off by default: on the
    /// 2-core VM the W2 step ran 522–559 µs with the pool against 610–652 µs without in 4 of 6 processes, but about 2× slower
    /// (1042–1110 µs) in the other 2, consistently within each process (docs/results.md, session (d)).
    /// </summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("NABLA_KERNEL_POOL") == "1";

    private static readonly Worker[] s_workers = StartWorkers(Enabled ? Environment.ProcessorCount - 1 : 0);
    private static Loop? s_current;
    private static int s_busy;
    private static long s_generation;

    /// <summary>Number of persistent workers (0 on one core, where every loop runs on the caller).</summary>
    public static int Workers => s_workers.Length;

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
        if (!Enabled)
        {
            OnThreadPool(fromInclusive, toExclusive, body);
            return;
        }
        if (s_workers.Length == 0)
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
            foreach (var w in s_workers) w.Wake();
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

    private static Worker[] StartWorkers(int count)
    {
        var workers = new Worker[Math.Clamp(count, 0, 63)];
        for (var i = 0; i < workers.Length; i++) workers[i] = new Worker(i);
        return workers;
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
