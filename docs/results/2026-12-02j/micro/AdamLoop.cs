using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
unsafe
{
const int N = 784 * 128;
float* pool = (float*)NativeMemory.AlignedAlloc((nuint)(4 * (N + 8192) * 4 + 65536), 4096);
var rnd = new Random(1);
for (long i = 0; i < 4L * (N + 8192) + 16384; i++) pool[i] = (float)rnd.NextDouble() * 0.01f;
int[] offsets = [0, 16, 64, 256, 512, 1024, 1040];  // floats; offset of each array start mod 4K region
foreach (var off in offsets)
foreach (var threads in new[] { 1, 2 })
{
    // arrays spaced by N + 8192 floats (multiple of 4KB = 1024 floats), plus per-array offset k*off
    float* w = pool, g = pool + (N + 8192) + off, m = pool + 2 * (N + 8192) + 2 * off, v = pool + 3 * (N + 8192) + 3 * off;
    var times = new List<double>();
    for (int rep = 0; rep < 3000; rep++)
    {
        var t0 = Stopwatch.GetTimestamp();
        if (threads == 1) Adam(w, g, m, v, 0, N);
        else Parallel.For(0, 7, c => Adam(w, g, m, v, c * 16384, Math.Min(N, (c + 1) * 16384)));
        times.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
    }
    times.Sort();
    Console.WriteLine($"off {off,5} threads {threads}: median {times[1500],7:F1} us  min {times[0],7:F1}");
}
static void Adam(float* pw, float* pg, float* pm, float* pv, int start, int end)
{
    var n = (end - start) / Vector<float>.Count;
    var w = new Span<Vector<float>>(pw + start, n); var g = new Span<Vector<float>>(pg + start, n);
    var m = new Span<Vector<float>>(pm + start, n); var v = new Span<Vector<float>>(pv + start, n);
    Vector<float> lr = new(0.001f), eps = new(1e-7f), c1 = new(0.1f), c2 = new(0.001f);
    for (var i = 0; i < w.Length; i++)
    {
        var gi = g[i];
        var mi = m[i] + (gi - m[i]) * c1;
        var vi = v[i] + (gi * gi - v[i]) * c2;
        m[i] = mi; v[i] = vi;
        w[i] -= mi * lr / (Vector.SquareRoot(vi) + eps);
    }
}
}
