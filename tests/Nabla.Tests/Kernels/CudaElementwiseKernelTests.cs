using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The CUDA element-wise families (fill, cast, strided copy, binary, select, assign) launched directly on an
/// <see cref="IKernelTestDevice"/>, against definitions written here (not the CPU backend's code): every dtype,
/// broadcasting, size-1, empty and rank-0 shapes, rank 8, NaN/±Inf/±0, integer wrap and division by zero,
/// abort flags. Outputs are poisoned (0xFF) before each launch, and one element past each output is checked
/// to stay poisoned. Float results are compared bit for bit (every op here is exactly rounded); an expected NaN
/// only needs a NaN (payloads differ between the CPU and the GPU). Sizes are small: the emulator interprets.
/// </summary>
public abstract partial class CudaElementwiseKernelTests : KernelDeviceFixture
{
    private ulong Up<T>(params T[] data) where T : unmanaged => Device.Upload<T>(data);

    /// <summary>An output of <paramref name="count"/> elements plus one guard element, all poisoned.</summary>
    /// <remarks>Rounded up to whole 8-byte words: a device may poison only whole 32-bit words (cuMemsetD32).</remarks>
    private unsafe ulong Out<T>(int count) where T : unmanaged => Device.Allocate(((count + 1L) * sizeof(T) + 7) / 8 * 8);

    /// <summary>What <see cref="Out{T}"/> holds before a launch: elements whose bytes are all 0xFF.</summary>
    private static unsafe T[] Poison<T>(int count) where T : unmanaged
    {
        var bytes = new byte[count * sizeof(T)];
        bytes.AsSpan().Fill(0xFF);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }

    /// <summary>Reads count elements and checks that the guard element after them is still poisoned (0xFF bytes).</summary>
    private unsafe T[] Down<T>(ulong address, int count) where T : unmanaged
    {
        var bytes = Device.Read<byte>(address, (count + 1) * sizeof(T));
        var guard = bytes.AsSpan(count * sizeof(T));
        Assert.That(guard.ToArray().All(b => b == 0xFF), Is.True, $"the kernel wrote past its {count} elements");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes.AsSpan(0, count * sizeof(T))).ToArray();
    }

    /// <summary>
    /// Asserts actual == expected element by element: floats bit for bit (so −0 ≠ +0) except that an expected NaN
    /// accepts any NaN; the first few mismatches are listed with their index.
    /// </summary>
    private static void AssertSame<T>(T[] expected, T[] actual, string what) where T : unmanaged
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        var bad = new List<string>();
        for (var i = 0; i < expected.Length; i++)
        {
            if (Same(expected[i], actual[i])) continue;
            if (bad.Count < 8) bad.Add($"[{i}] expected {Show(expected[i])}, got {Show(actual[i])}");
            else { bad.Add("..."); break; }
        }
        Assert.That(bad, Is.Empty, $"{what}: {string.Join("; ", bad)}");
    }

    private static bool Same<T>(T e, T a) where T : unmanaged => (e, a) switch
    {
        (float x, float y) => float.IsNaN(x) ? float.IsNaN(y) : BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y),
        (double x, double y) => double.IsNaN(x) ? double.IsNaN(y) : BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y),
        _ => EqualityComparer<T>.Default.Equals(e, a),
    };

    private static string Show<T>(T v) where T : unmanaged => v switch
    {
        float f => $"{f:R} (0x{BitConverter.SingleToUInt32Bits(f):X8})",
        double d => $"{d:R} (0x{BitConverter.DoubleToUInt64Bits(d):X16})",
        _ => v.ToString() ?? "",
    };

    /// <summary>The element offsets of every index of <paramref name="shape"/> (row-major) in a view with the given offset and strides.</summary>
    private static long[] Offsets(int[] shape, long offset, int[] strides)
    {
        var n = shape.Aggregate(1L, (p, d) => p * d);
        var result = new long[n];
        var index = new int[shape.Length];
        for (var i = 0L; i < n; i++)
        {
            var o = offset;
            for (var d = 0; d < shape.Length; d++) o += (long)index[d] * strides[d];
            result[i] = o;
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d]) break;
                index[d] = 0;
            }
        }
        return result;
    }

    /// <summary>Row-major strides of a contiguous shape.</summary>
    private static int[] Contiguous(params int[] shape)
    {
        var s = new int[shape.Length];
        for (int d = shape.Length - 1, step = 1; d >= 0; d--)
        {
            s[d] = step;
            step *= shape[d];
        }
        return s;
    }

    private static int Count(int[] shape) => shape.Aggregate(1, (p, d) => p * d);

    // ---- definitions of the conversions (IBackend.Cast / Fill), written from the contract ----

    private static int ToInt32(double x) => double.IsNaN(x) ? 0 : x >= 2147483647.0 ? int.MaxValue : x <= -2147483648.0 ? int.MinValue : (int)Math.Truncate(x);

    private static long ToInt64(double x) =>
        double.IsNaN(x) ? 0 : x >= 9223372036854775807.0 ? long.MaxValue : x <= -9223372036854775808.0 ? long.MinValue : (long)Math.Truncate(x);

    private static int ToInt32(long x) => (int)Math.Clamp(x, int.MinValue, int.MaxValue);

    [Test]
    public void Fill_EveryDType_RoundsSaturatesAndWritesExactlyN()
    {
        double[] values = [0, -0.0, 1.5, -2.75, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 3e9, -3e9, 1e20, 0.1, 5];
        const int n = 5;
        foreach (var v in values)
        {
            var f = Out<float>(n);
            ElementwiseKernels.Fill(K, DType.Float32, f, n, v);
            AssertSame(Enumerable.Repeat((float)v, n).ToArray(), Down<float>(f, n), $"float32 fill {v}");
            var d = Out<double>(n);
            ElementwiseKernels.Fill(K, DType.Float64, d, n, v);
            AssertSame(Enumerable.Repeat(v, n).ToArray(), Down<double>(d, n), $"float64 fill {v}");
            var i = Out<int>(n);
            ElementwiseKernels.Fill(K, DType.Int32, i, n, v);
            AssertSame(Enumerable.Repeat(ToInt32(v), n).ToArray(), Down<int>(i, n), $"int32 fill {v}");
            var l = Out<long>(n);
            ElementwiseKernels.Fill(K, DType.Int64, l, n, v);
            AssertSame(Enumerable.Repeat(ToInt64(v), n).ToArray(), Down<long>(l, n), $"int64 fill {v}");
            var b = Out<byte>(n);
            ElementwiseKernels.Fill(K, DType.Bool, b, n, v);
            AssertSame(Enumerable.Repeat((byte)(v != 0 ? 1 : 0), n).ToArray(), Down<byte>(b, n), $"bool fill {v}");
        }
    }

    [Test]
    public void Fill_ZeroElements_WritesNothing()
    {
        var f = Out<float>(0);
        ElementwiseKernels.Fill(K, DType.Float32, f, 0, 1);
        Assert.That(Down<float>(f, 0), Is.Empty);
    }

    [Test]
    public void Fill_LargerThanOneBlock_CoversEveryElement()
    {
        const int n = 700; // 3 blocks of 256, the last one partial
        var y = Out<int>(n);
        ElementwiseKernels.Fill(K, DType.Int32, y, n, -7);
        AssertSame(Enumerable.Repeat(-7, n).ToArray(), Down<int>(y, n), "int32 fill of 700");
    }

    // ---- Cast ----

    private static readonly float[] CastFloat32 =
        [0f, -0f, 1.5f, -1.5f, 2.5f, -2.7f, 0.1f, 1e10f, -1e10f, 3e9f, 2147483520f, 2147483648f, -2147483648f, 16777217f, 1e-45f,
         9.3e18f, -9.3e18f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];

    private static readonly double[] CastFloat64 =
        [0, -0.0, 1.5, -1.5, 0.1, 1e300, -1e300, 3.4028235677973366e38, 1e-40, 1e-320, 16777217.0, 2147483647.9, -2147483648.9, 2147483648.0,
         9.3e18, -9.3e18, 9223372036854775807.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity];

    private static readonly int[] CastInt32 = [0, 1, -1, 2, int.MaxValue, int.MinValue, 16777217, -16777217, 123456789];

    private static readonly long[] CastInt64 =
        [0, 1, -1, long.MaxValue, long.MinValue, 2147483648L, -2147483649L, int.MaxValue, int.MinValue, 9007199254740993L, -9007199254740993L, 16777217L];

    private static readonly byte[] CastBool = [0, 1, 1, 0];

    [Test]
    public void Cast_EveryPairOfDTypes_AsTheContractDefines([Values] DType from, [Values] DType to)
    {
        switch (from)
        {
            case DType.Float32: CastFrom(CastFloat32, to, x => x, x => x != 0); break;
            case DType.Float64: CastFrom(CastFloat64, to, x => x, x => x != 0); break;
            case DType.Int32: CastFrom(CastInt32, to, x => x, x => x != 0, x => x); break;
            case DType.Int64: CastFrom(CastInt64, to, x => x, x => x != 0, x => x); break;
            case DType.Bool: CastFrom(CastBool, to, x => x, x => x != 0, x => x); break;
        }
    }

    /// <summary>Casts <paramref name="source"/> to <paramref name="to"/> on the device and checks each element against the definition.</summary>
    /// <param name="asDouble">The value as a double (exact for floats and for the test's integers that matter for float→int).</param>
    /// <param name="nonzero">x != 0 (true for NaN).</param>
    /// <param name="asLong">The exact integer value, for integer sources.</param>
    private void CastFrom<T>(T[] source, DType to, Func<T, double> asDouble, Func<T, bool> nonzero, Func<T, long>? asLong = null) where T : unmanaged
    {
        var n = source.Length;
        var from = typeof(T) == typeof(float) ? DType.Float32 : typeof(T) == typeof(double) ? DType.Float64 : typeof(T) == typeof(int) ? DType.Int32
            : typeof(T) == typeof(long) ? DType.Int64 : DType.Bool;
        var x = Up(source);
        var what = $"cast {from.Name()} → {to.Name()}";
        switch (to)
        {
            case DType.Float32:
            {
                var y = Out<float>(n);
                ElementwiseKernels.Cast(K, from, x, to, y, n);
                // Integers round to nearest even directly (long → float is one rounding, not two through double).
                AssertSame(source.Select(v => asLong is null ? (float)asDouble(v) : (float)asLong(v)).ToArray(), Down<float>(y, n), what);
                break;
            }
            case DType.Float64:
            {
                var y = Out<double>(n);
                ElementwiseKernels.Cast(K, from, x, to, y, n);
                AssertSame(source.Select(v => asLong is null ? asDouble(v) : (double)asLong(v)).ToArray(), Down<double>(y, n), what);
                break;
            }
            case DType.Int32:
            {
                var y = Out<int>(n);
                ElementwiseKernels.Cast(K, from, x, to, y, n);
                AssertSame(source.Select(v => asLong is null ? ToInt32(asDouble(v)) : ToInt32(asLong(v))).ToArray(), Down<int>(y, n), what);
                break;
            }
            case DType.Int64:
            {
                var y = Out<long>(n);
                ElementwiseKernels.Cast(K, from, x, to, y, n);
                AssertSame(source.Select(v => asLong is null ? ToInt64(asDouble(v)) : asLong(v)).ToArray(), Down<long>(y, n), what);
                break;
            }
            case DType.Bool:
            {
                var y = Out<byte>(n);
                ElementwiseKernels.Cast(K, from, x, to, y, n);
                AssertSame(source.Select(v => (byte)(nonzero(v) ? 1 : 0)).ToArray(), Down<byte>(y, n), what);
                break;
            }
        }
    }

    [Test]
    public void Cast_ZeroElements_WritesNothing()
    {
        var y = Out<int>(0);
        ElementwiseKernels.Cast(K, DType.Float32, Up(1f), DType.Int32, y, 0);
        Assert.That(Down<int>(y, 0), Is.Empty);
    }
}

/// <summary>The element-wise families on the first GPU; ignored where there is none.</summary>
[TestFixture, Category("Gpu"), NonParallelizable]
public sealed class GpuElementwiseKernelTests : CudaElementwiseKernelTests
{
    private protected override IKernelTestDevice CreateDevice() => new GpuKernelTestDevice();
}

/// <summary>The element-wise families on the tests' strict PTX emulator (out-of-bounds accesses and parameter sizes fail).</summary>
[TestFixture]
public sealed class EmulatedElementwiseKernelTests : CudaElementwiseKernelTests
{
    private protected override IKernelTestDevice CreateDevice() => new EmulatedKernelTestDevice();
}
