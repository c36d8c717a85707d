using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Optimizers;
using NUnit.Framework;

namespace Nabla.Tests.Kernels.Cuda;

/// <summary>
/// Whole sessions on a CUDA device: a W2-like training run (MLP, ReLU, dropout, sparse cross-entropy, Adam) reaches the
/// CPU's accuracy with the same seeds, and the CUDA backend is what the session runs. One subclass per CUDA device.
/// </summary>
public abstract class CudaSessionTests
{
    /// <summary>The device under test (may call Assert.Ignore when it is absent).</summary>
    protected abstract Device Device { get; }

    /// <summary>Training steps of <see cref="TrainingReachesTheCpuAccuracy"/> (fewer on slow devices).</summary>
    protected virtual int Steps => 120;

    /// <summary>
    /// Ten Gaussian clusters in 32 dimensions (centres ±1 per coordinate, noise σ = 0.6): separable enough that a small MLP
    /// reaches ≥ 90 % in a hundred Adam steps, noisy enough that a broken kernel (a wrong gradient, a mask that differs)
    /// shows as lost accuracy. The graph is W2's at a smaller width: 32-64-64-10, ReLU, dropout 0.3, Adam.
    /// </summary>
    private static (double Accuracy, float LastLoss) Train(Device device, int steps)
    {
        const int features = 32, classes = 10, batch = 64, samples = 640;
        var rng = new Random(5);
        var centres = new double[classes, features];
        for (var c = 0; c < classes; c++)
            for (var f = 0; f < features; f++) centres[c, f] = rng.Next(2) == 0 ? -1 : 1;
        var xs = new float[samples * features];
        var ys = new int[samples];
        for (var i = 0; i < samples; i++)
        {
            ys[i] = i % classes;
            for (var f = 0; f < features; f++)
            {
                // Box–Muller with the test's own generator: the same data on every device.
                var gauss = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                xs[i * features + f] = (float)(centres[ys[i], f] + 0.6 * gauss);
            }
        }

        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, features), "x");
        var y = g.Placeholder(DType.Int32, new Shape(-1), "y");
        var h = x;
        int[] sizes = [features, 64, 64, classes];
        for (var l = 0; l < 3; l++)
        {
            var w = g.Variable(new Shape(sizes[l], sizes[l + 1]), DType.Float32, Initializer.GlorotUniform(7 + (ulong)l), $"w{l}");
            var b = g.Variable(new Shape(sizes[l + 1]), DType.Float32, Initializer.Zeros, $"b{l}");
            h = g.MatMul(h, w.Value) + b.Value;
            if (l < 2) h = g.Dropout(g.Relu(h), 0.3, 17 + (ulong)l);
        }
        var logits = h;
        var loss = g.ReduceMean(g.SparseSoftmaxCrossEntropyWithLogits(y, logits));
        var train = new Adam(0.005).Minimize(loss);
        using var session = new Session(g, device);
        session.Run(g.GlobalVariablesInitializer());
        var lastLoss = float.NaN;
        for (var step = 0; step < steps; step++)
        {
            var start = step * batch % samples;
            var feeds = new Dictionary<Output, Tensor>
            {
                [x] = Tensor.FromArray(xs.AsSpan(start * features, batch * features).ToArray(), batch, features),
                [y] = Tensor.FromArray(ys.AsSpan(start, batch).ToArray(), batch),
            };
            lastLoss = session.Run([loss], feeds, train)[0].ToArray<float>()[0];
        }
        var all = session.Run(logits, new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(xs, samples, features) }).ToArray<float>();
        var correct = 0;
        for (var i = 0; i < samples; i++)
        {
            var best = 0;
            for (var c = 1; c < classes; c++) if (all[i * classes + c] > all[i * classes + best]) best = c;
            if (best == ys[i]) correct++;
        }
        return ((double)correct / samples, lastLoss);
    }

    [Test]
    public void TrainingReachesTheCpuAccuracy()
    {
        var device = Device;
        var cpu = Train(Device.Cpu, Steps);
        var cuda = Train(device, Steps);
        TestContext.Out.WriteLine($"{Steps} steps: cpu accuracy {cpu.Accuracy:P1} (loss {cpu.LastLoss:G4}), {device} {cuda.Accuracy:P1} (loss {cuda.LastLoss:G4})");
        Assert.That(cpu.Accuracy, Is.GreaterThan(0.9), "the task is learnable (CPU)");
        // Same data, seeds and dropout masks (Philox on both): only float32 summation order differs, which moves a few
        // borderline samples at most; 2 % of 640 is 13 samples.
        Assert.That(cuda.Accuracy, Is.GreaterThanOrEqualTo(cpu.Accuracy - 0.02), $"{device} accuracy");
        Assert.That(float.IsFinite(cuda.LastLoss), Is.True);
    }

    [Test]
    public void SessionsRunTheCudaBackend()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Float32, new Shape(3), "a");
        using var session = new Session(g, Device);
        Assert.That(session.Backend, Is.InstanceOf<CudaBackend>().Or.InstanceOf<DeferredBackend>());
        var r = session.Run(g.Square(a) + 1, new Dictionary<Output, Tensor> { [a] = Tensor.FromArray([1f, -2f, 3f], 3) }).ToArray<float>();
        Assert.That(r, Is.EqualTo(new[] { 2f, 5f, 10f }));
    }

    [Test]
    public void ARejectedLaunchIsACleanExceptionAndTheSessionStaysUsable()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Float32, new Shape(4), "a");
        using var session = new Session(g, Device);
        if (session.Backend is not CudaBackend backend) { Assert.Ignore("NABLA_DEFER_EXECUTION wraps the backend"); return; }
        const string ptx = ".version 8.0\n.target sm_75\n.address_size 64\n.visible .entry nabla_test_noop()\n{\n\tret;\n}\n";
        var launcher = backend.Device.Launcher;
        var noop = launcher.Function("nabla-test-noop", () => ptx, "nabla_test_noop");
        // 2048 threads per block is past every GPU's limit of 1024: cuLaunchKernel refuses it (CUDA_ERROR_INVALID_VALUE), a non-sticky error
        // (the emulator refuses it the same way).
        var e = Assert.Throws<CudaException>(() => launcher.Launch(noop, (1, 1, 1), 2048, 0, new KernelArgs()));
        Assert.That(e!.Message, Does.Contain("cuLaunchKernel"));
        var r = session.Run(g.Abs(a), new Dictionary<Output, Tensor> { [a] = Tensor.FromArray([-1f, 2f, -3f, 4f], 4) }).ToArray<float>();
        Assert.That(r, Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
    }
}

/// <summary>Sessions on GPU 0, plus the failures only a real device produces: out of memory, TF32.</summary>
[Category("Gpu"), NonParallelizable]
public class GpuCudaSessionTests : CudaSessionTests
{
    protected override Device Device => CudaTestDevices.Gpu();

    [Test]
    public void DeviceCudaNamesTheDevice()
    {
        var device = Device;
        Assert.That(device.Name, Is.EqualTo("cuda:0"));
        using var session = new Session(new Graph(), device);
        // bench/gpu/verify.sh reports this line as the backend under test.
        TestContext.Out.WriteLine($"CUDA backend: {session.Backend.Name}");
        Assert.That(session.Backend.Name, Does.StartWith("cuda:0 ("));
    }

    [Test]
    public void OutOfMemoryIsADeviceExceptionAndTheSessionStaysUsable()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Float32, new Shape(-1), "a");
        var y = g.ReduceSum(g.Exp(a) * 2);
        using var session = new Session(g, Device);
        var memory = session.Backend.Memory;
        var hog = new List<DeviceBuffer>();
        DeviceException? failure = null;
        try
        {
            // Take the device's memory in 4 GiB, then 64 MiB blocks, until the driver says no.
            foreach (var block in new[] { 1 << 30, 1 << 24 })
                while (true)
                {
                    try { hog.Add(memory.Allocate(DType.Float32, block)); }
                    catch (DeviceException e) { failure = e; break; }
                }
            Assert.That(failure!.Message, Does.Contain("CUDA_ERROR_OUT_OF_MEMORY"));
            Assert.That(failure.InnerException, Is.InstanceOf<CudaException>());
            // A run that needs 256 MiB of arena now fails cleanly...
            var big = Tensor.Zeros(new Shape(1 << 26));
            Assert.Throws<DeviceException>(() => session.Run(y, new Dictionary<Output, Tensor> { [a] = big }));
        }
        finally
        {
            foreach (var b in hog) memory.Free(b);
        }
        // ...and once the memory is back, the same session runs it.
        var small = session.Run(y, new Dictionary<Output, Tensor> { [a] = Tensor.Zeros(new Shape(1 << 20)) }).ToArray<float>()[0];
        Assert.That(small, Is.EqualTo(2f * (1 << 20)));
    }

    [Test]
    public void Float32MatMulStaysFloat32UnlessTf32IsAllowed()
    {
        // 1 + 2⁻¹⁶ is exact in float32 but rounds to 1 in TF32 (10-bit mantissa): a 1×1×1 product shows which one ran.
        var g = new Graph();
        var a = g.Placeholder(DType.Float32, new Shape(1, 1), "a");
        var product = g.MatMul(a, a);
        var x = 1f + 1f / 65536;
        var feeds = new Dictionary<Output, Tensor> { [a] = Tensor.FromArray([x], 1, 1) };
        using var strict = new Session(g, Device);
        Assert.That(strict.Run(product, feeds).ToArray<float>()[0], Is.EqualTo(x * x));
    }
}
