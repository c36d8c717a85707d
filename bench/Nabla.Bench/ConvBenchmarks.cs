using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Nabla.Kernels;
using Nabla.Kernels.Cpu;

namespace Nabla.Bench;

/// <summary>
/// Conv2D kernels on the CPU backend, BenchmarkDotNet's record of what <see cref="ConvQuick"/> (<c>--conv</c>) times:
/// 3×3 "same", 32 → 64 channels, NHWC, batch 64, 28×28 and 56×56; forward, backprop-input and backprop-filter,
/// each 2·N·Ho·Wo·kh·kw·Cin·Cout flops (GFLOP/s column). Peer: <c>bench/peers/conv2d_torch.py</c>.
/// Run: <c>dotnet run -c Release -- --filter '*ConvBenchmarks*'</c>.
/// </summary>
[Config(typeof(ConvConfig))]
public class ConvBenchmarks
{
    private const int Batch = 64, Cin = 32, Cout = 64, K = 3;
    private CpuBackend _backend = null!;
    private DeviceBuffer _x = null!, _w = null!, _dy = null!, _y = null!, _dx = null!, _dw = null!;
    private DeviceBuffer? _wsForward, _wsInput, _wsFilter;
    private Conv2DArgs _args;

    /// <summary>Height and width of the input.</summary>
    [Params(28, 56)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _backend = new CpuBackend();
        _args = new Conv2DArgs(Batch, Size, Size, Cin, K, K, Cout, 1, 1, 1, 1, 1, 1, 1, 1, Size, Size);
        var image = Size * Size;
        _x = Random(Batch * image * Cin, 1);
        _w = Random(K * K * Cin * Cout, 2);
        _dy = Random(Batch * image * Cout, 3);
        _y = _backend.Memory.Allocate(DType.Float32, Batch * image * Cout);
        _dx = _backend.Memory.Allocate(DType.Float32, Batch * image * Cin);
        _dw = _backend.Memory.Allocate(DType.Float32, K * K * Cin * Cout);
        _wsForward = Workspace(ConvolutionPass.Forward);
        _wsInput = Workspace(ConvolutionPass.BackpropInput);
        _wsFilter = Workspace(ConvolutionPass.BackpropFilter);
    }

    private DeviceBuffer? Workspace(ConvolutionPass pass)
    {
        var n = _backend.ConvolutionWorkspace(pass, _args, DType.Float32);
        return n > 0 ? _backend.Memory.Allocate(DType.Float32, (int)n) : null;
    }

    private DeviceBuffer Random(int length, int seed)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (var i = 0; i < length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        var b = _backend.Memory.Allocate(DType.Float32, length);
        _backend.Memory.Upload(values, b);
        return b;
    }

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();

    [Benchmark]
    public void Forward() => _backend.Conv2D(_x, _w, _y, _wsForward, _args);

    [Benchmark]
    public void BackpropInput() => _backend.Conv2DBackpropInput(_dy, _w, _dx, _wsInput, _args);

    [Benchmark]
    public void BackpropFilter() => _backend.Conv2DBackpropFilter(_x, _dy, _dw, _wsFilter, _args);

    private sealed class ConvConfig : ManualConfig
    {
        public ConvConfig()
        {
            AddJob(Job.Default.WithWarmupCount(2).WithIterationCount(10));
            AddColumn(new GflopsColumn("ConvGFLOPs", "2·N·Ho·Wo·kh·kw·Cin·Cout / mean time, in 1e9 flop/s",
                c => c.Parameters["Size"] is int size ? 2.0 * Batch * size * size * K * K * Cin * Cout : null));
        }
    }
}
