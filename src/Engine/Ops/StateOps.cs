using Nabla.Kernels;

namespace Nabla;

/// <summary>Constants, placeholders, variables and assignment, grouping and identity.</summary>
internal static class StateOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef
        {
            Type = "Const",
            Infer = ctx => { var t = ctx.Attrs.Get<Tensor>("value"); return InferContext.One(t.Shape, t.DType); },
            Kernel = ctx => ctx.SetExternal(0, ctx.State.Constant(ctx.Op, ctx.Attrs.Get<Tensor>("value"))),
            OutputsAreSessionState = true,
            NotDifferentiable = "a constant has no inputs",
        },
        new OpDef
        {
            Type = "Placeholder",
            Infer = ctx => InferContext.One(ctx.Attrs.Get<Shape>("shape"), ctx.Attrs.Get<DType>("dtype")),
            Kernel = ctx => throw new FeedException($"Placeholder '{ctx.Op.Name}' must be fed"),
            NotDifferentiable = "a placeholder has no inputs",
        },
        new OpDef
        {
            Type = "Variable",
            Infer = ctx => InferContext.One(ctx.Attrs.Get<Shape>("shape"), ctx.Attrs.Get<DType>("dtype")),
            Kernel = ctx => ctx.SetExternal(0, ctx.State.ReadVariable(ctx.Op)),
            OutputsAreSessionState = true,
            NotDifferentiable = "a variable read has no inputs",
            IsStateful = true,
        },
        AssignDef("Assign", null),
        AssignDef("AssignAdd", BinaryOp.Add),
        AssignDef("AssignSub", BinaryOp.Sub),
        new OpDef
        {
            Type = "NoOp",
            Infer = _ => [],
            Kernel = _ => { },
            NotDifferentiable = "NoOp has no outputs",
        },
        new OpDef
        {
            Type = "Identity",
            Infer = ShapeRules.Unchanged,
            Prepare = ctx => ctx.AliasOutput(0, 0),
            Kernel = ctx => ctx.AliasInput(0, 0),
            Gradient = g => [g.Grad(0)],
        },
        new OpDef
        {
            Type = "StopGradient",
            Infer = ShapeRules.Unchanged,
            Prepare = ctx => ctx.AliasOutput(0, 0),
            Kernel = ctx => ctx.AliasInput(0, 0),
            // Deliberately no gradient contribution: the input is treated as a constant.
            Gradient = g => [null],
        },
    ];

    /// <summary>Assign (op == null), AssignAdd, AssignSub: update the variable in place and output its new value.</summary>
    private static OpDef AssignDef(string type, BinaryOp? op) => new()
    {
        Type = type,
        Infer = ctx =>
        {
            var v = ctx.Attrs.Get<Operation>("variable");
            var (vs, vd) = (v.OutputShapes[0], v.OutputDTypes[0]);
            if (ctx.DType(0) != vd) throw ctx.Fail($"value dtype {ctx.DType(0).Name()} differs from variable '{v.Name}' dtype {vd.Name()}");
            // The kernel's binary op has no bool form; refuse here rather than when the plan runs.
            if (op is not null && !vd.IsNumeric()) throw ctx.Fail($"variable '{v.Name}' is {vd.Name()} {vs}; {type} needs a numeric variable");
            if (!ctx.Shape(0).IsCompatibleWith(vs)) throw ctx.Fail($"value shape {ctx.Shape(0)} differs from variable '{v.Name}' shape {vs}");
            return InferContext.One(vs.IsFullyDefined ? vs : ctx.Shape(0), vd);
        },
        Kernel = ctx =>
        {
            var v = ctx.Attrs.Get<Operation>("variable");
            var dst = op is null ? ctx.State.VariableForWrite(v, v.OutputDTypes[0], ctx.InputShape(0).Size) : ctx.State.ReadVariable(v);
            ctx.Backend.Assign(op, dst, ctx.Input(0), ctx.AbortFlags);
            ctx.SetExternal(0, dst);
        },
        OutputsAreSessionState = true,
        NotDifferentiable = "assignment mutates state",
        IsStateful = true,
    };
}

public sealed partial class Graph
{
    /// <summary>A constant node holding <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public Output Constant(Tensor value, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value, "Const value");
        return AddSingleOutput("Const", [], new Attributes().Set("value", value), name ?? "Const");
    }

    /// <summary>A rank-0 constant of the given dtype.</summary>
    public Output Scalar(double value, DType dtype = DType.Float32, string? name = null) =>
        Constant(new Tensor(Tensor.FromDoubles([value], dtype), Shape.Scalar, dtype), name);

    /// <summary>A value supplied at run time through the feed mapping; −1 dims are unknown.</summary>
    public Output Placeholder(DType dtype, Shape shape, string? name = null) =>
        AddSingleOutput("Placeholder", [], new Attributes().Set("dtype", dtype).Set("shape", shape), name ?? "Placeholder");

    /// <summary>A no-op that runs after <paramref name="ops"/> (tf.group).</summary>
    /// <exception cref="ArgumentException">An op is null or belongs to another graph.</exception>
    public Operation Group(IEnumerable<Operation> ops, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(ops, "NoOp ops");
        return AddOp("NoOp", [], null, name ?? "group_deps", ops.ToArray());
    }

    /// <summary>Passes the input through unchanged.</summary>
    public Output Identity(Output x, string? name = null) => AddSingleOutput("Identity", [x], null, name);

    /// <summary>Passes the input through; gradients do not flow back through it.</summary>
    public Output StopGradient(Output x, string? name = null) => AddSingleOutput("StopGradient", [x], null, name);

    /// <summary>A variable initialised from a constant tensor.</summary>
    public Variable Variable(Tensor initialValue, string? name = null, bool trainable = true) =>
        Variable(initialValue.Shape, initialValue.DType, Initializer.Constant(initialValue), name, trainable);

    /// <summary>A variable of a fully known shape initialised by <paramref name="initializer"/>.</summary>
    /// <exception cref="ShapeException">The shape has an unknown dimension or more than <see cref="Shape.MaxElements"/> elements.</exception>
    public Variable Variable(Shape shape, DType dtype, Initializer initializer, string? name = null, bool trainable = true)
    {
        if (!shape.IsFullyDefined) throw new ShapeException($"Variable '{name ?? "Variable"}': shape {shape} must be fully defined");
        var read = AddSingleOutput("Variable", [], new Attributes().Set("shape", shape).Set("dtype", dtype), name ?? "Variable");
        Output init;
        using (NameScope(read.Op.Name))
        {
            try
            {
                init = initializer.Build(this, shape, dtype);
            }
            catch (ShapeException e)
            {
                // The initializer does not know the variable's name; the message must say which variable it was.
                throw new ShapeException($"Variable '{read.Op.Name}': {e.Message}", e);
            }
        }
        Operation initOp;
        using (NameScope(read.Op.Name))
            initOp = AssignOp("Assign", read.Op, init, "Assign");
        var v = new Variable(read, initOp, trainable);
        Register(v);
        return v;
    }

    internal Operation AssignOp(string type, Operation variable, Output value, string? name = null) =>
        AddOp(type, [value], new Attributes().Set("variable", variable), name ?? type);

    /// <summary>Runs every variable's initializer (tf.global_variables_initializer).</summary>
    public Operation GlobalVariablesInitializer() => Group(Variables.Select(v => v.Initializer), "init");
}
