using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Collective communication inside a plan: <c>AllReduce</c> sums values over the members of the session's
/// group (<see cref="SessionState.Collective"/>), so a data-parallel training step is one run: forward,
/// backward, the gradient all-reduce and the optimizer update, with no gradient leaving the device.
/// </summary>
internal static class CollectiveOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        new OpDef
        {
            Type = "AllReduce",
            Infer = ctx =>
            {
                if (ctx.NumInputs == 0) throw ctx.Fail("needs at least one value");
                var dtype = ctx.DType(0);
                if (!dtype.IsFloating()) throw ctx.Fail($"sums float32 or float64 values, got {dtype.Name()} (inputs: {ctx.DescribeInputs()})");
                var specs = new OutputSpec[ctx.NumInputs];
                for (var i = 0; i < specs.Length; i++)
                {
                    // One staging buffer of one dtype carries every value in a single collective call.
                    if (ctx.DType(i) != dtype) throw ctx.Fail($"values must share one dtype: input 0 is {dtype.Name()}, input {i} is {ctx.DType(i).Name()} (inputs: {ctx.DescribeInputs()})");
                    specs[i] = new OutputSpec(ctx.Shape(i), dtype);
                }
                return specs;
            },
            Prepare = ctx =>
            {
                // A backend that can also sum in place stages at its alignment, the in-place layout (HostAllReduce.Run).
                var memory = ctx.Backend.Memory;
                var align = ctx.Backend.AllReducesInPlace ? memory.Alignment / memory.StorageBytes(ctx.InputDType(0)) : 1;
                long total = 0;
                for (var i = 0; i < ctx.NumInputs; i++) total += HostAllReduce.Padded(ctx.InputShape(i).Size, align);
                if (total > Shape.MaxElements) throw new ShapeException($"AllReduce '{ctx.Op.Name}': {total} elements in one call, more than 2^31-1; split the values over several AllReduce ops");
                ctx.Workspace(ctx.InputDType(0), (int)total);
            },
            Kernel = ctx =>
            {
                if (ctx.PackedSpan is { } span)
                {
                    // In place (the plan packed the values one after another in one span): the sums overwrite them.
                    for (var i = 0; i < ctx.NumInputs; i++) ctx.AliasInput(i, i);
                    ctx.Backend.AllReduceInPlace(ctx.State.Collective, span);
                    return;
                }
                var inputs = new DeviceBuffer[ctx.NumInputs];
                var outputs = new DeviceBuffer[ctx.NumInputs];
                for (var i = 0; i < inputs.Length; i++) (inputs[i], outputs[i]) = (ctx.Input(i), ctx.Output(i));
                ctx.Backend.AllReduce(ctx.State.Collective, inputs, outputs, ctx.Workspace(0));
            },
            // Every member's output is the same sum, which each member's loss then uses: the gradient of
            // member r's input is the sum over the members of the gradients flowing into their outputs.
            Gradient = g =>
            {
                var upstream = Enumerable.Range(0, g.Op.NumOutputs).Select(g.GradOrZeros).ToArray();
                return [.. g.Graph.AllReduce(upstream, g.Op.Name + "_grad").Select(o => (Output?)o)];
            },
            // Members must make the same collective calls in the same order: never deduplicated or folded.
            IsStateful = true,
        },
    ];
}

public sealed partial class Graph
{
    /// <summary>
    /// The element-wise sums of <paramref name="values"/> over the members of the running session's group
    /// (<see cref="SessionState.Collective"/>; a session on its own is a group of one, where each sum is the
    /// value itself), in one collective call (Horovod's and tf.distribute's all-reduce). Every member
    /// must run the same graph: the values are packed into one buffer, summed, and unpacked.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    /// <exception cref="ShapeException">No values, a non-float value, or values of different dtypes.</exception>
    public Output[] AllReduce(IReadOnlyList<Output> values, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(values, "AllReduce values");
        return AddOp("AllReduce", values.ToArray(), null, name ?? "AllReduce").Outputs;
    }
}
