namespace Nabla;

/// <summary>
/// Pass criterion of a <see cref="GradientCheck"/>: each element passes when
/// |analytic − numeric| ≤ <paramref name="Atol"/> + <paramref name="Rtol"/>·|numeric|.
/// </summary>
/// <param name="Atol">
/// Absolute floor. It exists only for the rounding noise of the central difference itself, ≈ ε·|L|/h with
/// ε = 2.2e-16 and h = 1e-6: 2.2e-10·|L|. The default 1e-8 covers |L| up to ~45 (L = Σ w·y, w &lt; 1.5), so a
/// gradient of size ≥ 1e-2 is checked relatively and only smaller ones lean on the floor.
/// </param>
/// <param name="Rtol">
/// Relative tolerance. The default 1e-6 is ~10⁴ above the O(h²·f‴/f′) truncation error of central differences
/// with h = 1e-6 for smooth f, and far below any real gradient bug (a wrong factor, sign or term).
/// </param>
public readonly record struct GradientTolerance(double Atol, double Rtol)
{
    /// <summary>atol 1e-8, rtol 1e-6 (see the parameters for why).</summary>
    public static GradientTolerance Default => new(1e-8, 1e-6);

    /// <summary>|a − n| / (atol + rtol·|n|): at most 1 where the element passes; ∞ for NaN.</summary>
    public double Ratio(double analytic, double numeric)
    {
        var r = Math.Abs(analytic - numeric) / (Atol + Rtol * Math.Abs(numeric));
        return double.IsNaN(r) ? double.PositiveInfinity : r;
    }
}

/// <summary>Per-input outcome of a <see cref="GradientCheck"/>.</summary>
/// <param name="MaxAbsoluteError">Worst |analytic − numeric| over the input's elements (∞ where either is NaN).</param>
/// <param name="MaxRelativeError">
/// Worst |analytic − numeric| / |numeric| over the elements (0 where both are 0, ∞ where only the numeric one is, or
/// either is NaN). A report, not the criterion: a true zero gradient estimated as 1e-12 has a large relative error
/// and still passes on <see cref="GradientTolerance.Atol"/>.
/// </param>
/// <param name="WorstRatio">Worst |a − n| / (atol + rtol·|n|); the input passes when it is ≤ 1.</param>
/// <param name="WorstIndex">Flat index of <paramref name="WorstRatio"/> (−1 for an empty input).</param>
/// <param name="Analytic">Symbolic gradient of L = Σ w·y (w fixed pseudo-random weights).</param>
/// <param name="Numeric">Central-difference estimate of the same.</param>
public sealed record GradientCheckInput(double MaxAbsoluteError, double MaxRelativeError, double WorstRatio, int WorstIndex, double[] Analytic, double[] Numeric)
{
    /// <summary>Every element within the tolerance.</summary>
    public bool Passed => WorstRatio <= 1;
}

/// <summary>Result of <see cref="GradientCheck.Run(Func{Graph, Output[], Output}, Tensor[], double, GradientTolerance?)"/>.</summary>
/// <param name="Inputs">One entry per input.</param>
/// <param name="Tolerance">The criterion the inputs were judged by.</param>
public sealed record GradientCheckResult(IReadOnlyList<GradientCheckInput> Inputs, GradientTolerance Tolerance)
{
    /// <summary>Worst relative error over all inputs (see <see cref="GradientCheckInput.MaxRelativeError"/>).</summary>
    public double MaxRelativeError => Inputs.Count == 0 ? 0 : Inputs.Max(i => i.MaxRelativeError);

    /// <summary>Worst absolute error over all inputs.</summary>
    public double MaxAbsoluteError => Inputs.Count == 0 ? 0 : Inputs.Max(i => i.MaxAbsoluteError);

    /// <summary>Worst |a − n| / (atol + rtol·|n|) over all inputs.</summary>
    public double WorstRatio => Inputs.Count == 0 ? 0 : Inputs.Max(i => i.WorstRatio);

    /// <summary>Every element of every input within <see cref="Tolerance"/>.</summary>
    public bool Passed => Inputs.All(i => i.Passed);

    /// <inheritdoc/>
    public override string ToString() => string.Join("; ", Inputs.Select((r, i) =>
        $"input {i}: max rel err {r.MaxRelativeError:E3}, max abs err {r.MaxAbsoluteError:E3}, worst {r.WorstRatio:G3}× (atol {Tolerance.Atol:G3} + rtol {Tolerance.Rtol:G3}·|n|) at {r.WorstIndex}"
        + (r.WorstIndex >= 0 ? $": analytic {r.Analytic[r.WorstIndex]:G10} numeric {r.Numeric[r.WorstIndex]:G10}" : "")));
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
    /// <param name="f">The function checked, built on the float64 placeholders.</param>
    /// <param name="inputs">Values fed to the placeholders (converted to float64).</param>
    /// <param name="delta">Relative step of the central difference.</param>
    /// <param name="tolerance">Pass criterion; <see cref="GradientTolerance.Default"/> when null.</param>
    public static GradientCheckResult Run(Func<Graph, Output[], Output> f, Tensor[] inputs, double delta = 1e-6, GradientTolerance? tolerance = null)
    {
        var g = new Graph();
        var xs = inputs.Select((t, i) => g.Placeholder(DType.Float64, t.Shape, $"x{i}")).ToArray();
        var y = f(g, xs);
        if (!y.DType.IsFloating()) throw new GradientException($"the checked output '{y.Name}' has dtype {y.DType.Name()}");
        return Check(g, y, xs, inputs.Select(t => t.ToDoubleArray()).ToArray(), [], delta, tolerance);
    }

    /// <summary>Checks gradients of an output with respect to float64 placeholders of an existing graph, fed with <paramref name="values"/>.</summary>
    public static GradientCheckResult Check(Graph graph, Output y, Output[] xs, double[][] values, double delta = 1e-6, GradientTolerance? tolerance = null) =>
        Check(graph, y, xs, values, [], delta, tolerance);

    /// <summary>
    /// As <see cref="Check(Graph, Output, Output[], double[][], double, GradientTolerance?)"/>, and also checks ∂L/∂v for each of
    /// <paramref name="variables"/> (float64 variables, such as a layer's weights), perturbing their values in the
    /// check's session. Every variable of the graph is initialised first. Results list the placeholders, then the variables.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tolerance"/> has a negative or NaN part, or both parts 0.</exception>
    public static GradientCheckResult Check(Graph graph, Output y, Output[] xs, double[][] values, IReadOnlyList<Variable> variables, double delta = 1e-6, GradientTolerance? tolerance = null)
    {
        var tol = tolerance ?? GradientTolerance.Default;
        if (!(tol.Atol >= 0 && tol.Rtol >= 0 && tol.Atol + tol.Rtol > 0)) throw new ArgumentOutOfRangeException(nameof(tolerance), $"{tol} needs atol, rtol ≥ 0, not both 0");
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
            results.Add(Compare(analytic[i], feeds[xs[i]].Item2, _ => { }, Loss, delta, tol));
        for (var j = 0; j < variables.Count; j++)
        {
            var v = variables[j];
            var current = session.ReadVariable(v).ToDoubleArray();
            results.Add(Compare(analytic[xs.Length + j], current, x => session.AssignVariable(v, new Tensor((double[])x.Clone(), v.Shape, DType.Float64)), Loss, delta, tol));
        }
        return new GradientCheckResult(results, tol);
    }

    /// <summary>Central differences over each element of <paramref name="x"/> (changed in place; <paramref name="apply"/> pushes it to the graph).</summary>
    private static GradientCheckInput Compare(double[] analytic, double[] x, Action<double[]> apply, Func<double> loss, double delta, GradientTolerance tol)
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
        double worstAbs = 0, worstRel = 0, worstRatio = 0;
        var at = x.Length == 0 ? -1 : 0;
        for (var k = 0; k < x.Length; k++)
        {
            var a = analytic[k];
            var n = numeric[k];
            var abs = Math.Abs(a - n);
            if (double.IsNaN(abs)) abs = double.PositiveInfinity;
            var rel = abs == 0 ? 0 : abs / Math.Abs(n);
            if (double.IsNaN(rel)) rel = double.PositiveInfinity;
            var ratio = tol.Ratio(a, n);
            worstAbs = Math.Max(worstAbs, abs);
            worstRel = Math.Max(worstRel, rel);
            if (ratio > worstRatio) { worstRatio = ratio; at = k; }
        }
        return new GradientCheckInput(worstAbs, worstRel, worstRatio, at, analytic, numeric);
    }

}
