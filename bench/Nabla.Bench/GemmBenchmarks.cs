using System.Globalization;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Nabla.Bench.Peers;
using Nabla.Kernels.Cpu;

namespace Nabla.Bench;

/// <summary>
/// float32 row-major C = A·B (no transposes): Nabla's blocked AVX-512 GEMM vs OpenBLAS cblas_sgemm in the
/// same process and run. Both use all cores (OPENBLAS_NUM_THREADS deliberately unset). 128×784×128 is an
/// MLP layer (batch 128, 784 → 128) and checks that small products do not pay threading overhead.
/// Two jobs: OpenBLAS's own CPU detection ("auto"; 0.3.21 knows no Zen 5 and picks its AVX2 Haswell
/// kernels) and OPENBLAS_CORETYPE=SkylakeX, its AVX-512 kernels, the strongest OpenBLAS peer on this CPU.
/// </summary>
[Config(typeof(GemmConfig))]
public unsafe class GemmBenchmarks
{
    private float* a, b, c;
    private int m, n, k;

    /// <summary>M×K×N: A is M×K, B is K×N.</summary>
    [Params("128x784x128", "512x512x512", "1024x1024x1024", "2048x2048x2048")]
    public string Shape { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        (m, k, n) = ParseShape(Shape);
        a = Alloc((long)m * k);
        b = Alloc((long)k * n);
        c = Alloc((long)m * n);
        var rng = new Random(42);
        for (long i = 0; i < (long)m * k; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        for (long i = 0; i < (long)k * n; i++) b[i] = (float)(rng.NextDouble() * 2 - 1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(a);
        NativeMemory.AlignedFree(b);
        NativeMemory.AlignedFree(c);
    }

    [Benchmark(Baseline = true)]
    public void OpenBLAS() => OpenBlas.Multiply(false, false, m, n, k, a, b, c);

    [Benchmark]
    public void Nabla() => Gemm.Multiply(false, false, m, n, k,
        new ReadOnlySpan<float>(a, m * k), new ReadOnlySpan<float>(b, k * n), new Span<float>(c, m * n));

    internal static (int M, int K, int N) ParseShape(string shape)
    {
        var p = shape.Split('x');
        return (int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture),
            int.Parse(p[2], CultureInfo.InvariantCulture));
    }

    internal static float* Alloc(long count) => (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);

    private sealed class GemmConfig : ManualConfig
    {
        public GemmConfig()
        {
            var job = Job.Default.WithWarmupCount(2).WithIterationCount(5);
            AddJob(job.WithId("openblas-auto"));
            AddJob(job.WithEnvironmentVariables(new EnvironmentVariable("OPENBLAS_CORETYPE", "SkylakeX")).WithId("openblas-skx"));
            AddColumn(new GflopsColumn("GFLOPs", "2·M·N·K / mean time, in 1e9 flop/s", c =>
            {
                if (c.Parameters["Shape"] is not string shape) return null;
                var (m, k, n) = ParseShape(shape);
                return 2.0 * m * n * k;
            }));
        }
    }
}
