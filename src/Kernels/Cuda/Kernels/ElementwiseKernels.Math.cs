// UNVERIFIED on hardware: the generated kernels ran on the tests' PTX emulator (CudaMathKernelTests), not yet on a GPU.
using Nabla.Kernels.Cuda.Ptx;

namespace Nabla.Kernels.Cuda;

/// <summary>The element-wise kernels that need the PTX math library (PtxMath): unary functions, pow, and fused programs.</summary>
internal static partial class ElementwiseKernels
{
    /// <summary>y = op(x) over n contiguous elements, as IBackend.Unary.</summary>
    /// <remarks>One generated module per (op, dtype), entry <c>{ptx}_{dtype}</c> (e.g. <c>exp_float32</c>): a grid-stride loop
    /// around the PtxMath snippet. Integers take Neg/Abs/Sign/Square, bool takes LogicalNot, floats every function but LogicalNot.</remarks>
    /// <exception cref="NotSupportedException">op is not defined for dtype (as HostBackend.Unary).</exception>
    public static void Unary(IKernelLauncher k, UnaryOp op, DType dtype, ulong x, ulong y, long n)
    {
        var supported = dtype switch
        {
            DType.Float32 or DType.Float64 => op != UnaryOp.LogicalNot,
            DType.Int32 or DType.Int64 => op is UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Sign or UnaryOp.Square,
            _ => op == UnaryOp.LogicalNot,
        };
        if (!supported) throw new NotSupportedException($"Unary {op} is not defined for {dtype.Name()}");
        if (n == 0) return;
        var entry = $"{UnaryFunctions.Ptx(op)}_{dtype.Name()}";
        var function = k.Function("unary_" + entry, () => UnaryModule(op, dtype, entry), entry);
        k.Launch(function, LaunchShape.Grid(n), LaunchShape.Block, 0, new KernelArgs().U64(x).U64(y).U64((ulong)n));
    }

    /// <summary>The PTX of the unary kernel <paramref name="entry"/>: y[i] = op(x[i]) for i &lt; n.</summary>
    internal static string UnaryModule(UnaryOp op, DType dtype, string entry)
    {
        var w = new PtxWriter($"{entry}(x, y, n): y[i] = {op}(x[i]) over n {dtype.Name()} elements, grid-stride loop");
        var e = w.Entry(entry);
        var x = e.Pointer("x");
        var y = e.Pointer("y");
        var n = e.Param("u64", "n");
        e.GridStride(n, i =>
        {
            var v = e.Load(dtype, x, i);
            var r = dtype switch
            {
                DType.Float32 or DType.Float64 => PtxMath.Unary(e, op, v),
                DType.Bool => PtxMath.LogicalNot(e, v),
                _ => PtxMath.Integer(e, op, v),
            };
            e.Store(dtype, y, i, r);
        });
        e.End();
        return w.ToString();
    }

    /// <summary>y = a^b over shape with broadcasting strides (float32/float64, and int32/int64 as IBackend.Binary defines Pow), called by <see cref="Binary"/>.</summary>
    /// <remarks>Integer Pow is not defined (HostBackend throws too). The shape is collapsed on the host (<see cref="StridedLayout.Collapse"/>);
    /// one module per (dtype, collapsed rank) reads shape and strides from parameters.</remarks>
    /// <exception cref="NotSupportedException">dtype is not float32 or float64.</exception>
    public static void BinaryPow(IKernelLauncher k, DType dtype, ulong a, long aOffset, ReadOnlySpan<int> aStrides,
        ulong b, long bOffset, ReadOnlySpan<int> bStrides, ulong y, ReadOnlySpan<int> shape)
    {
        if (!dtype.IsFloating()) throw new NotSupportedException($"Pow is not defined for {dtype.Name()}");
        var layout = StridedLayout.Collapse(shape, aStrides, bStrides, operands: 2);
        var n = layout.Count;
        if (n == 0) return;
        var rank = layout.Rank;
        // The module reads shape and strides as s64: widen the packed int32 [shape, aStrides, bStrides].
        var packed = Array.ConvertAll(layout.Packed, v => (long)v);
        var entry = $"pow_{dtype.Name()}_rank{rank}";
        var function = k.Function(entry, () => PowModule(dtype, rank, entry), entry);
        var args = new KernelArgs().U64(a).S64(aOffset).U64(b).S64(bOffset).U64(y).U64((ulong)n)
            .AddBytes<long>(packed.AsSpan(0, rank)).AddBytes<long>(packed.AsSpan(rank, rank)).AddBytes<long>(packed.AsSpan(2 * rank, rank));
        k.Launch(function, LaunchShape.Grid(n), LaunchShape.Block, 0, args);
    }

    /// <summary>
    /// The PTX of <c>pow_{dtype}_rank{r}(a, aOffset, b, bOffset, y, n, shape[r], aStrides[r], bStrides[r])</c>:
    /// y[i] = pow(a[aOffset + Σ idx·aStrides], b[bOffset + Σ idx·bStrides]) for the flat index i &lt; n over shape.
    /// </summary>
    internal static string PowModule(DType dtype, int rank, string entry)
    {
        var w = new PtxWriter($"{entry}: y[i] = pow(a[...], b[...]) over a broadcast shape of rank {rank}, {dtype.Name()}");
        var e = w.Entry(entry);
        var a = e.Pointer("a");
        var aOffset = e.Param("s64", "a_offset");
        var b = e.Pointer("b");
        var bOffset = e.Param("s64", "b_offset");
        var y = e.Pointer("y");
        var n = e.Param("u64", "n");
        var shape = e.ParamBytes("shape", 8 * rank);
        var aStrides = e.ParamBytes("a_strides", 8 * rank);
        var bStrides = e.ParamBytes("b_strides", 8 * rank);
        e.GridStride(n, i =>
        {
            var ai = e.StridedOffset(i, rank, shape, aStrides);
            e.Op($"add.s64 {ai}, {ai}, {aOffset}");
            var bi = e.StridedOffset(i, rank, shape, bStrides);
            e.Op($"add.s64 {bi}, {bi}, {bOffset}");
            var r = PtxMath.Pow(e, e.Load(dtype, a, ai), e.Load(dtype, b, bi));
            e.Store(dtype, y, i, r);
        });
        e.End();
        return w.ToString();
    }

    /// <summary>Runs a fused element-wise program (one generated PTX kernel per program), as IBackend.Fused.</summary>
    /// <remarks>
    /// <paramref name="inputs"/> and <paramref name="outputs"/> are the device addresses of element 0 of each buffer (the
    /// program's strides are relative to it); <paramref name="counters"/> holds one Philox run counter per random stream.
    /// Programs with equal canonical text (<see cref="FusedPtx.Key"/>) share one module.
    /// </remarks>
    /// <exception cref="ArgumentException">The numbers of inputs, outputs or counters differ from the program's.</exception>
    public static void Fused(IKernelLauncher k, FusedProgram program, ReadOnlySpan<ulong> inputs, ReadOnlySpan<ulong> outputs, ReadOnlySpan<ulong> counters)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (inputs.Length != program.Inputs.Length || outputs.Length != program.Outputs.Length || counters.Length < program.Counters)
            throw new ArgumentException($"fused program needs {program.Inputs.Length} inputs, {program.Outputs.Length} outputs and {program.Counters} counters; got {inputs.Length}, {outputs.Length} and {counters.Length}");
        if (program.Length == 0) return;
        var key = FusedPtx.Key(program);
        var function = k.Function(key, () => FusedPtx.Module(program, key), FusedPtx.Entry);
        var args = new KernelArgs();
        foreach (var input in inputs) args.U64(input);
        foreach (var output in outputs) args.U64(output);
        for (var c = 0; c < program.Counters; c++) args.U64(counters[c]);
        args.U64((ulong)program.Length);
        k.Launch(function, LaunchShape.Grid(program.Length), LaunchShape.Block, 0, args);
    }
}
