using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

// EmulatedCudaDevice: memory, copies, faults and the cuBLAS-semantics GEMM.
internal sealed partial class PtxEmulatorTests
{
    // ---- EmulatedCudaDevice ----------------------------------------------------------------------

    /// <summary>op(X) of a column-major matrix X (rows×cols stored with leading dimension ld), element (r, c).</summary>
    private static double At(double[] x, long start, bool trans, int r, int c, int ld) => trans ? x[start + c + (long)r * ld] : x[start + r + (long)c * ld];

    [TestCase(false, false, 3, 4, 5, 1), TestCase(true, false, 4, 3, 2, 2), TestCase(false, true, 5, 2, 3, 3), TestCase(true, true, 2, 6, 4, 2), TestCase(false, false, 3, 3, 0, 1)]
    public unsafe void GemmIsColumnMajorCublas(bool transA, bool transB, int m, int n, int k, int batch)
    {
        using var device = new EmulatedCudaDevice();
        var random = new Random(m * 100 + n * 10 + k);
        // Padded leading dimensions and batch strides larger than one matrix, to catch index mix-ups.
        int lda = (transA ? k : m) + 2, ldb = (transB ? n : k) + 1, ldc = m + 3;
        long strideA = (long)lda * (transA ? m : k) + 5, strideB = (long)ldb * (transB ? k : n) + 7, strideC = (long)ldc * n + 1;
        double[] A = [.. Enumerable.Range(0, (int)(strideA * batch) + 1).Select(_ => Math.Round(random.NextDouble() * 8 - 4))];
        double[] B = [.. Enumerable.Range(0, (int)(strideB * batch) + 1).Select(_ => Math.Round(random.NextDouble() * 8 - 4))];
        double[] C = [.. Enumerable.Range(0, (int)(strideC * batch) + 1).Select(_ => Math.Round(random.NextDouble() * 8 - 4))];
        const double alpha = 1.5, beta = -0.5;
        var expected = (double[])C.Clone();
        for (var i = 0; i < batch; i++)
            for (var r = 0; r < m; r++)
                for (var c = 0; c < n; c++)
                {
                    var sum = 0d;
                    for (var p = 0; p < k; p++) sum += At(A, strideA * i, transA, r, p, lda) * At(B, strideB * i, transB, p, c, ldb);
                    expected[strideC * i + r + (long)c * ldc] = alpha * sum + beta * C[strideC * i + r + (long)c * ldc];
                }
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var size = dtype == DType.Float32 ? 4 : 8;
            ulong Up(double[] x)
            {
                var address = device.Allocate((ulong)(x.Length * size));
                if (dtype == DType.Float32)
                {
                    var f = x.Select(v => (float)v).ToArray();
                    fixed (float* p = f) device.CopyHostToDevice(address, p, (ulong)(f.Length * 4));
                }
                else fixed (double* p = x) device.CopyHostToDevice(address, p, (ulong)(x.Length * 8));
                return address;
            }
            var (da, db, dc) = (Up(A), Up(B), Up(C));
            device.GemmStridedBatched(dtype, transA, transB, m, n, k, alpha, da, lda, strideA, db, ldb, strideB, beta, dc, ldc, strideC, batch, false);
            var result = new double[C.Length];
            if (dtype == DType.Float32)
            {
                var f = new float[C.Length];
                fixed (float* p = f) device.CopyDeviceToHost(p, dc, (ulong)(f.Length * 4));
                result = f.Select(v => (double)v).ToArray();
            }
            else fixed (double* p = result) device.CopyDeviceToHost(p, dc, (ulong)(result.Length * 8));
            device.Synchronize();
            // Small integers and halves: exact in both precisions.
            Assert.That(result, Is.EqualTo(expected), $"{dtype}: elements outside the C matrices are untouched and the rest match");
        }
    }

    [Test]
    public unsafe void GemmGivesTheRowMajorProductThroughTheColumnMajorMapping()
    {
        // Row-major C (m×n) = A (m×k) · B (k×n) is column-major Cᵀ = Bᵀ·Aᵀ: gemm(N, N, n, m, k, B, ldb=n, A, lda=k, C, ldc=n).
        using var device = new EmulatedCudaDevice();
        const int m = 3, n = 4, k = 2;
        float[] a = [1, 2, 3, 4, 5, 6];
        float[] b = [1, 0, -1, 2, 3, 1, 0, -2];
        var (da, db, dc) = (device.Allocate(24), device.Allocate(32), device.Allocate(48));
        fixed (float* p = a) device.CopyHostToDevice(da, p, 24);
        fixed (float* p = b) device.CopyHostToDevice(db, p, 32);
        device.GemmStridedBatched(DType.Float32, false, false, n, m, k, 1, db, n, 0, da, k, 0, 0, dc, n, 0, 1, false);
        var c = new float[m * n];
        fixed (float* p = c) device.CopyDeviceToHost(p, dc, 48);
        device.Synchronize();
        var expected = new float[m * n];
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
                for (var p = 0; p < k; p++) expected[i * n + j] += a[i * k + p] * b[p * n + j];
        Assert.That(c, Is.EqualTo(expected), "β = 0 ignores the poisoned (NaN) C");
    }

    [Test]
    public void GemmRejectsBadArgumentsAndOutOfBoundsMatrices()
    {
        using var device = new EmulatedCudaDevice();
        var x = device.Allocate(64);
        var lda = Assert.Throws<CudaException>(() => device.GemmStridedBatched(DType.Float32, false, false, 4, 4, 4, 1, x, 3, 0, x, 4, 0, 0, x, 4, 0, 1, false))!;
        Assert.That(lda.Message, Does.Contain("CUBLAS_STATUS_INVALID_VALUE").And.Contain("lda=3"));
        var oob = Assert.Throws<CudaException>(() => device.GemmStridedBatched(DType.Float32, false, false, 4, 4, 4, 1, x, 4, 16, x, 4, 0, 0, x, 4, 0, 2, false))!;
        Assert.That(oob.Message, Does.Contain("GEMM A of batch 1"));
    }

    [Test]
    public void CudaDeviceRefusesBadLaunchesAtOnceAndReportsKernelFaultsAtSynchronize()
    {
        using var device = new EmulatedCudaDevice();
        Assert.That(device.Name, Is.EqualTo("emulator"));
        var y = device.Allocate(16);
        var fill = device.Launcher.Function("fill", "fill_f32");
        var refused = Assert.Throws<CudaException>(() => device.Launcher.Launch(fill, (1, 1, 1), 32, 0, new KernelArgs().U64(y)))!;
        Assert.That(refused.Message, Does.Contain("cuLaunchKernel").And.Contain("1 argument(s) for 3"));
        device.Synchronize();
        device.Launcher.Launch(fill, (1, 1, 1), 32, 0, new KernelArgs().U64(y).F32(1).U64(5));
        var fault = Assert.Throws<CudaException>(device.Synchronize)!;
        Assert.That(fault.Message, Does.Contain("CUDA_ERROR_ILLEGAL_ADDRESS").And.Contain("fill:fill_f32"));
        Assert.That(fault.InnerException, Is.InstanceOf<PtxEmulatorException>());
        Assert.Throws<CudaException>(() => device.Allocate(4), "the fault is sticky, as a real context's");
    }

    [Test]
    public void CudaDeviceMemoryCopiesAndMemset()
    {
        using var device = new EmulatedCudaDevice();
        var a = device.Allocate(40);
        var b = device.Allocate(40);
        device.Memset32(a, 0x3F80_0000, 10);
        device.CopyDeviceToDevice(b, a, 40);
        var host = new float[10];
        unsafe
        {
            fixed (float* p = host) device.CopyDeviceToHost(p, b, 40);
        }
        device.Synchronize();
        Assert.That(host, Has.All.EqualTo(1f));
        Assert.Throws<CudaException>(() => device.Memset32(a, 0, 11));
        device.MemoryLimit = 100;
        var oom = Assert.Throws<CudaException>(() => device.Allocate(21))!;
        Assert.That((oom.Code, oom.CodeName), Is.EqualTo((2, "CUDA_ERROR_OUT_OF_MEMORY")));
        Assert.That(device.Allocate(20), Is.Not.Zero, "80 + 20 bytes fit the limit");
        device.Free(a);
        Assert.Throws<CudaException>(() => device.Free(a));
        Assert.That(device.Memory.Count, Is.EqualTo(2));
    }
}
