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
                else ReduceKernels.PrepareWorkspace(ctx, ctx.InputDType(0), from, ReduceKernels.BroadcastAxes(from, to));
            },
            Kernel = ctx =>
            {
                var (from, to) = (ctx.InputShape(0), ctx.InputShape(1));
                if (from == to) { ctx.AliasInput(0, 0); return; }
                var axes = ReduceKernels.BroadcastAxes(from, to);
                if (from.Rank < to.Rank || ShapeRules.Reduced(from, axes, false).Size != to.Size)
                    throw new InvalidArgumentException($"{ctx.Op}: cannot sum shape {from} down to {to}");
                ReduceKernels.Reduce(ctx, ReduceOp.Sum, ctx.Input(0), from, axes, ctx.Output(0));
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
