using System.Diagnostics;
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
            var x = new float[rows * cols]; var y = new float[rows * cols];
            var r = new Random(1); for (var i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 4 - 2);
            var sw = Stopwatch.StartNew(); var n = 0;
            while (sw.ElapsedMilliseconds < 1500) { CpuSoftmax.Rows(new ArraySegment<float>(x), new ArraySegment<float>(y), rows, cols, false, false); n++; }
            var best = double.MaxValue;
            for (var k = 0; k < 5; k++) { sw.Restart(); for (var i = 0; i < 2000; i++) CpuSoftmax.Rows(new ArraySegment<float>(x), new ArraySegment<float>(y), rows, cols, false, false); best = Math.Min(best, sw.Elapsed.TotalMicroseconds / 2000); }
            Console.WriteLine($"softmax {rows}x{cols}: {best:F2} us");
        }
    }
}
