using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Nabla.Kernels;

/// <summary>
/// The interpreter of fused element-wise programs (<see cref="FusedProgram"/>): the flat index space is
/// cut into blocks of <see cref="Block"/> elements; per block every input is resolved to a span (the
/// buffer itself when it is contiguous, else a broadcast copy in scratch), every instruction runs as one
/// vectorised call over the block, and the live outputs are written once. Dispatch costs one switch per
/// instruction per block; the registers of a block stay in L1/L2. Large tensors are split across cores in
/// the same fixed chunks the unfused unary kernels use, so the result does not depend on scheduling.
/// </summary>
public abstract partial class HostBackend
{
    /// <summary>Elements per block at most: 8 KiB of float32 per register (each program's <see cref="FusedProgram.BlockSize"/>).</summary>
    private const int Block = FusedProgram.MaxBlock;

    /// <summary>A block never leaves a tail shorter than this: the last block absorbs it, so short-tail code paths of the vector kernels run on the same elements as unfused.</summary>
    private const int MinTail = 64;

    /// <summary>Blocks per parallel task (32768 elements at the largest block); tensors of two chunks or more use every core (as <see cref="Cpu.CpuUnary"/>).</summary>
    private const int BlocksPerChunk = 16;

    /// <summary>
    /// Blocks per parallel task of a program that draws random numbers: a Philox 4x32-10 draw costs ~0.7 ns per element
    /// on one Zen 4 core, ten times a bias + ReLU, so W2's [128, 128] dropout tree (8 blocks, ~12 µs) is worth splitting
    /// across cores, where a cheap tree of that size is not.
    /// </summary>
    private const int RandomBlocksPerChunk = 4;

    /// <summary>Elements per parallel task of <paramref name="p"/>: the chunks are fixed by the program, so results do not depend on scheduling.</summary>
    private static long ChunkElements(FusedProgram p) =>
        (long)(p.DrawsRandom ? RandomBlocksPerChunk : BlocksPerChunk) * p.BlockSize;

    /// <inheritdoc/>
    public bool SupportsFusion => true;

    /// <inheritdoc/>
    public void Fused(FusedProgram program, ReadOnlySpan<DeviceBuffer> inputs, ReadOnlySpan<DeviceBuffer> outputs, ReadOnlySpan<ulong> counters)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (inputs.Length != program.Inputs.Length || outputs.Length != program.Outputs.Length || counters.Length < program.Counters)
            throw new ArgumentException($"fused program needs {program.Inputs.Length} inputs, {program.Outputs.Length} outputs and {program.Counters} counters; got {inputs.Length}, {outputs.Length} and {counters.Length}");
        var n = program.Length;
        if (n == 0) return;
        foreach (var o in outputs)
            if (o.Length != n) throw new ArgumentException($"a fused output holds {o.Length} elements, the program {n}");
        if (program.Compute == DType.Float32) Launch<float>(program, inputs, outputs, counters);
        else Launch<double>(program, inputs, outputs, counters);
    }

    /// <inheritdoc/>
    public virtual bool ArmOutputEpilogue(FusedProgram program, DeviceBuffer[] inputs, DeviceBuffer[] outputs, ulong[] counters) => false;

    /// <inheritdoc/>
    public virtual bool DisarmOutputEpilogue() => false;

    /// <summary>
    /// Whether element <paramref name="i"/> starts a block (or ends the last) when <see cref="Fused"/> runs <paramref name="p"/>
    /// (of n elements): multiples of its <see cref="FusedProgram.BlockSize"/>, except that a range's last block absorbs a tail
    /// shorter than <see cref="MinTail"/> (one range below two parallel chunks, else one range per chunk). An
    /// <see cref="OutputEpilogue"/> runs exactly these blocks, so every element takes the code path it takes unfused.
    /// </summary>
    internal static bool IsFusedBlockBoundary(FusedProgram p, long i)
    {
        long n = p.Length, block = p.BlockSize, chunk = ChunkElements(p);
        return i == 0 || i == n || (i % block == 0 && i < n && (n - i >= MinTail || (n >= 2 * chunk && i % chunk == 0)));
    }

    /// <summary>Runs a float32 or float64 program on elements [lo, hi) only (an <see cref="OutputEpilogue"/>'s blocks).</summary>
    internal void FusedRange(FusedProgram program, DeviceBuffer[] inputs, DeviceBuffer[] outputs, ulong[] counters, int lo, int hi)
    {
        if (program.Compute == DType.Float32) RunRange<float>(program, inputs, outputs, counters, lo, hi);
        else RunRange<double>(program, inputs, outputs, counters, lo, hi);
    }

    private void Launch<T>(FusedProgram p, ReadOnlySpan<DeviceBuffer> inputs, ReadOnlySpan<DeviceBuffer> outputs, ReadOnlySpan<ulong> counters)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = p.Length;
        var chunkElements = (int)ChunkElements(p);
        // Below two chunks one thread does it all, without allocating; above, the tasks need arrays.
        if (n < 2 * chunkElements) { RunRange<T>(p, inputs, outputs, counters, 0, n); return; }
        DeviceBuffer[] ins = inputs.ToArray(), outs = outputs.ToArray();
        var c = counters.ToArray();
        KernelThreads.For(0, (n + chunkElements - 1) / chunkElements, chunk =>
        {
            var lo = chunk * chunkElements;
            RunRange<T>(p, ins, outs, c, lo, Math.Min(n, lo + chunkElements));
        });
    }

    /// <summary>Per-thread scratch: one block per register, reused by every launch on the thread.</summary>
    private static class Scratch<T>
    {
        [ThreadStatic] private static T[]? _buffer;
        [ThreadStatic] private static T[]?[]? _arrays;
        [ThreadStatic] private static int[]? _offsets;
        [ThreadStatic] private static Array[]? _outputs;
        [ThreadStatic] private static int[]? _outputOffsets;

        public static (T[] Buffer, T[]?[] Arrays, int[] Offsets) Get(int registers)
        {
            var need = registers * (Block + MinTail);
            if (_buffer is null || _buffer.Length < need) _buffer = new T[need];
            if (_arrays is null || _arrays.Length < registers) { _arrays = new T[registers][]; _offsets = new int[registers]; }
            return (_buffer, _arrays, _offsets!);
        }

        /// <summary>Where a compiled kernel writes each output.</summary>
        public static (Array[] Outputs, int[] Offsets) Outputs(int outputs)
        {
            if (_outputs is null || _outputs.Length < outputs) { _outputs = new Array[outputs]; _outputOffsets = new int[outputs]; }
            return (_outputs, _outputOffsets!);
        }
    }

    /// <summary>The generated kernel of a float32 program, or null to interpret it (the CPU backend's <c>FusedCodegen</c>).</summary>
    private protected virtual FusedKernel? CompiledKernel(FusedProgram program) => null;

    /// <summary>A float32 unary function over a span, as a block of the interpreter computes it (for generated kernels).</summary>
    internal void FusedUnary(UnaryOp op, ReadOnlySpan<float> x, Span<float> y) => FusedUnaryFloat(op, x, y);

    private void RunRange<T>(FusedProgram p, ReadOnlySpan<DeviceBuffer> ins, ReadOnlySpan<DeviceBuffer> outs, ReadOnlySpan<ulong> counters, int lo, int hi) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var nIn = p.Inputs.Length;
        var registers = nIn + p.Code.Length;
        var (scratch, arrays, offsets) = Scratch<T>.Get(registers);
        const int stride = Block + MinTail;
        var kernel = typeof(T) == typeof(float) ? CompiledKernel(p) : null;
        // Inputs that look the same in every block (scalars, and rows whose length divides the block) are
        // broadcast into their register once per range, not once per block.
        Span<bool> invariant = stackalloc bool[nIn];
        for (var j = 0; j < nIn; j++)
        {
            var input = p.Inputs[j];
            invariant[j] = input.Access == FusedAccess.Scalar || (input.Access == FusedAccess.Periodic && p.BlockSize % input.Period == 0 && lo % input.Period == 0);
            if (!invariant[j]) continue;
            arrays[j] = scratch;
            offsets[j] = j * stride;
            LoadInput(p, j, Storage(ins[j]), lo, scratch.AsSpan(j * stride, Math.Min(stride, hi - lo)));
        }
        for (var s = lo; s < hi;)
        {
            var len = hi - s - p.BlockSize < MinTail ? hi - s : p.BlockSize;
            for (var j = 0; j < nIn; j++)
            {
                if (invariant[j]) continue;
                var input = p.Inputs[j];
                var buffer = Storage(ins[j]);
                if (input.DType == p.Compute && input.Access == FusedAccess.Contiguous)
                {
                    arrays[j] = (T[])buffer.Storage;
                    offsets[j] = buffer.Offset + s;
                    continue;
                }
                arrays[j] = scratch;
                offsets[j] = j * stride;
                LoadInput(p, j, buffer, s, scratch.AsSpan(j * stride, len));
            }
            if (kernel is not null)
            {
                RunKernel(kernel, p, outs, counters, (float[])(object)scratch, (float[]?[])(object)arrays, offsets, s, len);
                s += len;
                continue;
            }
            for (var k = 0; k < p.Code.Length; k++)
            {
                var r = nIn + k;
                var direct = p.DirectOutput(r);
                if (direct >= 0) { var d = Storage(outs[direct]); arrays[r] = (T[])d.Storage; offsets[r] = d.Offset + s; }
                else { arrays[r] = scratch; offsets[r] = r * stride; }
                var y = arrays[r].AsSpan(offsets[r], len);
                var ins_ = p.Code[k];
                switch (ins_.Code)
                {
                    case FusedCode.Unary: UnaryBlock(ins_.Unary, Reg(ins_.A), y); break;
                    case FusedCode.Binary: BinaryBlock(ins_.Binary, Reg(ins_.A), Reg(ins_.B), y); break;
                    case FusedCode.Select: SelectBlock(Reg(ins_.A), Reg(ins_.B), Reg(ins_.C), y); break;
                    case FusedCode.NotZero: NotZeroBlock(Reg(ins_.A), y); break;
                    case FusedCode.LogicalNot: TensorPrimitives.Subtract(T.One, Reg(ins_.A), y); break;
                    case FusedCode.Constant: y.Fill(T.CreateTruncating(ins_.Value)); break;
                    case FusedCode.RandomUniform: UniformBlock(ins_.Key, counters[ins_.A], ins_.Lo, ins_.Hi, s, y); break;
                    default: throw new NotSupportedException($"fused instruction {ins_.Code}");
                }
            }
            for (var o = 0; o < p.Outputs.Length; o++)
            {
                var (r, dtype) = p.Outputs[o];
                if (r >= nIn && p.DirectOutput(r) == o) continue;
                var x = Reg(r);
                if (dtype == DType.Bool)
                {
                    var b = Storage(outs[o]).Span<bool>().Slice(s, len);
                    for (var i = 0; i < len; i++) b[i] = x[i] != T.Zero;
                }
                else x.CopyTo(Storage(outs[o]).Span<T>().Slice(s, len));
            }
            s += len;

            ReadOnlySpan<T> Reg(int register) => arrays[register].AsSpan(offsets[register], len);
        }
    }

    /// <summary>One block by a generated kernel: the uniform draws first (into their output, or scratch), then the kernel.</summary>
    private void RunKernel(FusedKernel kernel, FusedProgram p, ReadOnlySpan<DeviceBuffer> outs, ReadOnlySpan<ulong> counters, float[] scratch, float[]?[] arrays, int[] offsets, int s, int len)
    {
        const int stride = Block + MinTail;
        var nIn = p.Inputs.Length;
        for (var k = 0; k < p.Code.Length; k++)
        {
            // Every result has a block of scratch (a kernel stores what a block-wide function reads there); a draw that is an output goes into it.
            var c = p.Code[k];
            var r = nIn + k;
            var direct = c.Code == FusedCode.RandomUniform ? p.DirectOutput(r) : -1;
            if (direct >= 0) { var d = Storage(outs[direct]); arrays[r] = (float[])d.Storage; offsets[r] = d.Offset + s; }
            else { arrays[r] = scratch; offsets[r] = r * stride; }
            if (c.Code == FusedCode.RandomUniform) FusedUniformFloat(c.Key, counters[c.A], c.Lo, c.Hi, s, arrays[r].AsSpan(offsets[r], len));
        }
        var (outputs, outputOffsets) = Scratch<float>.Outputs(p.Outputs.Length);
        for (var o = 0; o < p.Outputs.Length; o++)
        {
            var d = Storage(outs[o]);
            outputs[o] = d.Storage;
            outputOffsets[o] = d.Offset + s;
        }
        kernel(this, arrays!, offsets, outputs, outputOffsets, len);
    }

    private static void LoadInput<T>(FusedProgram p, int j, HostBuffer buffer, int start, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = p.Inputs[j];
        if (input.DType == DType.Bool) LoadBool(buffer.Span<bool>(), input, p.Shape, start, dst);
        else Load(buffer.Span<T>(), input, p.Shape, start, dst);
    }

    /// <summary>Copies elements [start, start + dst.Length) of an input broadcast to <paramref name="shape"/>.</summary>
    private static void Load<T>(ReadOnlySpan<T> src, FusedInput input, int[] shape, int start, Span<T> dst)
    {
        switch (input.Access)
        {
            case FusedAccess.Contiguous: src.Slice(start, dst.Length).CopyTo(dst); break;
            case FusedAccess.Scalar: dst.Fill(src[0]); break;
            case FusedAccess.Periodic:
                {
                    var period = input.Period;
                    var i = 0;
                    var phase = start % period;
                    while (i < dst.Length)
                    {
                        var take = Math.Min(period - phase, dst.Length - i);
                        src.Slice(phase, take).CopyTo(dst.Slice(i, take));
                        i += take;
                        phase = 0;
                    }
                    break;
                }
            default:
                for (var i = 0; i < dst.Length; i++) dst[i] = src[StridedOffset(input.Strides, shape, start + i)];
                break;
        }
    }

    /// <summary>As <see cref="Load{T}"/> for a bool input, as 0 and 1.</summary>
    private static void LoadBool<T>(ReadOnlySpan<bool> src, FusedInput input, int[] shape, int start, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (input.Access)
        {
            case FusedAccess.Contiguous when typeof(T) == typeof(float):
                // .NET stores bool as one byte holding 0 or 1 (as HostConvert's bool → float path).
                TensorPrimitives.ConvertChecked<byte, float>(MemoryMarshal.Cast<bool, byte>(src.Slice(start, dst.Length)), MemoryMarshal.Cast<T, float>(dst));
                break;
            case FusedAccess.Contiguous:
                for (var i = 0; i < dst.Length; i++) dst[i] = src[start + i] ? T.One : T.Zero;
                break;
            case FusedAccess.Scalar: dst.Fill(src[0] ? T.One : T.Zero); break;
            case FusedAccess.Periodic:
                for (var i = 0; i < dst.Length; i++) dst[i] = src[(start + i) % input.Period] ? T.One : T.Zero;
                break;
            default:
                for (var i = 0; i < dst.Length; i++) dst[i] = src[StridedOffset(input.Strides, shape, start + i)] ? T.One : T.Zero;
                break;
        }
    }

    private static int StridedOffset(int[] strides, int[] shape, int flat)
    {
        var offset = 0;
        for (var d = shape.Length - 1; d >= 0 && flat > 0; d--)
        {
            offset += flat % shape[d] * strides[d];
            flat /= shape[d];
        }
        return offset;
    }

    private void UnaryBlock<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) { FusedUnaryFloat(op, MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y)); return; }
        UnaryFunctions.Float64(op, MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y));
    }

    /// <summary>A float32 unary function over one block, as the unfused <see cref="Unary"/> computes it; the CPU backend overrides it with its vector kernels.</summary>
    protected virtual void FusedUnaryFloat(UnaryOp op, ReadOnlySpan<float> x, Span<float> y)
    {
        UnaryFunctions.Float32Scalar(op, x, y);
    }

    private void UniformBlock<T>(ulong key, ulong counter, double a, double b, int start, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) { FusedUniformFloat(key, counter, a, b, start, MemoryMarshal.Cast<T, float>(y)); return; }
        Philox.Uniform(key, counter, a, b, start, MemoryMarshal.Cast<T, double>(y));
    }

    /// <summary>Uniform float32 elements [start, start + y.Length) of the stream, as the unfused <see cref="Random"/> draws them.</summary>
    protected virtual void FusedUniformFloat(ulong key, ulong counter, double a, double b, long start, Span<float> y) =>
        Philox.Uniform(key, counter, a, b, start, y);

    private static void BinaryBlock<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // On 0/1 values logical and is a product and logical or a maximum.
        var arithmetic = op switch { BinaryOp.LogicalAnd => BinaryOp.Mul, BinaryOp.LogicalOr => BinaryOp.Maximum, _ => op };
        if (Arithmetic.Has(arithmetic))
        {
            var block = new SpanArithmetic<T>(a, b, y);
            Arithmetic.Dispatch<T, SpanArithmetic<T>>(arithmetic, ref block);
            return;
        }
        switch (op)
        {
            case BinaryOp.Pow: for (var i = 0; i < y.Length; i++) y[i] = T.Pow(a[i], b[i]); break;
            case BinaryOp.Equal: Compare<T, EqualPredicate<T>>(a, b, y); break;
            case BinaryOp.NotEqual or BinaryOp.LogicalXor: Compare<T, NotEqualPredicate<T>>(a, b, y); break;
            case BinaryOp.Less: Compare<T, LessPredicate<T>>(a, b, y); break;
            case BinaryOp.LessEqual: Compare<T, LessEqualPredicate<T>>(a, b, y); break;
            case BinaryOp.Greater: Compare<T, LessPredicate<T>>(b, a, y); break;
            case BinaryOp.GreaterEqual: Compare<T, LessEqualPredicate<T>>(b, a, y); break;
            default: throw new NotSupportedException($"fused binary {op}");
        }
    }

    /// <summary>One block of an arithmetic instruction: the operator's vectorised span form.</summary>
    private readonly ref struct SpanArithmetic<T> : IArithmeticVisitor<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> _a, _b;
        private readonly Span<T> _y;

        public SpanArithmetic(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
        {
            _a = a;
            _b = b;
            _y = y;
        }

        public void Visit<TOp>() where TOp : IArithmeticOperator<T> => TOp.Invoke(_a, _b, _y);
    }

    /// <summary>y = pred(a, b) ? 1 : 0; the vector form's all-ones mask is ANDed with the bits of 1.</summary>
    private static void Compare<T, TPred>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> where TPred : IVectorPredicate<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
            for (var one = Vector<T>.One; i <= y.Length - Vector<T>.Count; i += Vector<T>.Count)
                (TPred.Invoke(new Vector<T>(a[i..]), new Vector<T>(b[i..])) & one).CopyTo(y[i..]);
        for (; i < y.Length; i++) y[i] = TPred.Invoke(a[i], b[i]) ? T.One : T.Zero;
    }

    private static void SelectBlock<T>(ReadOnlySpan<T> c, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= y.Length - Vector<T>.Count; i += Vector<T>.Count)
                Vector.ConditionalSelect(Vector.Equals(new Vector<T>(c[i..]), Vector<T>.Zero), new Vector<T>(b[i..]), new Vector<T>(a[i..])).CopyTo(y[i..]);
        for (; i < y.Length; i++) y[i] = c[i] != T.Zero ? a[i] : b[i];
    }

    private static void NotZeroBlock<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
            for (var one = Vector<T>.One; i <= y.Length - Vector<T>.Count; i += Vector<T>.Count)
                (~Vector.Equals(new Vector<T>(x[i..]), Vector<T>.Zero) & one).CopyTo(y[i..]);
        for (; i < y.Length; i++) y[i] = x[i] != T.Zero ? T.One : T.Zero;
    }
}
