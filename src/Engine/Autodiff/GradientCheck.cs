namespace Nabla;

/// <summary>Per-input outcome of a <see cref="GradientCheck"/>.</summary>
/// <param name="MaxRelativeError">Worst |analytic − numeric| / max(1, |analytic|, |numeric|) over the input's elements.</param>
/// <param name="WorstIndex">Flat index where it occurred (−1 for an empty input).</param>
/// <param name="Analytic">Symbolic gradient of L = Σ w·y (w fixed pseudo-random weights).</param>
/// <param name="Numeric">Central-difference estimate of the same.</param>
public sealed record GradientCheckInput(double MaxRelativeError, int WorstIndex, double[] Analytic, double[] Numeric);

/// <summary>Result of <see cref="GradientCheck.Run(Func{Graph, Output[], Output}, Tensor[], double)"/>.</summary>
/// <param name="Inputs">One entry per input.</param>
public sealed record GradientCheckResult(IReadOnlyList<GradientCheckInput> Inputs)
{
    /// <summary>Worst error over all inputs.</summary>
    public double MaxRelativeError => Inputs.Count == 0 ? 0 : Inputs.Max(i => i.MaxRelativeError);

    /// <inheritdoc/>
    public override string ToString() => string.Join("; ", Inputs.Select((r, i) => $"input {i}: max rel err {r.MaxRelativeError:E3} at {r.WorstIndex}"));
}

/// <summary>
/// Verifies symbolic gradients against central differences, in float64 on the
/// <see cref="Device.Reference"/> backend. The scalar checked is L = Σ w ⊙ f(x) with fixed
/// weights w ∈ [0.5, 1.5), which exercises every row of the Jacobian at the cost of 2·|x|
/// evaluations per input.
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// Builds <paramref name="f"/> on float64 placeholders shaped like <paramref name="inputs"/>,
    /// and compares ∂L/∂xᵢ with (L(x + h·eₖ) − L(x − h·eₖ)) / 2h, h = <paramref name="delta"/>·max(1, |xₖ|).
    /// </summary>
    /// <remarks>Central differences have error O(h²·f‴) + O(ε/h); h = 1e-6 balances both near 1e-10 for smooth f in float64.</remarks>
    public static GradientCheckResult Run(Func<Graph, Output[], Output> f, Tensor[] inputs, double delta = 1e-6)
    {
        var g = new Graph();
        var xs = inputs.Select((t, i) => g.Placeholder(DType.Float64, t.Shape, $"x{i}")).ToArray();
        var y = f(g, xs);
        if (!y.DType.IsFloating()) throw new GradientException($"the checked output '{y.Name}' has dtype {y.DType.Name()}");
        return Check(g, y, xs, inputs.Select(t => t.ToDoubleArray()).ToArray(), delta);
    }

    /// <summary>Checks gradients of an output with respect to float64 placeholders of an existing graph, fed with <paramref name="values"/>.</summary>
    public static GradientCheckResult Check(Graph graph, Output y, Output[] xs, double[][] values, double delta = 1e-6) =>
        Check(graph, y, xs, values, [], delta);

    /// <summary>
    /// As <see cref="Check(Graph, Output, Output[], double[][], double)"/>, and also checks ∂L/∂v for each of
    /// <paramref name="variables"/> (float64 variables, such as a layer's weights), perturbing their values in the
    /// check's session. Every variable of the graph is initialised first. Results list the placeholders, then the variables.
    /// </summary>
    public static GradientCheckResult Check(Graph graph, Output y, Output[] xs, double[][] values, IReadOnlyList<Variable> variables, double delta = 1e-6)
    {
        foreach (var x in xs)
            if (x.Op.Type != "Placeholder") throw new ArgumentException($"'{x.Name}' must be a placeholder", nameof(xs));
        foreach (var v in variables)
            if (v.DType != DType.Float64) throw new ArgumentException($"variable '{v.Name}' must be float64 for a gradient check, got {v.DType.Name()}", nameof(variables));
        using var session = new Session(graph, Device.Reference);
        if (graph.Variables.Count > 0) session.Run([], null, graph.Variables.Select(v => v.Initializer).ToArray());
        var feeds = new Dictionary<Output, (Shape, double[])>();
        for (var i = 0; i < xs.Length; i++)
        {
            var shape = xs[i].Shape.IsFullyDefined ? xs[i].Shape : throw new ArgumentException($"'{xs[i].Name}' needs a fully defined shape");
            feeds[xs[i]] = (shape, (double[])values[i].Clone());
        }
        // Output shape at run time, then fixed weights w.
        var yValue = session.RunFloat64([y], feeds, out var yShapes)[0];
        var weights = new double[yValue.Length];
        for (var k = 0; k < weights.Length; k++) weights[k] = 0.5 + Kernels.Philox.ToUnit(Kernels.Philox.Block(0x5EED, (ulong)k, 7).Item1);
        var w = graph.Constant(new Tensor(weights, yShapes[0], DType.Float64), "gradcheck_weights");
        var loss = graph.ReduceSum(graph.Mul(graph.Cast(y, DType.Float64), w));
        var grads = graph.Gradients([loss], [.. xs, .. variables.Select(v => v.Value)], null, UnconnectedGradients.Zero);
        var analytic = session.RunFloat64(grads.Select(o => o!.Value).ToArray(), feeds);
        double Loss() => session.RunFloat64([loss], feeds)[0][0];

        var results = new List<GradientCheckInput>();
        for (var i = 0; i < xs.Length; i++)
            results.Add(Compare(analytic[i], feeds[xs[i]].Item2, _ => { }, Loss, delta));
        for (var j = 0; j < variables.Count; j++)
        {
            var v = variables[j];
            var current = session.ReadVariable(v).ToDoubleArray();
            results.Add(Compare(analytic[xs.Length + j], current, x => session.AssignVariable(v, new Tensor((double[])x.Clone(), v.Shape, DType.Float64)), Loss, delta));
        }
        return new GradientCheckResult(results);
    }

    /// <summary>Central differences over each element of <paramref name="x"/> (changed in place; <paramref name="apply"/> pushes it to the graph).</summary>
    private static GradientCheckInput Compare(double[] analytic, double[] x, Action<double[]> apply, Func<double> loss, double delta)
    {
        var numeric = new double[x.Length];
        for (var k = 0; k < x.Length; k++)
        {
            var orig = x[k];
            var h = delta * Math.Max(1, Math.Abs(orig));
            x[k] = orig + h;
            apply(x);
            var up = loss();
            x[k] = orig - h;
            apply(x);
            var down = loss();
            x[k] = orig;
            apply(x);
            numeric[k] = (up - down) / (2 * h);
        }
        double worst = 0;
        var at = x.Length == 0 ? -1 : 0;
        for (var k = 0; k < x.Length; k++)
        {
            var a = analytic[k];
            var n = numeric[k];
            var err = Math.Abs(a - n) / Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(n)));
            if (double.IsNaN(err)) err = double.PositiveInfinity;
            if (err > worst) { worst = err; at = k; }
        }
        return new GradientCheckInput(worst, at, analytic, numeric);
    }

}
