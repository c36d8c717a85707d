using System.Diagnostics;
using System.Globalization;
using Nabla.Bench.Peers;
using Nabla.Kernels.Cpu;

namespace Nabla.Bench;

/// <summary>
/// Stopwatch best-of-N GEMM timing for quick kernel tuning (<c>dotnet run -c Release -- --gemm-quick [MxKxN ...]</c>);
/// the numbers of record come from <see cref="GemmBenchmarks"/>.
/// </summary>
internal static unsafe class GemmQuick
{
    /// <summary>Register-bound throughput of the 12×32 kernel: the attainable per-core peak.</summary>
    internal static double KernelPeak()
    {
        const int kc = 256;
        var a = GemmBenchmarks.Alloc(12 * kc);
        var b = GemmBenchmarks.Alloc(32 * kc);
        var c = GemmBenchmarks.Alloc(12 * 32);
        for (var i = 0; i < 12 * kc; i++) a[i] = 1e-3f;
        for (var i = 0; i < 32 * kc; i++) b[i] = 1e-3f;
        var best = double.MaxValue;
        for (var r = 0; r < 20; r++)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < 20000; i++) GemmKernel512.Run(kc, a, b, c, 32, false);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }

        return 2.0 * 12 * 32 * kc * 20000 / best / 1e9;
    }

    public static void Run(string[] shapes)
    {
        if (shapes.Length == 0) shapes = ["128x784x128", "512x512x512", "1024x1024x1024", "2048x2048x2048"];
        Console.WriteLine($"OpenBLAS: {OpenBlas.Config}, threads {OpenBlas.GetNumThreads()}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"micro-kernel 12x32, kc=256, L1-resident, 1 thread: {KernelPeak():F1} GFLOP/s"));
        foreach (var shape in shapes)
        {
            var (m, k, n) = GemmBenchmarks.ParseShape(shape);
            var a = GemmBenchmarks.Alloc((long)m * k);
            var b = GemmBenchmarks.Alloc((long)k * n);
            var c = GemmBenchmarks.Alloc((long)m * n);
            for (long i = 0; i < (long)m * k; i++) a[i] = (i % 7) * 0.1f;
            for (long i = 0; i < (long)k * n; i++) b[i] = (i % 5) * 0.1f;
            var flops = 2.0 * m * n * k;
            var reps = Math.Max(3, (int)(2e9 / flops));
            double Best(Action f)
            {
                f();
                var best = double.MaxValue;
                for (var r = 0; r < 5; r++)
                {
                    var sw = Stopwatch.StartNew();
                    for (var i = 0; i < reps; i++) f();
                    best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
                }

                return flops / best / 1e9;
            }

            var nabla = Best(() => Gemm.Multiply(false, false, m, n, k, new ReadOnlySpan<float>(a, m * k),
                new ReadOnlySpan<float>(b, k * n), new Span<float>(c, m * n)));
            var nabla1 = Best(() => Gemm.Multiply(Gemm.Kernel.Auto, 1, false, false, m, n, k, new ReadOnlySpan<float>(a, m * k),
                new ReadOnlySpan<float>(b, k * n), new Span<float>(c, m * n)));
            var packed1 = Best(() => Gemm.Multiply(Gemm.Kernel.Vector512Packed, 1, false, false, m, n, k, new ReadOnlySpan<float>(a, m * k),
                new ReadOnlySpan<float>(b, k * n), new Span<float>(c, m * n)));
            var blas = Best(() => OpenBlas.Multiply(false, false, m, n, k, a, b, c));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{shape,-16} nabla {nabla,7:F1}  nabla-1T {nabla1,7:F1}  (A packed {packed1,7:F1})  openblas {blas,7:F1} GFLOP/s  ratio {nabla / blas:F2}"));
        }
    }
}
