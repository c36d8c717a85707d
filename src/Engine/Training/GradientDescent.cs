namespace Nabla;

/// <summary>Plain gradient descent as graph ops: v ← v − lr·∂loss/∂v for each trainable variable.</summary>
public sealed class GradientDescentOptimizer(double learningRate)
{
    /// <summary>Step size.</summary>
    public double LearningRate { get; } = learningRate;

    /// <summary>Adds gradient and update nodes; running the returned op performs one step.</summary>
    public Operation Minimize(Output loss, IEnumerable<Variable>? variables = null, string? name = null)
    {
        var g = loss.Graph;
        var vars = (variables ?? g.TrainableVariables).ToArray();
        if (vars.Length == 0) throw new ArgumentException("no trainable variables to minimise over", nameof(variables));
        var grads = g.Gradients([loss], vars.Select(v => v.Value).ToArray());
        using (g.NameScope(name ?? "GradientDescent"))
        {
            var updates = new List<Operation>();
            for (var i = 0; i < vars.Length; i++)
                updates.Add(vars[i].AssignSub(grads[i]!.Value * LearningRate).Op);
            return g.Group(updates, "update");
        }
    }
}
