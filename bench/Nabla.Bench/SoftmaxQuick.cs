using System.Diagnostics;
using System.Globalization;
using Nabla.Kernels.Cpu;

namespace Nabla.Bench;

/// <summary>
/// Stopwatch timing of the CPU softmax over short rows (<c>dotnet run -c Release -- --softmax-quick</c>): W2's 10-class
/// output at batch 512, 128 and 1, after a 1.5 s warm-up, best of 5 rounds of 2,000 calls. A diagnostic, not a number of record.
/// </summary>
internal static class SoftmaxQuick
{
    public static void Run()
    {
        foreach (var (rows, cols) in new[] { (512, 10), (128, 10), (1, 10) })
        {
            var x = new float[rows * cols];
            var y = new float[rows * cols];
            var random = new Random(1);
            for (var i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 4 - 2);
            void Call() => CpuSoftmax.Rows(new ArraySegment<float>(x), new ArraySegment<float>(y), rows, cols, log: false, deterministic: false);

            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 1500) Call();
            var best = double.MaxValue;
            for (var round = 0; round < 5; round++)
            {
                var sw = Stopwatch.StartNew();
                for (var i = 0; i < 2000; i++) Call();
                best = Math.Min(best, sw.Elapsed.TotalMicroseconds / 2000);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"softmax {rows}x{cols}: {best:F2} us"));
        }
    }
}
