using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Optimizer updates as stateful graph ops, each one fused kernel call
/// (<see cref="IBackend.ApplyOptimizer"/>) that updates a variable and its slot variables in place.
/// Like Assign, an op holds its variables as attributes and outputs the variable's new value. Input 0
/// is the gradient; the rest are float32/float64 scalars that stay on the device: the backend's kernel
/// reads them there and folds the step-dependent factors (bias corrections) itself
/// (<see cref="OptimizerArgs.Fold"/>), so an update never waits for a value to reach the host.
/// The formulas are those of Keras 3 (keras/src/optimizers/{sgd,adam,nadam,rmsprop}.py).
/// </summary>
internal static class OptimizerOps
{
    public static IEnumerable<OpDef> Defs() =>
    [
        ApplyDef("ApplyGradientDescent", OptimizerKind.GradientDescent, [], []),
        ApplyDef("ApplyMomentum", OptimizerKind.Momentum, ["momentum_slot"], []),
        ApplyDef("ApplyAdam", OptimizerKind.Adam, ["m", "v"], []),
        ApplyDef("ApplyNadam", OptimizerKind.Nadam, ["m", "v"], []),
        ApplyDef("ApplyRMSProp", OptimizerKind.RMSProp, ["velocity"], ["momentum_slot", "average_gradient"]),
    ];

    /// <summary>
    /// An update op: attribute "variable" plus the named slot attributes (required, then optional),
    /// input 0 the gradient and inputs 1.. the scalars <see cref="OptimizerArgs.ScalarNames"/> lists for the kind.
    /// </summary>
    private static OpDef ApplyDef(string type, OptimizerKind kind, string[] slots, string[] optionalSlots) => new()
    {
        Type = type,
        Infer = ctx =>
        {
            var v = ctx.Attrs.Get<Operation>("variable");
            var (vs, vd) = (v.OutputShapes[0], v.OutputDTypes[0]);
            if (!vd.IsFloating()) throw ctx.Fail($"variable '{v.Name}' must be float32 or float64, got {vd.Name()} {vs}");
            var scalars = OptimizerArgs.ScalarNames(kind);
            if (ctx.NumInputs != 1 + scalars.Count)
                throw ctx.Fail($"takes a gradient and {scalars.Count} scalars ({string.Join(", ", scalars)}), got {ctx.NumInputs} inputs");
            if (ctx.DType(0) != vd) throw ctx.Fail($"gradient dtype {ctx.DType(0).Name()} differs from variable '{v.Name}' dtype {vd.Name()}");
            if (!ctx.Shape(0).IsCompatibleWith(vs)) throw ctx.Fail($"gradient shape {ctx.Shape(0)} differs from variable '{v.Name}' shape {vs}");
            foreach (var slot in slots.Concat(optionalSlots))
            {
                if (!ctx.Attrs.Has(slot)) continue;
                var s = ctx.Attrs.Get<Operation>(slot);
                if (s.OutputDTypes[0] != vd || s.OutputShapes[0] != vs)
                    throw ctx.Fail($"slot {slot} '{s.Name}' is {s.OutputDTypes[0].Name()} {s.OutputShapes[0]}, variable '{v.Name}' is {vd.Name()} {vs}");
            }
            for (var i = 0; i < scalars.Count; i++)
                if (ctx.Shape(i + 1).Rank != 0 || !ctx.DType(i + 1).IsFloating())
                    throw ctx.Fail($"{scalars[i]} must be a float32 or float64 scalar, got {ctx.DType(i + 1).Name()} {ctx.Shape(i + 1)}");
            return InferContext.One(vs, vd);
        },
        // One array per step for the scalar buffers, so a run allocates nothing.
        Prepare = ctx => ctx.State = new DeviceBuffer[ctx.NumInputs - 1],
        Kernel = ctx =>
        {
            var variable = ctx.State.ReadVariable(ctx.Attrs.Get<Operation>("variable"));
            DeviceBuffer? s1 = SlotBuffer(ctx, slots, optionalSlots, 0), s2 = SlotBuffer(ctx, slots, optionalSlots, 1), s3 = SlotBuffer(ctx, slots, optionalSlots, 2);
            var scalars = ctx.Prepared<DeviceBuffer[]>();
            for (var i = 0; i < scalars.Length; i++) scalars[i] = ctx.Input(i + 1);
            ctx.Backend.ApplyOptimizer(kind, ctx.Attrs.Get("nesterov", false), scalars, variable, ctx.Input(0), s1, s2, s3, ctx.AbortFlags);
            ctx.SetExternal(0, variable);
        },
        OutputsAreSessionState = true,
        NotDifferentiable = "an optimizer update mutates state",
        IsStateful = true,
    };

    private static DeviceBuffer? SlotBuffer(KernelContext ctx, string[] slots, string[] optionalSlots, int k)
    {
        var name = k < slots.Length ? slots[k] : k - slots.Length < optionalSlots.Length ? optionalSlots[k - slots.Length] : null;
        return name is not null && ctx.Attrs.Get<Operation?>(name, null) is { } op ? ctx.State.ReadVariable(op) : null;
    }
}

public sealed partial class Graph
{
    /// <summary>
    /// w ← w − g·η, in place; outputs the new value of w (Keras SGD without momentum).
    /// </summary>
    /// <param name="variable">The float variable to update.</param>
    /// <param name="grad">Its gradient (same shape and dtype).</param>
    /// <param name="learningRate">η, a float32/float64 scalar.</param>
    /// <param name="name">Node name.</param>
    public Output ApplyGradientDescent(Variable variable, Output grad, Output learningRate, string? name = null) =>
        AddOptimizerUpdate("ApplyGradientDescent", variable, [], grad, [learningRate], null, name);

    /// <summary>
    /// Momentum SGD (Keras SGD with momentum &gt; 0): m ← m·μ − g·η, then w ← w + m, or with Nesterov
    /// momentum w ← w + m·μ − g·η. Updates w and m in place; outputs the new value of w.
    /// </summary>
    /// <param name="variable">The float variable to update.</param>
    /// <param name="momentumSlot">Velocity m, shaped like the variable (zeros initially).</param>
    /// <param name="grad">The gradient.</param>
    /// <param name="learningRate">η, a float scalar.</param>
    /// <param name="momentum">μ, a float scalar.</param>
    /// <param name="nesterov">Use Nesterov momentum.</param>
    /// <param name="name">Node name.</param>
    public Output ApplyMomentum(Variable variable, Variable momentumSlot, Output grad, Output learningRate, Output momentum, bool nesterov = false, string? name = null) =>
        AddOptimizerUpdate("ApplyMomentum", variable, [("momentum_slot", momentumSlot)], grad, [learningRate, momentum],
            a => a.Set("nesterov", nesterov), name);

    /// <summary>
    /// Adam (Kingma and Ba 2014, as Keras): m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂);
    /// w ← w − m·α / (√v + ε) with α = η·√(1 − β₂ᵗ) / (1 − β₁ᵗ). Updates w, m and v in place; outputs w.
    /// </summary>
    /// <param name="variable">The float variable to update.</param>
    /// <param name="m">First-moment slot (zeros initially).</param>
    /// <param name="v">Second-moment slot (zeros initially).</param>
    /// <param name="grad">The gradient.</param>
    /// <param name="learningRate">η.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε, added outside the square root.</param>
    /// <param name="step">The 1-based step number t (the optimizer's iterations + 1), as a float scalar.</param>
    /// <param name="name">Node name.</param>
    public Output ApplyAdam(Variable variable, Variable m, Variable v, Output grad, Output learningRate, Output beta1, Output beta2, Output epsilon, Output step, string? name = null) =>
        AddOptimizerUpdate("ApplyAdam", variable, [("m", m), ("v", v)], grad, [learningRate, beta1, beta2, epsilon, step], null, name);

    /// <summary>
    /// Nadam (Dozat 2015, as Keras): the moments as Adam, then with uₜ = β₁(1 − ½·0.96ᵗ) and Πₜ = u₁⋯uₜ,
    /// m̂ = uₜ₊₁·m / (1 − Πₜ·uₜ₊₁) + (1 − uₜ)·g / (1 − Πₜ), v̂ = v / (1 − β₂ᵗ), w ← w − m̂·η / (√v̂ + ε).
    /// Updates w, m and v in place; outputs w.
    /// </summary>
    /// <param name="variable">The float variable to update.</param>
    /// <param name="m">First-moment slot (zeros initially).</param>
    /// <param name="v">Second-moment slot (zeros initially).</param>
    /// <param name="grad">The gradient.</param>
    /// <param name="learningRate">η.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε, added outside the square root.</param>
    /// <param name="step">The 1-based step number t.</param>
    /// <param name="uProduct">Πₜ = u₁⋯uₜ, this step's factor included.</param>
    /// <param name="name">Node name.</param>
    public Output ApplyNadam(Variable variable, Variable m, Variable v, Output grad, Output learningRate, Output beta1, Output beta2, Output epsilon, Output step, Output uProduct, string? name = null) =>
        AddOptimizerUpdate("ApplyNadam", variable, [("m", m), ("v", v)], grad, [learningRate, beta1, beta2, epsilon, step, uProduct], null, name);

    /// <summary>
    /// RMSprop (Hinton 2012, as Keras): v ← ρv + (1 − ρ)g²; centered: a ← ρa + (1 − ρ)g and
    /// d = v − a² + ε, else d = v + ε; Δ = η·g / √d; with a momentum slot mom ← μ·mom + Δ and w ← w − mom,
    /// otherwise w ← w − Δ. Updates w and the slots in place; outputs w.
    /// </summary>
    /// <param name="variable">The float variable to update.</param>
    /// <param name="velocity">Mean-square slot v (zeros initially).</param>
    /// <param name="momentumSlot">Momentum slot, or null for none (μ is then unused).</param>
    /// <param name="averageGradient">Mean-gradient slot a for the centered variant, or null.</param>
    /// <param name="grad">The gradient.</param>
    /// <param name="learningRate">η.</param>
    /// <param name="rho">ρ.</param>
    /// <param name="momentum">μ.</param>
    /// <param name="epsilon">ε, added inside the square root.</param>
    /// <param name="name">Node name.</param>
    public Output ApplyRMSProp(Variable variable, Variable velocity, Variable? momentumSlot, Variable? averageGradient, Output grad, Output learningRate, Output rho, Output momentum, Output epsilon, string? name = null)
    {
        var slots = new List<(string, Variable)> { ("velocity", velocity) };
        if (momentumSlot is not null) slots.Add(("momentum_slot", momentumSlot));
        if (averageGradient is not null) slots.Add(("average_gradient", averageGradient));
        return AddOptimizerUpdate("ApplyRMSProp", variable, slots, grad, [learningRate, rho, momentum, epsilon], null, name);
    }

    private Output AddOptimizerUpdate(string type, Variable variable, IReadOnlyList<(string Key, Variable Slot)> slots, Output grad, Output[] scalars, Action<Attributes>? extra, string? name)
    {
        if (!ReferenceEquals(variable.Graph, this)) throw new ArgumentException($"{type}: variable '{variable.Name}' belongs to another graph", nameof(variable));
        var attrs = new Attributes().Set("variable", variable.Value.Op);
        var seen = new HashSet<Variable>(ReferenceEqualityComparer.Instance) { variable };
        foreach (var (key, slot) in slots)
        {
            if (!ReferenceEquals(slot.Graph, this)) throw new ArgumentException($"{type}: slot {key} '{slot.Name}' belongs to another graph", nameof(slots));
            if (!seen.Add(slot)) throw new ArgumentException($"{type}: slot {key} '{slot.Name}' is the variable or another slot; each must be its own variable", nameof(slots));
            attrs.Set(key, slot.Value.Op);
        }
        extra?.Invoke(attrs);
        return AddSingleOutput(type, [grad, .. scalars], attrs, name ?? type);
    }
}
