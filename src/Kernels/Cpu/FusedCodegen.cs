using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Generated code for a float32 <see cref="FusedProgram"/> (issue 10's second variant): the program is compiled once
/// (cached on the program), with System.Linq.Expressions, into a <see cref="FusedKernel"/> that walks a block one
/// Vector512 at a time, loads each input, keeps every intermediate in a local (a register) and stores the live outputs,
/// without the interpreter's per-instruction block buffers. The interpreter still lays out what the kernel reads at the
/// start of each block (broadcast and strided inputs, bool inputs as 0/1, the uniform draws), so blocks, their
/// boundaries, the split across cores and the random stream are the same for both variants.
/// </summary>
/// <remarks>
/// Every operation in registers is the interpreter's per vector (<see cref="FusedLanes"/>): IEEE arithmetic, the same
/// comparisons, selects, maximum and minimum, and the register forms of neg, abs, square, sqrt, 1/x, 1/√x and relu.
/// A function without such a form (exp, tanh, erf, …) runs as in the interpreter, the backend's span kernel over the
/// whole block (see <see cref="Builder"/>), so results are bit-identical to the interpreter's. The last, partial vector
/// of a block is zero-padded in registers: nothing outside the block is read or written. Not compiled (the interpreter
/// runs): float64 programs, no AVX-512, no dynamic code (NativeAOT).
/// </remarks>
internal static class FusedCodegen
{
    private static readonly Type V = typeof(Vector512<float>);

    private static MethodInfo Lane(string name) =>
        typeof(FusedLanes).GetMethod(name, BindingFlags.Public | BindingFlags.Static) ?? throw new MissingMethodException(nameof(FusedLanes), name);

    /// <summary>Unary functions computed in registers; the others run the backend's span kernel over the block.</summary>
    private static bool InRegisters(UnaryOp op) =>
        op is UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Square or UnaryOp.Sqrt or UnaryOp.Reciprocal or UnaryOp.Rsqrt or UnaryOp.Relu;

    /// <summary>The kernel of <paramref name="p"/>, or null where the interpreter must run it.</summary>
    public static FusedKernel? Compile(FusedProgram p)
    {
        if (p.Compute != DType.Float32 || !Vector512.IsHardwareAccelerated || !RuntimeFeature.IsDynamicCodeSupported) return null;
        return new Builder(p).Build();
    }

    /// <summary>
    /// Builds one kernel: a sequence of vector loops over the block, split where a unary function has no
    /// register form. Such a function runs as the interpreter runs it, the backend's span kernel over the whole
    /// block (so it takes the same code path for every element, the short tail included), from its operand's
    /// register in memory to its own; the loop before it stores the operand there, and the loops after it load
    /// the result. Values a later loop needs that are not in memory are recomputed (the same operations, the same bits).
    /// </summary>
    private sealed class Builder(FusedProgram p)
    {
        private readonly ParameterExpression _backend = Expression.Parameter(typeof(HostBackend), "backend");
        private readonly ParameterExpression _registers = Expression.Parameter(typeof(float[][]), "registers");
        private readonly ParameterExpression _offsets = Expression.Parameter(typeof(int[]), "offsets");
        private readonly ParameterExpression _outputs = Expression.Parameter(typeof(Array[]), "outputs");
        private readonly ParameterExpression _outputOffsets = Expression.Parameter(typeof(int[]), "outputOffsets");
        private readonly ParameterExpression _length = Expression.Parameter(typeof(int), "length");
        private readonly List<ParameterExpression> _locals = [];
        private readonly List<Expression> _body = [];
        private readonly int _nIn = p.Inputs.Length;
        // Per register: a vector fixed for the whole block (constants, scalar inputs), or its array and offset when in memory.
        private readonly ParameterExpression?[] _fixed = new ParameterExpression?[p.Inputs.Length + p.Code.Length];
        private readonly ParameterExpression?[] _array = new ParameterExpression?[p.Inputs.Length + p.Code.Length];
        private readonly ParameterExpression?[] _offset = new ParameterExpression?[p.Inputs.Length + p.Code.Length];
        // Whether register r holds its values in memory for the loops built from now on.
        private readonly bool[] _stored = new bool[p.Inputs.Length + p.Code.Length];
        private readonly int[] _uses = Uses(p);

        /// <summary>How many operands and outputs read each register.</summary>
        private static int[] Uses(FusedProgram p)
        {
            var uses = new int[p.Inputs.Length + p.Code.Length];
            foreach (var c in p.Code)
                if (c.Code is not (FusedCode.RandomUniform or FusedCode.Constant))
                    foreach (var r in new[] { c.A, c.B, c.C })
                        if (r >= 0) uses[r]++;
            foreach (var (r, _) in p.Outputs) uses[r]++;
            return uses;
        }

        public FusedKernel Build()
        {
            for (var r = 0; r < _nIn; r++)
            {
                if (p.Inputs[r].Access == FusedAccess.Scalar) _fixed[r] = Local(typeof(float), Expression.ArrayIndex(Expression.ArrayIndex(_registers, Expression.Constant(r)), Expression.ArrayIndex(_offsets, Expression.Constant(r))));
                else
                {
                    InMemory(r);
                    _stored[r] = true;
                }
            }
            for (var k = 0; k < p.Code.Length; k++)
            {
                var c = p.Code[k];
                var r = _nIn + k;
                if (c.Code == FusedCode.Constant) _fixed[r] = Local(typeof(float), Expression.Constant((float)c.Value));
                else if (c.Code == FusedCode.RandomUniform)
                {
                    InMemory(r);
                    _stored[r] = true;
                }
                else if (c.Code == FusedCode.Unary && !InRegisters(c.Unary))
                {
                    if (!_stored[c.A] && _fixed[c.A] is null)
                    {
                        InMemory(c.A);
                        _body.Add(Loop(i => [Store(_array[c.A]!, _offset[c.A]!, i, Value(c.A))]));
                        _stored[c.A] = true;
                    }
                    var x = _fixed[c.A] is { } f ? InMemoryFixed(c.A, f) : (_array[c.A]!, _offset[c.A]!);
                    InMemory(r);
                    _stored[r] = true;
                    _body.Add(Call(nameof(FusedLanes.UnaryBlock), _backend, Expression.Constant(c.Unary), x.Item1, x.Item2, _array[r]!, _offset[r]!, _length));
                }
            }
            var outArray = new ParameterExpression[p.Outputs.Length];
            var outOffset = new ParameterExpression[p.Outputs.Length];
            for (var o = 0; o < p.Outputs.Length; o++)
            {
                var type = p.Outputs[o].DType == DType.Bool ? typeof(bool[]) : typeof(float[]);
                outArray[o] = Local(type, Expression.Convert(Expression.ArrayIndex(_outputs, Expression.Constant(o)), type));
                outOffset[o] = Local(typeof(int), Expression.ArrayIndex(_outputOffsets, Expression.Constant(o)));
            }
            _body.Add(Loop(i =>
            {
                var stores = new List<Expression>();
                for (var o = 0; o < p.Outputs.Length; o++)
                {
                    var (r, dtype) = p.Outputs[o];
                    // A uniform draw that is an output was drawn straight into it.
                    if (r >= _nIn && p.Code[r - _nIn].Code == FusedCode.RandomUniform && p.DirectOutput(r) == o) continue;
                    stores.Add(dtype == DType.Bool
                        ? Call(nameof(FusedLanes.StoreBool), outArray[o], Expression.Add(outOffset[o], i.Index), i.Count ?? Expression.Constant(FusedLanes.Count), Value(r))
                        : Store(outArray[o], outOffset[o], i, Value(r)));
                }
                return stores;
            }));
            return Expression.Lambda<FusedKernel>(Expression.Block(_locals, _body), _backend, _registers, _offsets, _outputs, _outputOffsets, _length).Compile();
        }

        private ParameterExpression Local(Type t, Expression init)
        {
            var v = Expression.Variable(t);
            _locals.Add(v);
            _body.Add(Expression.Assign(v, init));
            return v;
        }

        /// <summary>Register r is read from (and, computed, written to) its array at the block's offset.</summary>
        private void InMemory(int r)
        {
            if (_array[r] is not null) return;
            _array[r] = Local(typeof(float[]), Expression.ArrayIndex(_registers, Expression.Constant(r)));
            _offset[r] = Local(typeof(int), Expression.ArrayIndex(_offsets, Expression.Constant(r)));
        }

        /// <summary>A fixed value as a block in memory (a constant operand of a span kernel): its register's scratch filled once.</summary>
        private (Expression, Expression) InMemoryFixed(int r, ParameterExpression value)
        {
            var array = Expression.ArrayIndex(_registers, Expression.Constant(r));
            var offset = Expression.ArrayIndex(_offsets, Expression.Constant(r));
            _body.Add(Call(nameof(FusedLanes.Fill), array, offset, _length, value));
            return (array, offset);
        }

        /// <summary>The current vector of a loop: its first element, and the lane count of the last, partial one (null: all 16).</summary>
        private sealed record Cursor(ParameterExpression Index, Expression? Count);

        private Dictionary<int, Expression>? _values;
        private List<ParameterExpression>? _vars;
        private List<Expression>? _steps;
        private Cursor? _cursor;

        /// <summary>A loop over the block, one vector at a time, and the partial last vector; <paramref name="body"/> gives its stores.</summary>
        private Expression Loop(Func<Cursor, List<Expression>> body)
        {
            var index = Expression.Variable(typeof(int), "i");
            var done = Expression.Label("done");
            var width = Expression.Constant(FusedLanes.Count);
            Expression Step(Expression? count)
            {
                (_values, _vars, _steps, _cursor) = ([], [], [], new Cursor(index, count));
                var stores = body(_cursor);
                _steps.AddRange(stores);
                _steps.Add(Expression.Empty());
                if (count is null) return Expression.Block(_vars, _steps);
                // The partial vector's locals receive the non-inlined LoadPartial's results by address. Declared in the
                // lambda's scope, the compiler cannot reuse their IL locals for the full vectors' values, which would then
                // live in memory too (every full vector stored to the stack and reloaded).
                _locals.AddRange(_vars);
                return Expression.Block(_steps);
            }
            return Expression.Block([index],
                Expression.Assign(index, Expression.Constant(0)),
                Expression.Loop(
                    Expression.IfThenElse(Expression.LessThanOrEqual(Expression.Add(index, width), _length),
                        Expression.Block(Step(null), Expression.AddAssign(index, width)),
                        Expression.Break(done)),
                    done),
                Expression.IfThen(Expression.LessThan(index, _length), Step(Expression.Subtract(_length, index))));
        }

        private Expression Store(Expression array, Expression offset, Cursor i, Expression value) =>
            i.Count is null ? Call(nameof(FusedLanes.Store), array, Expression.Add(offset, i.Index), value)
            : Call(nameof(FusedLanes.StorePartial), array, Expression.Add(offset, i.Index), i.Count, value);

        /// <summary>Register r's vector at the loop's cursor: fixed, loaded, or computed (once per step).</summary>
        private Expression Value(int r)
        {
            // Fixed values are kept as floats and broadcast at each use, and a value used once is not given a local:
            // vector locals live across the loop's back edge were spilled to the stack and reloaded on every iteration.
            if (_fixed[r] is { } f) return Call(nameof(FusedLanes.Broadcast), f);
            if (_values!.TryGetValue(r, out var known)) return known;
            var i = _cursor!;
            Expression e;
            if (_stored[r] && _array[r] is { } a)
            {
                var at = Expression.Add(_offset[r]!, i.Index);
                e = i.Count is null ? Call(nameof(FusedLanes.Load), a, at) : Call(nameof(FusedLanes.LoadPartial), a, at, i.Count);
            }
            else e = Instruction(p.Code[r - _nIn], Value);
            if (_uses[r] <= 1) return e;
            var v = Expression.Variable(V);
            _vars!.Add(v);
            _steps!.Add(Expression.Assign(v, e));
            _values[r] = v;
            return v;
        }

        private static Expression Call(string name, params Expression[] args) => Expression.Call(Lane(name), args);
    }

    /// <summary>One instruction on vectors, as the interpreter's block call computes it per vector.</summary>
    private static Expression Instruction(FusedInstruction c, Func<int, Expression> value)
    {
        Expression Call(string name, params Expression[] args) => Expression.Call(Lane(name), args);
        var a = value(c.A);
        var b = c.B >= 0 ? value(c.B) : null!;
        switch (c.Code)
        {
            case FusedCode.Unary:
                return Call(c.Unary.ToString(), a);
            case FusedCode.Binary:
                return c.Binary switch
                {
                    BinaryOp.Add => Call(nameof(FusedLanes.Add), a, b),
                    BinaryOp.Sub => Call(nameof(FusedLanes.Sub), a, b),
                    // On 0/1 values logical and is a product and logical or a maximum (as the interpreter).
                    BinaryOp.Mul or BinaryOp.LogicalAnd => Call(nameof(FusedLanes.Mul), a, b),
                    BinaryOp.Div => Call(nameof(FusedLanes.Div), a, b),
                    BinaryOp.Maximum or BinaryOp.LogicalOr => Call(nameof(FusedLanes.Max), a, b),
                    BinaryOp.Minimum => Call(nameof(FusedLanes.Min), a, b),
                    BinaryOp.Pow => Call(nameof(FusedLanes.Pow), a, b),
                    BinaryOp.Equal => Call(nameof(FusedLanes.Equal), a, b),
                    BinaryOp.NotEqual or BinaryOp.LogicalXor => Call(nameof(FusedLanes.NotEqual), a, b),
                    BinaryOp.Less => Call(nameof(FusedLanes.Less), a, b),
                    BinaryOp.LessEqual => Call(nameof(FusedLanes.LessEqual), a, b),
                    BinaryOp.Greater => Call(nameof(FusedLanes.Less), b, a),
                    BinaryOp.GreaterEqual => Call(nameof(FusedLanes.LessEqual), b, a),
                    _ => throw new NotSupportedException($"fused binary {c.Binary}"),
                };
            case FusedCode.Select: return Call(nameof(FusedLanes.Select), a, b, value(c.C));
            case FusedCode.NotZero: return Call(nameof(FusedLanes.NotZero), a);
            case FusedCode.LogicalNot: return Call(nameof(FusedLanes.LogicalNot), a);
            default: throw new NotSupportedException($"fused instruction {c.Code}");
        }
    }
}
