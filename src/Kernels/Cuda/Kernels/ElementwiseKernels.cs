namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: the kernels are generated PTX (ElementwisePtx) run so far only on the tests'
// PTX emulator (CudaElementwiseKernelTests); the Gpu subclass of those tests checks them on a device.
// Every method only queues launches on k; arguments were validated by the engine. Offsets and
// strides are in elements; addresses are device addresses of element 0 of the underlying buffer.

/// <summary>The element-wise kernel families on CUDA: fill, cast, strided copy, binary, select and assign (unary, pow and fused programs: ElementwiseKernels.Math.cs).</summary>
/// <remarks>
/// Each family launches one generated kernel per (op, dtype, collapsed rank), compiled once per key
/// ("elementwise/{entry}"): strides are collapsed on the host (<see cref="StridedLayout"/>) so that contiguous
/// and scalar-broadcast operands run a rank-1 kernel without divisions. Nothing is launched for zero elements.
/// Results match HostBackend bit for bit: float + − · / are exactly rounded, conversions follow HostConvert.
/// </remarks>
internal static partial class ElementwiseKernels
{
    /// <summary>Prefix of the generated modules' keys.</summary>
    internal const string KeyPrefix = "elementwise/";

    /// <summary>Sets n elements of dtype at dst to value (rounded to the dtype; NaN allowed for floats).</summary>
    /// <remarks>The host rounds value as HostBackend.Fill does (float32 cast, saturating for integers, nonzero → true) and the kernel stores its bits.</remarks>
    public static void Fill(IKernelLauncher k, DType dtype, ulong dst, long n, double value)
    {
        var count = Count(n);
        if (count == 0) return;
        var width = dtype.SizeOf();
        var entry = $"fill_w{width}";
        var args = new KernelArgs().U64(dst).U32(count);
        switch (dtype)
        {
            case DType.Float32: args.U32(BitConverter.SingleToUInt32Bits((float)value)); break;
            case DType.Float64: args.U64(BitConverter.DoubleToUInt64Bits(value)); break;
            case DType.Int32: args.U32(unchecked((uint)int.CreateSaturating(value))); break;
            case DType.Int64: args.U64(unchecked((ulong)long.CreateSaturating(value))); break;
            case DType.Bool: args.U32(value != 0 ? 1u : 0u); break; // NaN != 0: true
            default: throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no such dtype");
        }
        Launch(k, entry, () => ElementwisePtx.Fill(entry, width), count, args);
    }

    /// <summary>Converts n elements (float→int truncates toward zero; nonzero→true), as IBackend.Cast.</summary>
    /// <remarks>Float to int saturates and maps NaN to 0, int64 to int32 saturates, and NaN converts to true, as HostConvert.</remarks>
    public static void Cast(IKernelLauncher k, DType from, ulong src, DType to, ulong dst, long n)
    {
        var count = Count(n);
        if (count == 0) return;
        if (from == to)
        {
            CopyContiguous(k, from.SizeOf(), src, dst, count);
            return;
        }
        var entry = $"cast_{Suffix(from)}_{Suffix(to)}";
        Launch(k, entry, () => ElementwisePtx.Cast(entry, from, to), count, new KernelArgs().U64(src).U64(dst).U32(count));
    }

    /// <summary>dst[dstOffset + Σ i·dstStrides] = src[srcOffset + Σ i·srcStrides] over shape, as IBackend.Copy.</summary>
    /// <exception cref="ArgumentException">More than 8 dimensions remain after collapsing.</exception>
    public static void Copy(IKernelLauncher k, DType dtype, ulong src, long srcOffset, ReadOnlySpan<int> srcStrides,
        ulong dst, long dstOffset, ReadOnlySpan<int> dstStrides, ReadOnlySpan<int> shape)
    {
        var layout = StridedLayout.Collapse(shape, srcStrides, dstStrides, operands: 2);
        if (layout.Count == 0) return;
        var width = dtype.SizeOf();
        var entry = $"copy_w{width}_r{layout.Rank}";
        Launch(k, entry, () => ElementwisePtx.Copy(entry, width, layout.Rank), layout.Count,
            new KernelArgs().U64(At(src, srcOffset, width)).U64(At(dst, dstOffset, width)).U32((uint)layout.Count).AddBytes<int>(layout.Packed));
    }

    /// <summary>y (contiguous, dtype of the result) = op(a, b) over shape with broadcasting strides, as IBackend.Binary; inputs have dtype. Pow goes to <see cref="BinaryPow"/>.</summary>
    /// <exception cref="NotSupportedException">op is not defined for dtype (logic on numbers, arithmetic or ordering on bools), as on the CPU.</exception>
    /// <exception cref="ArgumentException">More than 8 dimensions remain after collapsing.</exception>
    public static void Binary(IKernelLauncher k, BinaryOp op, DType dtype, ulong a, long aOffset, ReadOnlySpan<int> aStrides,
        ulong b, long bOffset, ReadOnlySpan<int> bStrides, ulong y, ReadOnlySpan<int> shape)
    {
        if (op == BinaryOp.Pow)
        {
            BinaryPow(k, dtype, a, aOffset, aStrides, b, bOffset, bStrides, y, shape);
            return;
        }
        if (ElementwisePtx.BinaryResult(op, dtype) is null) throw new NotSupportedException($"Binary {op} is not defined for {dtype.Name()}");
        var layout = StridedLayout.Collapse(shape, aStrides, bStrides, operands: 2);
        if (layout.Count == 0) return;
        var width = dtype.SizeOf();
        var entry = $"binary_{Name(op)}_{Suffix(dtype)}_r{layout.Rank}";
        Launch(k, entry, () => ElementwisePtx.Binary(entry, op, dtype, layout.Rank), layout.Count,
            new KernelArgs().U64(At(a, aOffset, width)).U64(At(b, bOffset, width)).U64(y).U32((uint)layout.Count).AddBytes<int>(layout.Packed));
    }

    /// <summary>y = cond ? a : b over shape (cond is bool), as IBackend.Select.</summary>
    /// <exception cref="ArgumentException">More than 8 dimensions remain after collapsing.</exception>
    public static void Select(IKernelLauncher k, DType dtype, ulong cond, long condOffset, ReadOnlySpan<int> condStrides,
        ulong a, long aOffset, ReadOnlySpan<int> aStrides, ulong b, long bOffset, ReadOnlySpan<int> bStrides,
        ulong y, ReadOnlySpan<int> shape)
    {
        var layout = StridedLayout.Collapse(shape, condStrides, aStrides, bStrides, operands: 3);
        if (layout.Count == 0) return;
        var width = dtype.SizeOf();
        var entry = $"select_w{width}_r{layout.Rank}";
        Launch(k, entry, () => ElementwisePtx.Select(entry, width, layout.Rank), layout.Count,
            new KernelArgs().U64(At(cond, condOffset, 1)).U64(At(a, aOffset, width)).U64(At(b, bOffset, width)).U64(y)
                .U32((uint)layout.Count).AddBytes<int>(layout.Packed));
    }

    /// <summary>
    /// variable ← value / variable + value / variable − value over n elements, skipped on the device when
    /// abortFlags (0 = none) holds a failure (any nonzero even-indexed entry of its flagCount int64 entries), as IBackend.Assign.
    /// </summary>
    /// <remarks>Any op whose result has the variable's dtype is accepted, as HostBackend.Assign runs Binary in place.</remarks>
    /// <exception cref="NotSupportedException">op is Pow, a comparison, or not defined for dtype.</exception>
    public static void Assign(IKernelLauncher k, BinaryOp? op, DType dtype, ulong variable, ulong value, long n, ulong abortFlags, int flagCount)
    {
        if (op is { } o && ElementwisePtx.BinaryResult(o, dtype) != dtype)
            throw new NotSupportedException($"Assign with {o} is not defined for {dtype.Name()} (the result must have the variable's dtype)");
        if (flagCount < 0) throw new ArgumentOutOfRangeException(nameof(flagCount), flagCount, "the abort-flag count is not negative");
        var count = Count(n);
        if (count == 0) return;
        var entry = op is { } p ? $"assign_{Name(p)}_{Suffix(dtype)}" : $"assign_set_w{dtype.SizeOf()}";
        var kernelDType = op is null ? RawDType(dtype.SizeOf()) : dtype;
        Launch(k, entry, () => ElementwisePtx.Assign(entry, op, kernelDType), count,
            new KernelArgs().U64(variable).U64(value).U32(count).U64(abortFlags).U32((uint)flagCount));
    }

    /// <summary>dst[i] = src[i] for count contiguous elements of width bytes (the rank-1 copy kernel).</summary>
    private static void CopyContiguous(IKernelLauncher k, int width, ulong src, ulong dst, uint count)
    {
        var entry = $"copy_w{width}_r1";
        Launch(k, entry, () => ElementwisePtx.Copy(entry, width, 1), count,
            new KernelArgs().U64(src).U64(dst).U32(count).AddBytes<int>([(int)count, 1, 1]));
    }

    private static void Launch(IKernelLauncher k, string entry, Func<string> ptx, long count, KernelArgs args) =>
        k.Launch(k.Function(KeyPrefix + entry, ptx, entry), LaunchShape.Grid(count), LaunchShape.Block, 0, args);

    /// <summary>n as the kernels' 32-bit count.</summary>
    private static uint Count(long n) => n is >= 0 and <= int.MaxValue
        ? (uint)n
        : throw new ArgumentOutOfRangeException(nameof(n), n, "element count must be 0 to int.MaxValue (the element-wise kernels index in 32 bits)");

    /// <summary>The device address of element <paramref name="offset"/> of a buffer of width-byte elements.</summary>
    private static ulong At(ulong address, long offset, int width) => unchecked(address + (ulong)(offset * width));

    /// <summary>The dtype whose elements have the given width: the copy-only kernels move raw bits.</summary>
    private static DType RawDType(int width) => width switch { 1 => DType.Bool, 4 => DType.Int32, _ => DType.Int64 };

    private static string Suffix(DType t) => t switch
    {
        DType.Float32 => "f32",
        DType.Float64 => "f64",
        DType.Int32 => "i32",
        DType.Int64 => "i64",
        _ => "bool",
    };

    private static string Name(BinaryOp op) => op.ToString().ToLowerInvariant();
}
