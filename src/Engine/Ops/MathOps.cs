using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Element-wise arithmetic with NumPy broadcasting, comparisons, logic, selection and casts, plus
/// the run-time-shaped helpers gradients need (SumToShape, BroadcastLike, ZerosLike, OnesLike).
/// Binary ops use the Broadcast shape rule; unary ops use Unchanged.
/// </summary>
internal static class MathOps
{
    public static IEnumerable<OpDef> Defs()
    {
        foreach (var d in UnaryDefs()) yield return d;
        yield return Binary("Add", BinaryOp.Add, Kind.Numeric, g => (g.Grad(0)!.Value, g.Grad(0)!.Value));
        yield return Binary("Sub", BinaryOp.Sub, Kind.Numeric, g => (g.Grad(0)!.Value, g.Graph.Neg(g.Grad(0)!.Value)));
        yield return Binary("Mul", BinaryOp.Mul, Kind.Numeric, g => (g.Grad(0)!.Value * g.Input(1), g.Grad(0)!.Value * g.Input(0)));
        yield return Binary("Div", BinaryOp.Div, Kind.Numeric, g =>
        {
            var dy = g.Grad(0)!.Value;
            var (a, b) = (g.Input(0), g.Input(1));
            return (dy / b, g.Graph.Neg(dy * a / (b * b)));
        });
        yield return Binary("Pow", BinaryOp.Pow, Kind.Floating, g =>
        {
            // d/da aᵇ = b·aᵇ⁻¹;  d/db aᵇ = aᵇ·ln a, taken as 0 where a ≤ 0 (as TensorFlow) so no NaN leaks in.
            var gr = g.Graph;
            var dy = g.Grad(0)!.Value;
            var (a, b) = (g.Input(0), g.Input(1));
            var da = dy * b * gr.Pow(a, b - 1.0);
            var positive = gr.Greater(a, gr.Scalar(0, a.DType));
            var safeLog = gr.Select(positive, gr.Log(gr.Select(positive, a, gr.OnesLike(a))), gr.ZerosLike(a));
            return (da, dy * g.Result(0) * safeLog);
        });
        yield return Binary("Maximum", BinaryOp.Maximum, Kind.Numeric, g =>
        {
            // Ties send the gradient to a, as TensorFlow does.
            var gr = g.Graph;
            var dy = g.Grad(0)!.Value;
            var mask = gr.Cast(gr.GreaterEqual(g.Input(0), g.Input(1)), dy.DType);
            return (dy * mask, dy * (1.0 - mask));
        });
        yield return Binary("Minimum", BinaryOp.Minimum, Kind.Numeric, g =>
        {
            var gr = g.Graph;
            var dy = g.Grad(0)!.Value;
            var mask = gr.Cast(gr.LessEqual(g.Input(0), g.Input(1)), dy.DType);
            return (dy * mask, dy * (1.0 - mask));
        });
        foreach (var (name, op) in new[] { ("Equal", BinaryOp.Equal), ("NotEqual", BinaryOp.NotEqual) })
            yield return Binary(name, op, Kind.Compare, null);
        foreach (var (name, op) in new[] { ("Less", BinaryOp.Less), ("LessEqual", BinaryOp.LessEqual), ("Greater", BinaryOp.Greater), ("GreaterEqual", BinaryOp.GreaterEqual) })
            yield return Binary(name, op, Kind.Order, null);
        foreach (var (name, op) in new[] { ("LogicalAnd", BinaryOp.LogicalAnd), ("LogicalOr", BinaryOp.LogicalOr), ("LogicalXor", BinaryOp.LogicalXor) })
            yield return Binary(name, op, Kind.Logical, null);

        yield return new OpDef
        {
            Type = "Select",
            Infer = ctx =>
            {
                if (ctx.DType(0) != DType.Bool) throw ctx.Fail($"condition must be bool, got {ctx.DType(0).Name()} {ctx.Shape(0)}");
                ctx.RequireSameDType(1, 2);
                var shape = ShapeRules.Broadcast(ctx, ShapeRules.Broadcast(ctx, ctx.Shape(0), ctx.Shape(1)), ctx.Shape(2));
                return InferContext.One(shape, ctx.DType(1));
            },
            Kernel = ctx =>
            {
                var y = ctx.Output(0);
                var s = ctx.OutputShape(0);
                ctx.Backend.Select(ShapeRules.View(ctx.Input(0), ctx.InputShape(0), s), ShapeRules.View(ctx.Input(1), ctx.InputShape(1), s),
                    ShapeRules.View(ctx.Input(2), ctx.InputShape(2), s), y, s.Span);
            },
            Gradient = g =>
            {
                var gr = g.Graph;
                var dy = g.Grad(0)!.Value;
                var zeros = gr.ZerosLike(dy);
                return [null, gr.SumToShape(gr.Select(g.Input(0), dy, zeros), g.Input(1)), gr.SumToShape(gr.Select(g.Input(0), zeros, dy), g.Input(2))];
            },
        };

        yield return new OpDef
        {
            Type = "Cast",
            Infer = ctx =>
            {
                // An undefined enum value would otherwise surface only when a buffer of that dtype is allocated.
                var to = ctx.Attrs.Get<DType>("dtype");
                if (!Enum.IsDefined(to)) throw ctx.Fail($"unknown target dtype {(int)to} (input {ctx.DType(0).Name()} {ctx.Shape(0)})");
                return InferContext.One(ctx.Shape(0), to);
            },
            Prepare = ctx => { if (ctx.InputDType(0) == ctx.OutputDType(0)) ctx.AliasOutput(0, 0); },
            Kernel = ctx =>
            {
                if (ctx.InputDType(0) == ctx.OutputDType(0)) { ctx.AliasInput(0, 0); return; }
                ctx.Backend.Cast(ctx.Input(0), ctx.Output(0));
            },
            // Only float→float casts carry a gradient; integer and bool values are piecewise constant.
            Gradient = g => g.Input(0).DType.IsFloating() && g.Result(0).DType.IsFloating() ? [g.Graph.Cast(g.Grad(0)!.Value, g.Input(0).DType)] : [null],
        };

        yield return new OpDef
        {
            Type = "SumToShape",
            Infer = ctx =>
            {
                // `like` must broadcast to x: equal element counts are not enough ([2,6] is no broadcast of [3,4]).
                // Checked here so it fails at build time, and again with concrete dims when a plan compiles.
                var (from, to) = (ctx.Shape(0), ctx.Shape(1));
                ctx.RequireFloating(0);
                if (to.Rank > from.Rank || !ShapeRules.Broadcast(ctx, from, to).IsCompatibleWith(from))
                    throw ctx.Fail($"cannot sum shape {from} down to {to}: {to} does not broadcast to {from}");
                return InferContext.One(to, ctx.DType(0));
            },
            Prepare = ctx =>
            {
                var (from, to) = (ctx.InputShape(0), ctx.InputShape(1));
                if (from == to) ctx.AliasOutput(0, 0);
                else ReduceLowering.PrepareWorkspace(ctx, ctx.InputDType(0), from, ReduceLowering.BroadcastAxes(from, to));
            },
            Kernel = ctx =>
            {
                var (from, to) = (ctx.InputShape(0), ctx.InputShape(1));
                if (from == to) { ctx.AliasInput(0, 0); return; }
                var axes = ReduceLowering.BroadcastAxes(from, to);
                if (from.Rank < to.Rank || ShapeRules.Reduced(from, axes, false).Size != to.Size)
                    throw new InvalidArgumentException($"{ctx.Op}: cannot sum shape {from} down to {to}");
                ReduceLowering.Reduce(ctx, ReduceOp.Sum, ctx.Input(0), from, axes, ctx.Output(0));
            },
            Gradient = g => [g.Graph.BroadcastLike(g.Grad(0)!.Value, g.Input(0)), null],
        };

        yield return new OpDef
        {
            Type = "BroadcastLike",
            Infer = ctx =>
            {
                // The result must be like's shape, not merely a common broadcast shape of both.
                var (x, like) = (ctx.Shape(0), ctx.Shape(1));
                var shape = ShapeRules.Broadcast(ctx, x, like);
                if (!shape.IsCompatibleWith(like)) throw ctx.Fail($"cannot broadcast {x} to {like}");
                return InferContext.One(shape, ctx.DType(0));
            },
            Prepare = ctx => { if (ctx.OutputShape(0) == ctx.InputShape(0)) ctx.AliasOutput(0, 0); },
            Kernel = ctx =>
            {
                var s = ctx.OutputShape(0);
                if (s == ctx.InputShape(0)) { ctx.AliasInput(0, 0); return; }
                ctx.Backend.Copy(ShapeRules.View(ctx.Input(0), ctx.InputShape(0), s), new StridedView(ctx.Output(0), 0, s.Strides()), s.Span);
            },
            Gradient = g => [g.Graph.SumToShape(g.Grad(0)!.Value, g.Input(0)), null],
        };

        foreach (var (name, value) in new[] { ("ZerosLike", 0.0), ("OnesLike", 1.0) })
            yield return new OpDef
            {
                Type = name,
                Infer = ShapeRules.Unchanged,
                Kernel = ctx => ctx.Backend.Fill(ctx.Output(0), value),
                Gradient = _ => [null],
            };
    }

    private static string DivisionByZero(Operation op) => $"{op}: integer division by zero";

    private enum Kind { Numeric, Floating, Compare, Order, Logical }

    /// <summary>A broadcasting binary op; <paramref name="grad"/> returns unreduced gradients that are summed back to each input's shape.</summary>
    private static OpDef Binary(string type, BinaryOp op, Kind kind, Func<GradContext, (Output, Output)>? grad) => new()
    {
        Type = type,
        Infer = ctx =>
        {
            ctx.RequireSameDType(0, 1);
            var dt = ctx.DType(0);
            switch (kind)
            {
                case Kind.Numeric or Kind.Order when !dt.IsNumeric():
                case Kind.Floating when !dt.IsFloating():
                case Kind.Logical when dt != DType.Bool:
                    throw ctx.Fail($"dtype {dt.Name()} is not supported (shapes {ctx.Shape(0)} and {ctx.Shape(1)})");
            }
            var shape = ShapeRules.Broadcast(ctx, ctx.Shape(0), ctx.Shape(1));
            return InferContext.One(shape, kind is Kind.Numeric or Kind.Floating ? dt : DType.Bool);
        },
        // Integer division by zero fails the run: fed and constant divisors are checked on the host before it,
        // computed ones on the device (the kernel writes 0 and the run's error flags carry the failure).
        PreRunCheck = op != BinaryOp.Div ? null : (o, shapes, host) =>
        {
            if (o.Inputs[1].DType.IsInteger() && host(1) is { } divisor && divisor.ToDoubleArray().Any(v => v == 0))
                throw new InvalidArgumentException(DivisionByZero(o));
        },
        Prepare = op != BinaryOp.Div ? null : ctx =>
        {
            if (ctx.InputDType(1).IsInteger() && !ctx.InputCheckedBeforeRun(1))
                ctx.Check(CheckKind.NonZero, 1, 0, (_, _) => DivisionByZero(ctx.Op));
        },
        Kernel = ctx =>
        {
            var s = ctx.OutputShape(0);
            var y = ctx.Output(0);
            ctx.Backend.Binary(op, ShapeRules.View(ctx.Input(0), ctx.InputShape(0), s), ShapeRules.View(ctx.Input(1), ctx.InputShape(1), s), y, s.Span);
        },
        Gradient = grad is null ? null : g =>
        {
            if (!g.Input(0).DType.IsFloating()) return [null, null];
            var (da, db) = grad(g);
            return [g.Graph.SumToShape(da, g.Input(0)), g.Graph.SumToShape(db, g.Input(1))];
        },
        NotDifferentiable = grad is null ? $"{type} has a boolean output" : null,
    };

    private static IEnumerable<OpDef> UnaryDefs()
    {
        // (type, kernel, integers allowed, gradient as a function of (ctx, x, y, dy))
        var table = new (string, UnaryOp, bool, Func<Graph, Output, Output, Output, Output>?)[]
        {
            ("Neg", UnaryOp.Neg, true, (g, x, y, dy) => g.Neg(dy)),
            ("Abs", UnaryOp.Abs, true, (g, x, y, dy) => dy * g.Sign(x)),
            // sign is piecewise constant: its derivative is 0 wherever it exists.
            ("Sign", UnaryOp.Sign, true, (g, x, y, dy) => g.ZerosLike(dy)),
            ("Square", UnaryOp.Square, true, (g, x, y, dy) => dy * (x * 2.0)),
            ("Sqrt", UnaryOp.Sqrt, false, (g, x, y, dy) => dy * 0.5 / y),
            ("Rsqrt", UnaryOp.Rsqrt, false, (g, x, y, dy) => dy * -0.5 * y * y * y),
            ("Reciprocal", UnaryOp.Reciprocal, false, (g, x, y, dy) => g.Neg(dy * y * y)),
            ("Exp", UnaryOp.Exp, false, (g, x, y, dy) => dy * y),
            ("Expm1", UnaryOp.Expm1, false, (g, x, y, dy) => dy * (y + 1.0)),
            ("Log", UnaryOp.Log, false, (g, x, y, dy) => dy / x),
            ("Log1p", UnaryOp.Log1p, false, (g, x, y, dy) => dy / (x + 1.0)),
            ("Sin", UnaryOp.Sin, false, (g, x, y, dy) => dy * g.Cos(x)),
            ("Cos", UnaryOp.Cos, false, (g, x, y, dy) => g.Neg(dy * g.Sin(x))),
            ("Tanh", UnaryOp.Tanh, false, (g, x, y, dy) => dy * (1.0 - y * y)),
            ("Sigmoid", UnaryOp.Sigmoid, false, (g, x, y, dy) => dy * y * (1.0 - y)),
            // NOTE: relu'(0) is taken as 0, as in TensorFlow.
            ("Relu", UnaryOp.Relu, false, (g, x, y, dy) => dy * g.Cast(g.Greater(x, g.Scalar(0, x.DType)), x.DType)),
            ("Softplus", UnaryOp.Softplus, false, (g, x, y, dy) => dy * g.Sigmoid(x)),
            ("Erf", UnaryOp.Erf, false, (g, x, y, dy) => dy * (2.0 / Math.Sqrt(Math.PI)) * g.Exp(g.Neg(x * x))),
            ("LogicalNot", UnaryOp.LogicalNot, false, null),
        };
        foreach (var (type, op, ints, grad) in table)
            yield return new OpDef
            {
                Type = type,
                Infer = ctx =>
                {
                    var dt = ctx.DType(0);
                    var ok = op == UnaryOp.LogicalNot ? dt == DType.Bool : dt.IsFloating() || (ints && dt.IsInteger());
                    if (!ok) throw ctx.Fail($"dtype {dt.Name()} is not supported (shape {ctx.Shape(0)})");
                    return ShapeRules.Unchanged(ctx);
                },
                Kernel = ctx => ctx.Backend.Unary(op, ctx.Input(0), ctx.Output(0)),
                Gradient = grad is null ? null : g => g.Input(0).DType.IsFloating() ? [grad(g.Graph, g.Input(0), g.Result(0), g.Grad(0)!.Value)] : [null],
                NotDifferentiable = grad is null ? $"{type} has a boolean output" : null,
            };
    }
}

public sealed partial class Graph
{
    /// <summary>a + b with broadcasting.</summary>
    public Output Add(Output a, Output b, string? name = null) => AddSingleOutput("Add", [a, b], null, name);
    /// <summary>a − b with broadcasting.</summary>
    public Output Sub(Output a, Output b, string? name = null) => AddSingleOutput("Sub", [a, b], null, name);
    /// <summary>a · b with broadcasting.</summary>
    public Output Mul(Output a, Output b, string? name = null) => AddSingleOutput("Mul", [a, b], null, name);
    /// <summary>a / b with broadcasting (integers truncate; division by an integer zero throws <see cref="InvalidArgumentException"/>).</summary>
    public Output Div(Output a, Output b, string? name = null) => AddSingleOutput("Div", [a, b], null, name);
    /// <summary>aᵇ with broadcasting (floating only).</summary>
    public Output Pow(Output a, Output b, string? name = null) => AddSingleOutput("Pow", [a, b], null, name);
    /// <summary>aᵇ for a scalar exponent.</summary>
    public Output Pow(Output a, double b, string? name = null)
    {
        RequireArgument(a, "Pow", nameof(a));
        return Pow(a, Scalar(b, a.DType), name);
    }
    /// <summary>Element-wise maximum (NaN if either is NaN).</summary>
    public Output Maximum(Output a, Output b, string? name = null) => AddSingleOutput("Maximum", [a, b], null, name);
    /// <summary>Element-wise minimum (NaN if either is NaN).</summary>
    public Output Minimum(Output a, Output b, string? name = null) => AddSingleOutput("Minimum", [a, b], null, name);
    /// <summary>a == b (bool).</summary>
    public Output Equal(Output a, Output b, string? name = null) => AddSingleOutput("Equal", [a, b], null, name);
    /// <summary>a != b (bool).</summary>
    public Output NotEqual(Output a, Output b, string? name = null) => AddSingleOutput("NotEqual", [a, b], null, name);
    /// <summary>a &lt; b (bool).</summary>
    public Output Less(Output a, Output b, string? name = null) => AddSingleOutput("Less", [a, b], null, name);
    /// <summary>a ≤ b (bool).</summary>
    public Output LessEqual(Output a, Output b, string? name = null) => AddSingleOutput("LessEqual", [a, b], null, name);
    /// <summary>a &gt; b (bool).</summary>
    public Output Greater(Output a, Output b, string? name = null) => AddSingleOutput("Greater", [a, b], null, name);
    /// <summary>a ≥ b (bool).</summary>
    public Output GreaterEqual(Output a, Output b, string? name = null) => AddSingleOutput("GreaterEqual", [a, b], null, name);
    /// <summary>a ∧ b.</summary>
    public Output LogicalAnd(Output a, Output b, string? name = null) => AddSingleOutput("LogicalAnd", [a, b], null, name);
    /// <summary>a ∨ b.</summary>
    public Output LogicalOr(Output a, Output b, string? name = null) => AddSingleOutput("LogicalOr", [a, b], null, name);
    /// <summary>a ⊕ b.</summary>
    public Output LogicalXor(Output a, Output b, string? name = null) => AddSingleOutput("LogicalXor", [a, b], null, name);
    /// <summary>¬a.</summary>
    public Output LogicalNot(Output a, string? name = null) => AddSingleOutput("LogicalNot", [a], null, name);

    /// <summary>cond ? a : b element-wise, all three broadcast together (tf.where).</summary>
    public Output Select(Output cond, Output a, Output b, string? name = null) => AddSingleOutput("Select", [cond, a, b], null, name);

    /// <summary>Alias of <see cref="Select"/> (tf.where).</summary>
    public Output Where(Output cond, Output a, Output b, string? name = null) => Select(cond, a, b, name ?? "Where");

    /// <summary>Converts the dtype (float → int truncates toward zero; nonzero → true).</summary>
    public Output Cast(Output x, DType dtype, string? name = null) => AddSingleOutput("Cast", [x], new Attributes().Set("dtype", dtype), name);

    /// <summary>−x</summary>
    public Output Neg(Output x, string? name = null) => AddSingleOutput("Neg", [x], null, name);
    /// <summary>|x|</summary>
    public Output Abs(Output x, string? name = null) => AddSingleOutput("Abs", [x], null, name);
    /// <summary>sign(x) ∈ {−1, 0, 1}</summary>
    public Output Sign(Output x, string? name = null) => AddSingleOutput("Sign", [x], null, name);
    /// <summary>x²</summary>
    public Output Square(Output x, string? name = null) => AddSingleOutput("Square", [x], null, name);
    /// <summary>√x (NaN for x &lt; 0)</summary>
    public Output Sqrt(Output x, string? name = null) => AddSingleOutput("Sqrt", [x], null, name);
    /// <summary>1/√x</summary>
    public Output Rsqrt(Output x, string? name = null) => AddSingleOutput("Rsqrt", [x], null, name);
    /// <summary>1/x</summary>
    public Output Reciprocal(Output x, string? name = null) => AddSingleOutput("Reciprocal", [x], null, name);
    /// <summary>eˣ</summary>
    public Output Exp(Output x, string? name = null) => AddSingleOutput("Exp", [x], null, name);
    /// <summary>eˣ − 1, accurate near 0.</summary>
    public Output Expm1(Output x, string? name = null) => AddSingleOutput("Expm1", [x], null, name);
    /// <summary>ln x (−∞ at 0, NaN below).</summary>
    public Output Log(Output x, string? name = null) => AddSingleOutput("Log", [x], null, name);
    /// <summary>ln(1 + x), accurate near 0.</summary>
    public Output Log1p(Output x, string? name = null) => AddSingleOutput("Log1p", [x], null, name);
    /// <summary>sin x</summary>
    public Output Sin(Output x, string? name = null) => AddSingleOutput("Sin", [x], null, name);
    /// <summary>cos x</summary>
    public Output Cos(Output x, string? name = null) => AddSingleOutput("Cos", [x], null, name);
    /// <summary>tanh x</summary>
    public Output Tanh(Output x, string? name = null) => AddSingleOutput("Tanh", [x], null, name);
    /// <summary>1/(1+e⁻ˣ), evaluated without overflow.</summary>
    public Output Sigmoid(Output x, string? name = null) => AddSingleOutput("Sigmoid", [x], null, name);
    /// <summary>max(x, 0)</summary>
    public Output Relu(Output x, string? name = null) => AddSingleOutput("Relu", [x], null, name);
    /// <summary>ln(1+eˣ), evaluated without overflow.</summary>
    public Output Softplus(Output x, string? name = null) => AddSingleOutput("Softplus", [x], null, name);
    /// <summary>Gauss error function.</summary>
    public Output Erf(Output x, string? name = null) => AddSingleOutput("Erf", [x], null, name);

    /// <summary>x for x &gt; 0, alpha·x otherwise (tf.nn.leaky_relu; default alpha 0.2).</summary>
    public Output LeakyRelu(Output x, double alpha = 0.2, string? name = null)
    {
        RequireFloatingInput("LeakyRelu", name, x);
        using (NameScope(name ?? "LeakyRelu"))
            return Select(Greater(x, Scalar(0, x.DType)), x, x * alpha);
    }

    /// <summary>x for x &gt; 0, alpha·(eˣ − 1) otherwise. Uses expm1(min(x, 0)) so the unused branch never overflows into a NaN gradient.</summary>
    public Output Elu(Output x, double alpha = 1.0, string? name = null)
    {
        RequireFloatingInput("Elu", name, x);
        using (NameScope(name ?? "Elu"))
            return Select(Greater(x, Scalar(0, x.DType)), x, Expm1(Minimum(x, Scalar(0, x.DType))) * alpha);
    }

    /// <summary>Scaled ELU with the self-normalising constants of Klambauer et al. (2017).</summary>
    public Output Selu(Output x, string? name = null)
    {
        const double alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
        RequireFloatingInput("Selu", name, x);
        using (NameScope(name ?? "Selu"))
            return Elu(x, alpha) * scale;
    }

    /// <summary>x / (1 + |x|)</summary>
    public Output Softsign(Output x, string? name = null)
    {
        RequireFloatingInput("Softsign", name, x);
        using (NameScope(name ?? "Softsign"))
            return x / (Abs(x) + 1.0);
    }

    /// <summary>GELU: x·Φ(x) = ½x(1 + erf(x/√2)); with <paramref name="approximate"/>, the tanh form of Hendrycks &amp; Gimpel.</summary>
    public Output Gelu(Output x, bool approximate = false, string? name = null)
    {
        RequireFloatingInput("Gelu", name, x);
        using (NameScope(name ?? "Gelu"))
        {
            if (!approximate) return x * 0.5 * (Erf(x * (1.0 / Math.Sqrt(2.0))) + 1.0);
            var inner = (x + x * x * x * 0.044715) * Math.Sqrt(2.0 / Math.PI);
            return x * 0.5 * (Tanh(inner) + 1.0);
        }
    }

    /// <summary>min(max(x, lo), hi) (tf.clip_by_value).</summary>
    /// <exception cref="ShapeException"><paramref name="min"/> &gt; <paramref name="max"/>, or either bound is NaN.</exception>
    public Output Clip(Output x, double min, double max, string? name = null)
    {
        RequireArgument(x, "Clip", nameof(x));
        // NaN bounds compare false with everything, so "min > max" alone would let them through and make every output NaN.
        if (!(min <= max)) throw new ShapeException($"Clip '{ScopedName(name ?? "clip_by_value")}': bounds must satisfy min ≤ max, got min {min} and max {max} (input {x.DType.Name()} {x.Shape})");
        using (NameScope(name ?? "clip_by_value"))
            return Minimum(Maximum(x, Scalar(min, x.DType)), Scalar(max, x.DType));
    }

    /// <summary>
    /// Composites check the dtype up front: on an integer input their float constants (α, 0.044715,
    /// the 1 in 1 + |x|) would be truncated by Scalar and the result silently wrong.
    /// </summary>
    private void RequireFloatingInput(string op, string? name, Output x)
    {
        RequireArgument(x, op, nameof(x));
        if (!x.DType.IsFloating())
            throw new ShapeException($"{op} '{ScopedName(name ?? op)}': input must be float32 or float64, got {x.DType.Name()} {x.Shape}");
    }

    private string ScopedName(string name) => _scopes.Count == 0 ? name : string.Join("/", _scopes.Reverse()) + "/" + name;

    /// <summary>Sums <paramref name="x"/> over the axes along which it was broadcast from <paramref name="like"/>'s shape (run-time shapes).</summary>
    public Output SumToShape(Output x, Output like, string? name = null) => AddSingleOutput("SumToShape", [x, like], null, name);

    /// <summary>Broadcasts <paramref name="x"/> to <paramref name="like"/>'s run-time shape.</summary>
    public Output BroadcastLike(Output x, Output like, string? name = null) => AddSingleOutput("BroadcastLike", [x, like], null, name);

    /// <summary>Zeros with x's run-time shape and dtype.</summary>
    public Output ZerosLike(Output x, string? name = null) => AddSingleOutput("ZerosLike", [x], null, name);

    /// <summary>Ones with x's run-time shape and dtype.</summary>
    public Output OnesLike(Output x, string? name = null) => AddSingleOutput("OnesLike", [x], null, name);
}
