namespace Nabla;

/// <summary>What <see cref="Graph.Gradients(Output[], Output[], Output[], UnconnectedGradients)"/> returns for an x that does not influence any y.</summary>
public enum UnconnectedGradients
{
    /// <summary>Throw a <see cref="GradientException"/> naming the input (default).</summary>
    Error,
    /// <summary>Return zeros shaped like the input.</summary>
    Zero,
    /// <summary>Return null.</summary>
    None,
}

public sealed partial class Graph
{
    /// <summary>∂(Σ y)/∂xᵢ for each x, as new nodes in this graph (tf.gradients).</summary>
    public Output[] Gradients(Output y, params Output[] xs) => Gradients([y], xs).Select(o => o!.Value).ToArray();

    /// <summary>Gradient of Σ y with respect to a variable.</summary>
    public Output Gradient(Output y, Variable x) => Gradients(y, (x ?? throw new ArgumentNullException(nameof(x))).Value)[0];

    /// <summary>
    /// Symbolic reverse-mode differentiation: adds nodes computing Σⱼ ∂(gradYsⱼ · ysⱼ)/∂xᵢ (gradYs
    /// defaults to ones). Fan-out is summed; broadcasting is reduced inside each op's gradient. The
    /// result is itself differentiable, so gradients of gradients work.
    /// </summary>
    /// <exception cref="GradientException">A path from x to y passes through an op without a gradient (the message names it), or x is unconnected and <paramref name="unconnected"/> is Error.</exception>
    /// <exception cref="ArgumentException">A y, x or gradY is <c>default(Output)</c> or belongs to another graph, or <paramref name="gradYs"/> and <paramref name="ys"/> differ in length.</exception>
    public Output?[] Gradients(Output[] ys, Output[] xs, Output[]? gradYs = null, UnconnectedGradients unconnected = UnconnectedGradients.Error)
    {
        RequireOwnArguments(ys, nameof(ys));
        RequireOwnArguments(xs, nameof(xs));
        if (gradYs is not null)
        {
            if (gradYs.Length != ys.Length) throw new ArgumentException($"Gradients: {gradYs.Length} gradYs for {ys.Length} ys", nameof(gradYs));
            RequireOwnArguments(gradYs, nameof(gradYs));
        }
        foreach (var x in xs)
            if (!x.DType.IsFloating()) throw new GradientException($"cannot differentiate with respect to '{x.Name}': dtype {x.DType.Name()} is not floating");
        // Ops on a path x → y: reachable forward from some x and backward from some y.
        var fromX = new HashSet<Operation>(xs.Select(x => x.Op));
        foreach (var op in Operations)
            if (op.Inputs.Any(i => fromX.Contains(i.Op))) fromX.Add(op);
        var toY = new HashSet<Operation>();
        var stack = new Stack<Operation>(ys.Select(y => y.Op));
        while (stack.Count > 0)
        {
            var op = stack.Pop();
            if (!toY.Add(op)) continue;
            foreach (var i in op.Inputs) stack.Push(i.Op);
        }
        var onPath = fromX.Where(toY.Contains).ToHashSet();

        var pending = new Dictionary<Output, List<Output>>();
        using var scope = NameScope("gradients");
        for (var j = 0; j < ys.Length; j++)
        {
            var seed = gradYs?[j] ?? OnesLike(ys[j]);
            if (!pending.TryGetValue(ys[j], out var list)) pending[ys[j]] = list = [];
            list.Add(seed);
        }

        var xSet = new HashSet<Output>(xs);
        foreach (var op in onPath.OrderByDescending(o => o.Id))
        {
            var grads = new Output?[op.NumOutputs];
            var any = false;
            for (var k = 0; k < op.NumOutputs; k++)
            {
                if (!pending.TryGetValue(op[k], out var list)) continue;
                grads[k] = Sum(list);
                any = true;
            }
            if (!any || op.Inputs.Count == 0) continue;
            // Do not differentiate through an x itself past where it is requested, unless it also lies on a longer path.
            if (op.Inputs.All(i => !onPath.Contains(i.Op))) continue;
            if (op.Def.Gradient is null)
                throw new GradientException($"{op.Type} '{op.Name}' is not differentiable ({op.Def.NotDifferentiable ?? "no gradient registered"}), but it lies between the inputs and the output");
            Output?[] inputGrads;
            using (NameScope(op.Name))
                inputGrads = op.Def.Gradient(new GradContext(op, grads));
            for (var i = 0; i < op.Inputs.Count; i++)
            {
                if (inputGrads[i] is not { } gi || !onPath.Contains(op.Inputs[i].Op)) continue;
                if (!pending.TryGetValue(op.Inputs[i], out var list)) pending[op.Inputs[i]] = list = [];
                list.Add(gi);
            }
        }

        var result = new Output?[xs.Length];
        for (var i = 0; i < xs.Length; i++)
        {
            if (pending.TryGetValue(xs[i], out var list)) { result[i] = Sum(list); continue; }
            result[i] = unconnected switch
            {
                UnconnectedGradients.Zero => ZerosLike(xs[i]),
                UnconnectedGradients.None => null,
                _ => throw new GradientException(UnconnectedMessage(xs[i], ys, onPath)),
            };
        }
        return result;
    }

    /// <summary>Says whether x is unrelated to the ys, or related only through ops that pass no gradient (and names those).</summary>
    private static string UnconnectedMessage(Output x, Output[] ys, HashSet<Operation> onPath)
    {
        var targets = string.Join(", ", ys.Select(y => $"'{y.Name}'"));
        if (!onPath.Contains(x.Op)) return $"'{x.Name}' is not connected to {targets}: no gradient path exists";
        // A data path exists, so some op on it returned no gradient for the input leading back to x.
        var blockers = onPath.Where(op => op != x.Op && op.Def.Gradient is not null && op.Inputs.Any(i => onPath.Contains(i.Op))
                && (op.Type is "StopGradient" || op.NumOutputs > 0 && !op.OutputDTypes[0].IsFloating() || op.Inputs.Any(i => onPath.Contains(i.Op) && !i.DType.IsFloating())))
            .OrderBy(op => op.Id).Take(3).Select(op => op.ToString()).ToArray();
        var named = blockers.Length == 0 ? "" : $" ({string.Join(", ", blockers)})";
        return $"'{x.Name}' is not connected to {targets} by a differentiable path: it reaches it only through ops that pass no gradient{named}, such as integer or bool casts, random ops or StopGradient";
    }

    private Output Sum(List<Output> terms)
    {
        var acc = terms[0];
        for (var i = 1; i < terms.Count; i++) acc = Add(acc, terms[i]);
        return acc;
    }

    private void RequireOwnArguments(Output[] outputs, string parameter)
    {
        RequireArguments(outputs, "Gradients", parameter);
        foreach (var o in outputs)
            if (!ReferenceEquals(o.Graph, this)) throw new ArgumentException($"Gradients: {parameter} '{o.Name}' belongs to another graph", parameter);
    }
}
