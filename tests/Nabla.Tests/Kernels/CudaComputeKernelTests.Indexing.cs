using System.Numerics;
using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>Gather, scatter-add and the device checks.</summary>
public abstract partial class CudaComputeKernelTests
{
    /// <summary>Indices with out-of-range ones (−1, axisDim, and 2⁴⁰ for int64) and repeats.</summary>
    private static long[] Indices(int count, int axisDim, bool wide) =>
        Enumerable.Range(0, count).Select(j => (j % 6) switch
        {
            1 => -1L,
            3 => wide ? 1L << 40 : axisDim,
            4 => 0,
            _ => (long)(j * 7 % axisDim),
        }).ToArray();

    private ulong UpIndices(long[] indices, DType indexDType) =>
        indexDType == DType.Int32 ? Up(indices.Select(v => (int)v).ToArray()) : Up(indices);

    [Test]
    public void Gather([Values] DType dtype, [Values(DType.Int32, DType.Int64)] DType indexDType)
    {
        switch (dtype)
        {
            case DType.Float32: GatherTyped<float>(dtype, indexDType, i => i * 0.5f - 3); break;
            case DType.Float64: GatherTyped<double>(dtype, indexDType, i => i * 0.25 - 3); break;
            case DType.Int32: GatherTyped<int>(dtype, indexDType, i => i * 3 - 7); break;
            case DType.Int64: GatherTyped<long>(dtype, indexDType, i => (1L << 35) + i); break;
            default: GatherTyped<bool>(dtype, indexDType, i => i % 3 != 0); break;
        }
    }

    private void GatherTyped<T>(DType dtype, DType indexDType, Func<int, T> value) where T : unmanaged
    {
        foreach (var (outer, count, axisDim, inner) in new[] { (1, 1, 1, 1), (2, 7, 4, 3), (3, 37, 5, 1), (2, 0, 3, 2) })
        {
            var src = Enumerable.Range(0, outer * axisDim * inner).Select(value).ToArray();
            var indices = Indices(count, axisDim, indexDType == DType.Int64);
            var n = outer * count * inner;
            var dst = Device.Poisoned<T>(n);
            ComputeKernels.Gather(K, dtype, Up(src), indexDType, UpIndices(indices, indexDType), count, outer, axisDim, inner, dst);
            var expected = new T[n];
            StridedLoops.Gather<T, long>(src, indices, outer, axisDim, inner, expected);
            Assert.That(Device.Read<T>(dst, n), Is.EqualTo(expected), $"gather {dtype} by {indexDType} [{outer}, {count} of {axisDim}, {inner}]");
        }
    }

    [Test]
    public void ScatterAdd([Values(DType.Float32, DType.Float64, DType.Int32, DType.Int64)] DType dtype, [Values(DType.Int32, DType.Int64)] DType indexDType)
    {
        switch (dtype)
        {
            case DType.Float32: ScatterTyped<float>(dtype, indexDType, i => i * 0.5f); break;
            case DType.Float64: ScatterTyped<double>(dtype, indexDType, i => i * 0.25); break;
            case DType.Int32: ScatterTyped<int>(dtype, indexDType, i => i % 2 == 0 ? int.MaxValue - i : i); break; // wraps
            default: ScatterTyped<long>(dtype, indexDType, i => (1L << 40) * i - 5); break;
        }
    }

    private void ScatterTyped<T>(DType dtype, DType indexDType, Func<int, T> value) where T : unmanaged, INumber<T>
    {
        foreach (var (outer, count, axisDim, inner) in new[] { (1, 1, 1, 1), (2, 7, 4, 3), (3, 37, 5, 1), (2, 0, 3, 2) })
        {
            var updates = Enumerable.Range(0, outer * count * inner).Select(value).ToArray();
            var indices = Indices(count, axisDim, indexDType == DType.Int64);
            var initial = Enumerable.Range(0, outer * axisDim * inner).Select(i => T.CreateTruncating(i % 4)).ToArray();
            var dst = Up(initial);
            ComputeKernels.ScatterAdd(K, dtype, Up(updates), indexDType, UpIndices(indices, indexDType), count, outer, axisDim, inner, dst);
            var expected = (T[])initial.Clone();
            StridedLoops.ScatterAdd<T, long>(updates, indices, outer, axisDim, inner, expected);
            // Values are multiples of 1/4 well inside float's exact range, so any order of the atomic adds is exact.
            Assert.That(Device.Read<T>(dst, expected.Length), Is.EqualTo(expected), $"scatter-add {dtype} by {indexDType} [{outer}, {count} into {axisDim}, {inner}]");
        }
    }

    // ---- Check --------------------------------------------------------------------------------------

    /// <summary>flags[2·site] = first failing position + 1, flags[2·site + 1] = its value, as HostBackend.Check.</summary>
    private static (long Position, long Value) FirstFailure<T>(T[] x, Func<T, bool> bad, Func<T, long> bits)
    {
        for (var i = 0; i < x.Length; i++) if (bad(x[i])) return (i + 1, bits(x[i]));
        return (0, 0);
    }

    [Test]
    public void CheckIndexInRangeAndNonZero([Values(DType.Int32, DType.Int64)] DType dtype, [Values(CheckKind.IndexInRange, CheckKind.NonZero)] CheckKind kind)
    {
        const long bound = 10;
        foreach (var n in new[] { 1, 37, 300 })
        {
            // Failures at 299, 200 and 41 (both kinds): the lowest wins, whichever thread finds it first.
            var x = Enumerable.Range(0, n).Select(i => (long)(i % 9 + 1)).ToArray();
            foreach (var (at, v) in new[] { (299, -5L), (200, 0L), (41, 0L), (43, 12L) })
                if (at < n) x[at] = v;
            bool Bad(long v) => kind == CheckKind.NonZero ? v == 0 : v < 0 || v >= bound;
            var expected = FirstFailure(x, Bad, v => v);
            var xs = dtype == DType.Int32 ? Up(x.Select(v => (int)v).ToArray()) : Up(x);
            var flags = Up(new long[6]);
            ComputeKernels.Check(K, kind, dtype, xs, n, bound, flags, site: 1);
            Assert.That(Device.Read<long>(flags, 6), Is.EqualTo(new long[] { 0, 0, expected.Position, expected.Value, 0, 0 }), $"{kind} {dtype} n {n}");
        }
    }

    [Test]
    public void CheckFinite([Values(DType.Float32, DType.Float64)] DType dtype)
    {
        var x = Enumerable.Range(0, 70).Select(i => i * 0.5).ToArray();
        x[65] = double.NaN;
        x[50] = double.NegativeInfinity;
        x[33] = double.PositiveInfinity;
        var flags = Up(new long[4]);
        var xs = dtype == DType.Float32 ? Up(x.Select(v => (float)v).ToArray()) : Up(x);
        ComputeKernels.Check(K, CheckKind.Finite, dtype, xs, x.Length, 0, flags, site: 0);
        Assert.That(Device.Read<long>(flags, 4), Is.EqualTo(new[] { 34, BitConverter.DoubleToInt64Bits(double.PositiveInfinity), 0, 0 }));
        // A NaN's payload after widening float32 → float64 is the hardware's; it must still read back as a NaN.
        var nan = dtype == DType.Float32 ? Up(new[] { 1f, float.NaN }) : Up(new[] { 1.0, double.NaN });
        ComputeKernels.Check(K, CheckKind.Finite, dtype, nan, 2, 0, flags, site: 1);
        var after = Device.Read<long>(flags, 4);
        Assert.That(after[2], Is.EqualTo(2));
        Assert.That(double.IsNaN(BitConverter.Int64BitsToDouble(after[3])), $"value bits {after[3]:X16}");
    }

    [Test]
    public void CheckKeepsTheFirstFailureOfASiteAcrossCalls()
    {
        var flags = Up(new long[4]);
        var clean = Up(new[] { 1, 2, 3 });
        ComputeKernels.Check(K, CheckKind.NonZero, DType.Int32, clean, 3, 0, flags, site: 0);
        Assert.That(Device.Read<long>(flags, 4), Is.EqualTo(new long[4]), "a passing check leaves the site clear");
        ComputeKernels.Check(K, CheckKind.IndexInRange, DType.Int32, Up(new[] { 1, 2, 7, 9 }), 4, 5, flags, site: 0);
        ComputeKernels.Check(K, CheckKind.IndexInRange, DType.Int32, Up(new[] { -3, 2, 3 }), 3, 5, flags, site: 0);
        ComputeKernels.Check(K, CheckKind.IndexInRange, DType.Int32, Up(new[] { 1, -4 }), 2, 5, flags, site: 1);
        Assert.That(Device.Read<long>(flags, 4), Is.EqualTo(new long[] { 3, 7, 2, -4 }), "the first call's failure stays; the other site is its own");
    }

    [Test]
    public void CheckOfNothingLeavesTheFlags()
    {
        var flags = Up(new long[] { 0, 0 });
        ComputeKernels.Check(K, CheckKind.Finite, DType.Float32, 0, 0, 0, flags, site: 0);
        Assert.That(Device.Read<long>(flags, 2), Is.EqualTo(new long[2]));
    }
}
