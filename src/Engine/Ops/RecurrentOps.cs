using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Fused recurrent layers over a whole [batch, time, features] sequence (SimpleRNN, LSTM, GRU, with Keras's
/// weight layouts and gate orders) and their back-propagation through time. The graph has no control flow, so a
/// recurrence is one node (the shape cuDNN's RNN API has); its gradient is one backward node, which reads the
/// forward node's saved outputs.
/// </summary>
/// <remarks>
/// <para><b>Inputs</b> (one dtype, float32 or float64): x [B, T, I], h0 [B, U], c0 [B, U] (LSTM), kernel [I, kU],
/// recurrent kernel [U, kU], bias [kU] (a reset_after GRU: [2, 3U], input row then recurrent row), and optionally a
/// mask [B, T] (nonzero = keep); k = 1, 4 (gates i, f, c, o) or 3 (z, r, h).</para>
/// <para><b>Outputs</b>: y [B, T, U] (the step outputs in processing order; 0 at masked steps), hT [B, U] and (LSTM)
/// cT [B, U], the states after the last step (a masked step carries the states through, so they are those of the
/// last unmasked step); then the tensors the backward op reads, ordinary outputs that the memory plan counts:
/// states [T + 1, B, U] (h0 and the state after each step), cells [T + 1, B, U] (LSTM) and gates [T, B, G] (LSTM:
/// G = 4U activations i, f, ĉ, o; GRU: z, r, ĥ, and with reset_after h₋₁·R_h + b'_h, G = 4U, else 3U). They are not
/// differentiable: asking for a gradient through them fails.</para>
/// <para>Shape rule: recurrent (this file's <see cref="Rule"/>). NaN/±∞ in any input propagate to the outputs that
/// depend on them.</para>
/// </remarks>
internal static class RecurrentOps
{
    /// <summary>What distinguishes the three cells here: the op names, the cell, and which optional tensors exist.</summary>
    private sealed record Spec(string Type, RnnCell Cell, bool HasCell, bool HasGates)
    {
        public string GradType => Type + "Grad";

        /// <summary>Index of the kernel among the forward inputs (after x, h0 and c0).</summary>
        public int KernelIndex => HasCell ? 3 : 2;

        public int ForwardInputs => KernelIndex + 3;

        /// <summary>Gradient op inputs: x, kernel, recurrent, bias, states, [cells], [gates], dy, dhT, [dcT], [mask].</summary>
        public int GradInputs => 7 + (HasCell ? 2 : 0) + (HasGates ? 1 : 0);
    }

    private static readonly Spec[] s_specs =
    [
        new("SimpleRNN", RnnCell.SimpleRnn, HasCell: false, HasGates: false),
        new("LSTM", RnnCell.Lstm, HasCell: true, HasGates: true),
        new("GRU", RnnCell.Gru, HasCell: false, HasGates: true),
    ];

    public static IEnumerable<OpDef> Defs() => s_specs.SelectMany(s => new[]
    {
        new OpDef
        {
            Type = s.Type,
            Infer = ctx => InferForward(ctx, s),
            Prepare = ctx => Prepare(ctx, s, RnnPass.Forward),
            Kernel = ctx => Forward(ctx, s),
            Gradient = g => Gradient(g, s),
        },
        new OpDef
        {
            Type = s.GradType,
            Infer = ctx => InferBackward(ctx, s),
            Prepare = ctx => Prepare(ctx, s, RnnPass.Backward),
            Kernel = ctx => Backward(ctx, s),
            NotDifferentiable = "second-order gradients through a recurrence are not implemented",
        },
    });

    /// <summary>The geometry every recurrent node shares, checked once: B, T, I, U and the cell options.</summary>
    private readonly record struct Geometry(int Batch, int Time, int Input, int Units);

    /// <summary>
    /// Shape rule "recurrent": x [B, T, I] floating; kernel [I, kU]; recurrent [U, kU]; bias [kU] or [2, 3U]; states
    /// [B, U]; mask [B, T]; all of x's dtype. Unknown (−1) dims unify with known ones.
    /// </summary>
    private static Geometry Rule(InferContext ctx, Spec s, int x, int kernel, int[] stateInputs, int? mask)
    {
        ctx.RequireFloating(x);
        var xs = ctx.Shape(x);
        if (xs.Rank != 3) throw ctx.Fail($"x must be [batch, time, features], got {ctx.DType(x).Name()} {xs}");
        Shape ks = ctx.Shape(kernel), rs = ctx.Shape(kernel + 1), bs = ctx.Shape(kernel + 2);
        for (var i = 0; i < ctx.NumInputs; i++) ctx.RequireSameDType(x, i);
        var k = s.Cell switch { RnnCell.Lstm => 4, RnnCell.Gru => 3, _ => 1 };
        if (rs.Rank != 2 || rs[0] < 1 || rs[1] != k * rs[0])
            throw ctx.Fail($"the recurrent kernel must be [units, {k}·units] with units known, got {rs}");
        var u = rs[0];
        if (ks.Rank != 2 || ks[1] != k * u || (xs[2] >= 0 && ks[0] >= 0 && ks[0] != xs[2]))
            throw ctx.Fail($"the kernel must be [features, {k}·units] = [{Dim(xs[2])},{k * u}] for x {xs} and recurrent kernel {rs}, got {ks}");
        var resetAfter = s.Cell == RnnCell.Gru && ctx.Attrs.Bool("reset_after");
        Shape expectedBias = resetAfter ? new Shape(2, k * u) : new Shape(k * u);
        if (bs != expectedBias) throw ctx.Fail($"the bias must be {expectedBias}{(s.Cell == RnnCell.Gru ? $" (reset_after={resetAfter})" : "")}, got {bs}");
        var batch = xs[0];
        foreach (var i in stateInputs)
        {
            var hs = ctx.Shape(i);
            if (hs.Rank != 2 || hs[1] != u || (batch >= 0 && hs[0] >= 0 && hs[0] != batch))
                throw ctx.Fail($"input {i} must be [batch, units] = [{Dim(batch)},{u}] for x {xs}, got {hs}");
            if (batch < 0) batch = hs[0];
        }
        if (mask is { } m)
        {
            var ms = ctx.Shape(m);
            if (ms.Rank != 2 || (batch >= 0 && ms[0] >= 0 && ms[0] != batch) || (xs[1] >= 0 && ms[1] >= 0 && ms[1] != xs[1]))
                throw ctx.Fail($"the mask must be [batch, time] = [{Dim(batch)},{Dim(xs[1])}] for x {xs}, got {ms}");
        }
        return new Geometry(batch, xs[1], ks[0] >= 0 ? ks[0] : xs[2], u);
    }

    private static string Dim(int d) => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static int SavedGateWidth(Spec s, InferContext ctx, int u) =>
        s.Cell == RnnCell.Lstm ? 4 * u : s.Cell == RnnCell.Gru ? (ctx.Attrs.Bool("reset_after") ? 4 : 3) * u : 0;

    private static int? MaskIndex(InferContext ctx, int unmaskedCount)
    {
        var masked = ctx.Attrs.Bool("masked");
        if (ctx.NumInputs != unmaskedCount + (masked ? 1 : 0))
            throw ctx.Fail($"expected {unmaskedCount + (masked ? 1 : 0)} inputs (masked={masked}), got {ctx.NumInputs}");
        return masked ? unmaskedCount : null;
    }

    private static OutputSpec[] InferForward(InferContext ctx, Spec s)
    {
        var mask = MaskIndex(ctx, s.ForwardInputs);
        var geo = Rule(ctx, s, 0, s.KernelIndex, s.HasCell ? [1, 2] : [1], mask);
        var dt = ctx.DType(0);
        int b = geo.Batch, t = geo.Time, u = geo.Units;
        var steps = t < 0 ? -1 : ctx.Dim(t + 1L, "time + 1");
        var specs = new List<OutputSpec> { new(new Shape(b, t, u), dt), new(new Shape(b, u), dt) };
        if (s.HasCell) specs.Add(new(new Shape(b, u), dt));
        specs.Add(new(new Shape(steps, b, u), dt));
        if (s.HasCell) specs.Add(new(new Shape(steps, b, u), dt));
        if (s.HasGates) specs.Add(new(new Shape(t, b, SavedGateWidth(s, ctx, u)), dt));
        return [.. specs];
    }

    private static OutputSpec[] InferBackward(InferContext ctx, Spec s)
    {
        var mask = MaskIndex(ctx, s.GradInputs);
        var stateIndex = 4;
        var dyIndex = stateIndex + 1 + (s.HasCell ? 1 : 0) + (s.HasGates ? 1 : 0);
        var geo = Rule(ctx, s, 0, 1, s.HasCell ? [dyIndex + 1, dyIndex + 2] : [dyIndex + 1], mask);
        var dt = ctx.DType(0);
        int b = geo.Batch, t = geo.Time, u = geo.Units;
        void Expect(int i, Shape shape, string what)
        {
            if (!ctx.Shape(i).IsCompatibleWith(shape)) throw ctx.Fail($"{what} (input {i}) must be {shape}, got {ctx.Shape(i)}");
        }
        var steps = t < 0 ? -1 : t + 1;
        Expect(stateIndex, new Shape(steps, b, u), "the saved states");
        if (s.HasCell) Expect(stateIndex + 1, new Shape(steps, b, u), "the saved cells");
        if (s.HasGates) Expect(dyIndex - 1, new Shape(t, b, SavedGateWidth(s, ctx, u)), "the saved gates");
        Expect(dyIndex, new Shape(b, t, u), "dy");
        var specs = new List<OutputSpec> { new(ctx.Shape(0), dt), new(new Shape(b, u), dt) };
        if (s.HasCell) specs.Add(new(new Shape(b, u), dt));
        specs.Add(new(ctx.Shape(1), dt));
        specs.Add(new(ctx.Shape(2), dt));
        specs.Add(new(ctx.Shape(3), dt));
        return [.. specs];
    }

    private static RnnArgs Args(Spec s, Attributes attrs, Shape x, Shape recurrent, bool masked) =>
        new(s.Cell, x[0], x[1], x[2], recurrent[0], attrs.Bool("go_backwards"), s.Cell == RnnCell.Gru && attrs.Bool("reset_after"), masked);

    private sealed record Prepared(RnnArgs Args, int Workspace);

    private static void Prepare(PrepareContext ctx, Spec s, RnnPass pass)
    {
        var recurrent = pass == RnnPass.Forward ? s.KernelIndex + 1 : 2;
        var args = Args(s, ctx.Attrs, ctx.InputShape(0), ctx.InputShape(recurrent), ctx.Attrs.Bool("masked"));
        var elements = ctx.Backend.RnnWorkspace(pass, args, ctx.InputDType(0));
        if (elements > int.MaxValue)
            throw new ShapeException($"{ctx.Op}: the backend asks for a {elements}-element workspace, more than 2^31-1 (x {ctx.InputShape(0)})");
        ctx.State = new Prepared(args, elements > 0 ? ctx.Workspace(ctx.InputDType(0), (int)elements) : -1);
    }

    private static void Forward(KernelContext ctx, Spec s)
    {
        var p = ctx.Prepared<Prepared>();
        var k = s.KernelIndex;
        var o = 0;
        DeviceBuffer y = ctx.Output(o++), hT = ctx.Output(o++);
        var cT = s.HasCell ? ctx.Output(o++) : null;
        var states = ctx.Output(o++);
        var cells = s.HasCell ? ctx.Output(o++) : null;
        var gates = s.HasGates ? ctx.Output(o) : null;
        ctx.Backend.RnnForward(p.Args, ctx.Input(0), ctx.Input(1), s.HasCell ? ctx.Input(2) : null, ctx.Input(k), ctx.Input(k + 1), ctx.Input(k + 2),
            p.Args.Masked ? ctx.Input(s.ForwardInputs) : null, y, hT, cT, states, cells, gates, p.Workspace >= 0 ? ctx.Workspace(p.Workspace) : null);
    }

    private static void Backward(KernelContext ctx, Spec s)
    {
        var p = ctx.Prepared<Prepared>();
        var i = 4;
        var states = ctx.Input(i++);
        var cells = s.HasCell ? ctx.Input(i++) : null;
        var gates = s.HasGates ? ctx.Input(i++) : null;
        DeviceBuffer dy = ctx.Input(i++), dhT = ctx.Input(i++);
        var dcT = s.HasCell ? ctx.Input(i) : null;
        var o = 0;
        DeviceBuffer dx = ctx.Output(o++), dh0 = ctx.Output(o++);
        var dc0 = s.HasCell ? ctx.Output(o++) : null;
        ctx.Backend.RnnBackward(p.Args, ctx.Input(0), ctx.Input(1), ctx.Input(2), ctx.Input(3), p.Args.Masked ? ctx.Input(s.GradInputs) : null,
            states, cells, gates, dy, dhT, dcT, dx, dh0, dc0, ctx.Output(o), ctx.Output(o + 1), ctx.Output(o + 2),
            p.Workspace >= 0 ? ctx.Workspace(p.Workspace) : null);
    }

    /// <summary>
    /// One backward node: dx, dh0, (dc0), dkernel, drecurrent, dbias from the gradients into y, hT and (cT). The mask
    /// gets none (it is a selector, like a comparison's output).
    /// </summary>
    private static Output?[] Gradient(GradContext g, Spec s)
    {
        var op = g.Op;
        var firstSaved = s.HasCell ? 3 : 2;
        for (var i = firstSaved; i < op.NumOutputs; i++)
            if (g.Grad(i) is not null)
                throw new GradientException($"{op.Type} '{op.Name}': output {i} is a tensor saved for back-propagation and is not differentiable");
        var k = s.KernelIndex;
        List<Output> inputs = [g.Input(0), g.Input(k), g.Input(k + 1), g.Input(k + 2), g.Result(firstSaved)];
        if (s.HasCell) inputs.Add(g.Result(firstSaved + 1));
        if (s.HasGates) inputs.Add(g.Result(firstSaved + (s.HasCell ? 2 : 1)));
        inputs.Add(g.GradOrZeros(0));
        inputs.Add(g.GradOrZeros(1));
        if (s.HasCell) inputs.Add(g.GradOrZeros(2));
        var masked = g.Attrs.Bool("masked");
        if (masked) inputs.Add(g.Input(s.ForwardInputs));
        var grad = g.Graph.AddOp(s.GradType, [.. inputs], CopyAttrs(g.Attrs));
        var result = new List<Output?> { grad[0], grad[1] };
        if (s.HasCell) result.Add(grad[2]);
        var w = s.HasCell ? 3 : 2;
        result.AddRange([grad[w], grad[w + 1], grad[w + 2]]);
        if (masked) result.Add(null);
        return [.. result];
    }

    private static Attributes CopyAttrs(Attributes a)
    {
        var c = new Attributes().Set("go_backwards", a.Bool("go_backwards")).Set("masked", a.Bool("masked"));
        return a.Has("reset_after") ? c.Set("reset_after", a.Bool("reset_after")) : c;
    }
}

public sealed partial class Graph
{
    /// <summary>
    /// A Keras LSTM over a whole sequence (gate order i, f, c, o; sigmoid gates, tanh activation):
    /// z = x_t·kernel + h₋₁·recurrent + bias; i = σ(z_i), f = σ(z_f), ĉ = tanh(z_c), o = σ(z_o);
    /// c = f⊙c₋₁ + i⊙ĉ; h = o⊙tanh(c). x is [B, T, I], h0 and c0 [B, U], kernel [I, 4U], recurrent [U, 4U], bias [4U].
    /// Returns (y [B, T, U] in processing order, the last h, the last c).
    /// </summary>
    /// <param name="x">[B, T, I] input sequence.</param>
    /// <param name="h0">[B, U] initial hidden state.</param>
    /// <param name="c0">[B, U] initial cell state.</param>
    /// <param name="kernel">[I, kU] input weights (k gate blocks).</param>
    /// <param name="recurrentKernel">[U, kU] recurrent weights.</param>
    /// <param name="bias">Bias (see the summary for its shape).</param>
    /// <param name="name">Node name.</param>
    /// <param name="mask">Optional [B, T] of x's dtype: where 0 the step is skipped (states carried through, y = 0).</param>
    /// <param name="goBackwards">Process the sequence from the last step (Keras go_backwards): y is in that order.</param>
    /// <remarks>The node also outputs the states, cells and gates its gradient reads (see <c>RecurrentOps</c>).</remarks>
    /// <exception cref="ShapeException">Shapes or dtypes that do not fit the layout above.</exception>
    public (Output Y, Output H, Output C) LSTM(Output x, Output h0, Output c0, Output kernel, Output recurrentKernel, Output bias,
        Output? mask = null, bool goBackwards = false, string? name = null)
    {
        var op = AddOp("LSTM", mask is { } m ? [x, h0, c0, kernel, recurrentKernel, bias, m] : [x, h0, c0, kernel, recurrentKernel, bias],
            RecurrentAttrs(mask, goBackwards), name);
        return (op[0], op[1], op[2]);
    }

    /// <summary>
    /// A Keras GRU over a whole sequence (gate order z, r, h): z = σ(x·W_z + h₋₁·R_z + b), r = σ(…),
    /// ĥ = tanh(x·W_h + b_h + r⊙(h₋₁·R_h + b'_h)) with <paramref name="resetAfter"/> (TF2's default; bias [2, 3U], input
    /// row then recurrent row), else ĥ = tanh(x·W_h + (r⊙h₋₁)·R_h + b_h) (bias [3U]); h = z⊙h₋₁ + (1 − z)⊙ĥ.
    /// Returns (y [B, T, U], the last h).
    /// </summary>
    /// <param name="x">[B, T, I] input sequence.</param>
    /// <param name="h0">[B, U] initial hidden state.</param>
    /// <param name="kernel">[I, kU] input weights (k gate blocks).</param>
    /// <param name="recurrentKernel">[U, kU] recurrent weights.</param>
    /// <param name="bias">Bias (see the summary for its shape).</param>
    /// <param name="name">Node name.</param>
    /// <param name="mask">Optional [B, T] of x's dtype: where 0 the step is skipped (state carried through, y = 0).</param>
    /// <param name="resetAfter">Keras reset_after.</param>
    /// <param name="goBackwards">Process the sequence from the last step (Keras go_backwards): y is in that order.</param>
    /// <remarks>The node also outputs the states and gates its gradient reads (see <c>RecurrentOps</c>).</remarks>
    /// <exception cref="ShapeException">Shapes or dtypes that do not fit the layout above.</exception>
    public (Output Y, Output H) GRU(Output x, Output h0, Output kernel, Output recurrentKernel, Output bias,
        Output? mask = null, bool resetAfter = true, bool goBackwards = false, string? name = null)
    {
        var op = AddOp("GRU", mask is { } m ? [x, h0, kernel, recurrentKernel, bias, m] : [x, h0, kernel, recurrentKernel, bias],
            RecurrentAttrs(mask, goBackwards).Set("reset_after", resetAfter), name);
        return (op[0], op[1]);
    }

    /// <summary>
    /// A Keras SimpleRNN over a whole sequence: h = tanh(x_t·kernel + h₋₁·recurrent + bias), kernel [I, U],
    /// recurrent [U, U], bias [U]. Returns (y [B, T, U], the last h).
    /// </summary>
    /// <param name="x">[B, T, I] input sequence.</param>
    /// <param name="h0">[B, U] initial hidden state.</param>
    /// <param name="kernel">[I, kU] input weights (k gate blocks).</param>
    /// <param name="recurrentKernel">[U, kU] recurrent weights.</param>
    /// <param name="bias">Bias (see the summary for its shape).</param>
    /// <param name="name">Node name.</param>
    /// <param name="mask">Optional [B, T] of x's dtype: where 0 the step is skipped (state carried through, y = 0).</param>
    /// <param name="goBackwards">Process the sequence from the last step (Keras go_backwards): y is in that order.</param>
    /// <remarks>The node also outputs the states its gradient reads (see <c>RecurrentOps</c>).</remarks>
    /// <exception cref="ShapeException">Shapes or dtypes that do not fit the layout above.</exception>
    public (Output Y, Output H) SimpleRNN(Output x, Output h0, Output kernel, Output recurrentKernel, Output bias,
        Output? mask = null, bool goBackwards = false, string? name = null)
    {
        var op = AddOp("SimpleRNN", mask is { } m ? [x, h0, kernel, recurrentKernel, bias, m] : [x, h0, kernel, recurrentKernel, bias],
            RecurrentAttrs(mask, goBackwards), name);
        return (op[0], op[1]);
    }

    /// <summary>The backward node of a recurrent op, for tests: its outputs as a list (dx, dh0, [dc0], dkernel, drecurrent, dbias).</summary>
    internal Output[] RecurrentGrad(string type, Output[] inputs, bool masked, bool goBackwards, bool? resetAfter = null)
    {
        var attrs = new Attributes().Set("go_backwards", goBackwards).Set("masked", masked);
        if (resetAfter is { } ra) attrs.Set("reset_after", ra);
        var op = AddOp(type, inputs, attrs);
        return Enumerable.Range(0, op.NumOutputs).Select(i => op[i]).ToArray();
    }

    private static Attributes RecurrentAttrs(Output? mask, bool goBackwards) =>
        new Attributes().Set("go_backwards", goBackwards).Set("masked", mask is not null);
}
