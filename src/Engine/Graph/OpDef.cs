using Nabla.Kernels;

namespace Nabla;

/// <summary>The static type of one output: shape (dims may be −1) and dtype.</summary>
internal readonly record struct OutputSpec(Shape Shape, DType DType);

/// <summary>Shape and dtype inference for a node: runs when the node is built (dims may be unknown) and again when a plan is compiled (all dims known).</summary>
internal delegate OutputSpec[] InferFn(InferContext ctx);

/// <summary>Runs a node's kernels on a backend.</summary>
internal delegate void KernelFn(KernelContext ctx);

/// <summary>Builds gradient nodes: returns one gradient (or null) per data input.</summary>
internal delegate Output?[] GradientFn(GradContext ctx);

/// <summary>Plan-time preparation of one step (see <see cref="OpDef.Prepare"/>).</summary>
internal delegate void PrepareFn(PrepareContext ctx);

/// <summary>Checks host-visible input values (fed or constant) before any kernel of the step runs.</summary>
internal delegate void PreRunCheckFn(Operation op, Shape[] inputShapes, Func<int, Tensor?> hostInput);

/// <summary>
/// Everything about one op type in one place: its name, shape/dtype inference, kernel, and gradient
/// (or the reason it has none).
/// </summary>
internal sealed class OpDef
{
    public required string Type { get; init; }

    public required InferFn Infer { get; init; }

    /// <summary>
    /// <see cref="Infer"/>, then the limit every op shares: a fully known output may hold at most
    /// <see cref="Shape.MaxElements"/> elements (kernels index with int). Both graph building and plan
    /// compilation (where a fed shape makes every dim concrete) infer through here.
    /// </summary>
    public OutputSpec[] InferChecked(InferContext ctx)
    {
        var specs = Infer(ctx);
        for (var k = 0; k < specs.Length; k++)
        {
            var n = specs[k].Shape.ElementCount;
            if (n > Shape.MaxElements)
                throw ctx.Fail($"output {k} would have shape {specs[k].Shape}, more than 2^31-1 elements (inputs: {ctx.DescribeInputs()})");
        }
        return specs;
    }

    public required KernelFn Kernel { get; init; }

    /// <summary>Null when the op is not differentiable; see <see cref="NotDifferentiable"/>.</summary>
    public GradientFn? Gradient { get; init; }

    /// <summary>Why the op has no gradient ("integer output", "random"), shown when one is requested.</summary>
    public string? NotDifferentiable { get; init; }

    /// <summary>Optional early check of fed/constant inputs (e.g. gather indices) before the plan executes.</summary>
    public PreRunCheckFn? PreRunCheck { get; init; }

    /// <summary>Stateful ops (variables, random) are never deduplicated or folded.</summary>
    public bool IsStateful { get; init; }

    /// <summary>
    /// Optional plan-time preparation, run once when a plan compiles, with every shape known: declare
    /// outputs that alias an input, workspaces (which count in the memory plan), device-side checks,
    /// and per-step backend state (an algorithm choice, cached descriptors) for the kernel to use.
    /// </summary>
    public PrepareFn? Prepare { get; init; }

    /// <summary>
    /// The outputs are buffers the session owns (variables, constants), set by the kernel with
    /// <see cref="KernelContext.SetExternal"/>; the memory plan gives them no arena space.
    /// </summary>
    public bool OutputsAreSessionState { get; init; }
}

/// <summary>The view of a node that shape inference sees.</summary>
internal sealed class InferContext
{
    private readonly Shape[] _shapes;
    private readonly DType[] _dtypes;

    public InferContext(string type, string name, Shape[] shapes, DType[] dtypes, Attributes attrs)
    {
        Type = type;
        Name = name;
        _shapes = shapes;
        _dtypes = dtypes;
        Attrs = attrs;
    }

    public string Type { get; }

    public string Name { get; }

    public Attributes Attrs { get; }

    public int NumInputs => _shapes.Length;

    public Shape Shape(int i) => _shapes[i];

    public DType DType(int i) => _dtypes[i];

    /// <summary>An exception naming op and node: "MatMul 'dense_1/matmul': message".</summary>
    public ShapeException Fail(string message) => new($"{Type} '{Name}': {message}");

    /// <summary>
    /// A computed dimension (a sum or product of dims and attributes, done in <see cref="long"/>), or a
    /// failure naming what it came from when it exceeds 2^31-1: an int would wrap to a wrong shape.
    /// </summary>
    public int Dim(long value, string what) =>
        value <= int.MaxValue ? (int)value : throw Fail($"{what} is {value}, more than 2^31-1 (inputs: {DescribeInputs()})");

    /// <summary>"float32 [3], int32 [?,2]": the inputs, for messages.</summary>
    public string DescribeInputs() =>
        _shapes.Length == 0 ? "none" : string.Join(", ", _shapes.Select((s, i) => $"{_dtypes[i].Name()} {s}"));

    /// <summary>Requires input i to be float32/float64.</summary>
    public void RequireFloating(int i)
    {
        if (!_dtypes[i].IsFloating()) throw Fail($"input {i} must be float32 or float64, got {_dtypes[i].Name()} {_shapes[i]}");
    }

    /// <summary>Requires input i to be numeric (not bool).</summary>
    public void RequireNumeric(int i)
    {
        if (!_dtypes[i].IsNumeric()) throw Fail($"input {i} must be numeric, got {_dtypes[i].Name()} {_shapes[i]}");
    }

    /// <summary>Requires all inputs to share one dtype.</summary>
    public void RequireSameDType(int a, int b)
    {
        if (_dtypes[a] != _dtypes[b]) throw Fail($"dtypes differ: {_dtypes[a].Name()} {_shapes[a]} vs {_dtypes[b].Name()} {_shapes[b]}");
    }

    /// <summary>Normalises an axis against a rank or fails naming it.</summary>
    public int Axis(int axis, int rank)
    {
        if (axis < -rank || axis >= rank) throw Fail($"axis {axis} is out of range for rank {rank} (valid: {-rank}..{rank - 1})");
        return axis < 0 ? axis + rank : axis;
    }

    public static OutputSpec[] One(Shape shape, DType dtype) => [new OutputSpec(shape, dtype)];
}

/// <summary>What a gradient function sees: the forward node and the gradients flowing into its outputs.</summary>
internal sealed class GradContext
{
    private readonly Output?[] _grads;

    public GradContext(Operation op, Output?[] grads)
    {
        Op = op;
        _grads = grads;
    }

    public Operation Op { get; }

    public Graph Graph => Op.Graph;

    public Attributes Attrs => Op.Attrs;

    public Output Input(int i) => Op.Inputs[i];

    public Output Result(int i) => Op[i];

    /// <summary>Gradient flowing into output i, or null when nothing downstream depends on it.</summary>
    public Output? Grad(int i) => _grads[i];

    /// <summary>Gradient into output i, or zeros shaped like that output.</summary>
    public Output GradOrZeros(int i) => _grads[i] ?? Graph.ZerosLike(Op[i]);
}
