using System.Diagnostics;
using System.Globalization;
using Nabla.Kernels;
using Nabla.Kernels.Cpu;

namespace Nabla.Bench;

/// <summary>
/// Conv2D kernel timing on the CPU backend (<c>dotnet run -c Release -- --conv [--batch 64] [--sizes 28,56] [--reps 10] [--cin 32 --cout 64 --kernel 3]</c>):
/// by default 3×3 "same", 32 → 64 channels (LeNet's first layer: <c>--cin 1 --cout 6 --kernel 5</c>), NHWC, forward, backprop-input and backprop-filter, best of <c>--reps</c> calls after one
/// warm-up call. Each pass does F = 2·N·Ho·Wo·kh·kw·Cin·Cout flops (1.85 GFLOP at 28×28, 7.4 at 56×56, batch 64) and
/// moves at least the input, filter and output once (N·H·W·(Cin + Cout)·4 B: 19 MB at 56×56), so it is compute-bound
/// (~400 flop/B); the limit printed is cores × the 12×32 micro-kernel's L1-resident rate.
/// The peer is <c>bench/peers/conv2d_torch.py</c> (PyTorch 1.13, oneDNN) with the same shapes.
/// One core: set <c>DOTNET_PROCESSOR_COUNT=1</c> (the kernels split work by Environment.ProcessorCount).
/// </summary>
internal static class ConvQuick
{
    public static void Run(string[] args)
    {
        var batch = 64;
        var reps = 10;
        int[] sizes = [28, 56];
        int cin = 32, cout = 64, k = 3;
        var same = true;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--batch": batch = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--reps": reps = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--sizes": sizes = args[i + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--cin": cin = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--cout": cout = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--kernel": k = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--padding": same = args[i + 1] == "same"; break;
                default: throw new ArgumentException($"unknown option {args[i]} (--batch N, --sizes 28,56, --reps N, --cin C, --cout C, --kernel K, --padding same|valid)");
            }
        }

        var cores = Environment.ProcessorCount;
        var peak = GemmQuick.KernelPeak();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Conv2D {k}x{k} {(same ? "same" : "valid")} {cin}->{cout}, batch {batch}, {cores} core(s); micro-kernel peak {peak:F1} GFLOP/s per core, limit {peak * cores:F1}"));
        using var backend = new CpuBackend();
        foreach (var size in sizes)
        {
            var a = same
                ? new Conv2DArgs(batch, size, size, cin, k, k, cout, 1, 1, 1, 1, (k - 1) / 2, (k - 1) / 2, k / 2, k / 2, size, size)
                : new Conv2DArgs(batch, size, size, cin, k, k, cout, 1, 1, 1, 1, 0, 0, 0, 0, size - k + 1, size - k + 1);
            var x = Buffer(backend, (long)batch * size * size * cin, 1);
            var w = Buffer(backend, k * k * cin * cout, 2);
            var dy = Buffer(backend, (long)batch * a.OutH * a.OutW * cout, 3);
            var y = backend.Memory.Allocate(DType.Float32, batch * a.OutH * a.OutW * cout);
            var dx = backend.Memory.Allocate(DType.Float32, batch * size * size * cin);
            var dw = backend.Memory.Allocate(DType.Float32, k * k * cin * cout);
            var flops = 2.0 * a.MultiplyAdds;
            foreach (var pass in Enum.GetValues<ConvolutionPass>())
            {
                var wsLength = backend.ConvolutionWorkspace(pass, a, DType.Float32);
                var ws = wsLength > 0 ? backend.Memory.Allocate(DType.Float32, (int)wsLength) : null;
                Action call = pass switch
                {
                    ConvolutionPass.Forward => () => backend.Conv2D(x, w, y, ws, a),
                    ConvolutionPass.BackpropInput => () => backend.Conv2DBackpropInput(dy, w, dx, ws, a),
                    _ => () => backend.Conv2DBackpropFilter(x, dy, dw, ws, a),
                };
                call();
                var best = double.MaxValue;
                var process = Process.GetCurrentProcess();
                var cpuStart = process.TotalProcessorTime;
                for (var r = 0; r < reps; r++)
                {
                    var sw = Stopwatch.StartNew();
                    call();
                    best = Math.Min(best, sw.Elapsed.TotalSeconds);
                }
                process.Refresh();
                // CPU time per call, all threads: on a loaded machine it stays near the quiet wall time × cores used, where wall time does not.
                var cpu = (process.TotalProcessorTime - cpuStart).TotalMilliseconds / reps;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {size}x{size} {pass,-15} {best * 1e3,8:F2} ms  {flops / best / 1e9,7:F1} GFLOP/s  (CPU {cpu,7:F2} ms/call; {flops / 1e9:F2} GFLOP, workspace {wsLength * 4 / 1024.0:F0} KiB)"));
                if (ws is not null) backend.Memory.Free(ws);
            }
            Im2ColAlone(x, a, reps);
            foreach (var b in new[] { x, w, dy, y, dx, dw }) backend.Memory.Free(b);
        }
    }

    /// <summary>The forward pass's im2col alone, single-threaded over every row in L2-sized chunks: the copy the GEMM cannot hide.</summary>
    private static unsafe void Im2ColAlone(DeviceBuffer x, in Conv2DArgs a, int reps)
    {
        // The chunking the im2col passes use (a layer with few output channels may run direct, without im2col).
        var k = a.KH * a.KW * a.InC;
        var rowsPerChunk = (int)Math.Clamp(CpuConvolution.ChunkBytes / (4L * k), 48, 8192);
        var rows = a.Batch * a.OutH * a.OutW;
        var col = new float[(long)rowsPerChunk * k];
        var best = double.MaxValue;
        fixed (float* px = ((HostBuffer)x).Span<float>(), pc = col)
            for (var r = 0; r <= reps; r++)
            {
                var sw = Stopwatch.StartNew();
                for (var r0 = 0; r0 < rows; r0 += rowsPerChunk)
                    CpuConvolution.Im2Col(px, a, r0, Math.Min(rowsPerChunk, rows - r0), pc);
                if (r > 0) best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
        var bytes = 4.0 * rows * a.KH * a.KW * a.InC;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {a.InH}x{a.InW} im2col alone, 1 core: {best * 1e3,6:F2} ms ({bytes / best / 1e9:F1} GB/s written)"));
    }

    private static DeviceBuffer Buffer(CpuBackend backend, long length, int seed)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        var b = backend.Memory.Allocate(DType.Float32, (int)length);
        backend.Memory.Upload(values, b);
        return b;
    }
}
