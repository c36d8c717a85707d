// TEMPORARY: replaced by src/Engine/Training/Optimizers when branch h-opt merges. Do not commit.
#pragma warning disable CS1591
namespace Nabla.Optimizers {

public abstract class Optimizer
{
    public double LearningRate { get; set; } = 0.01;
    public string Name => GetType().Name;
    public virtual IReadOnlyList<Variable> Variables => [];
    public abstract Operation ApplyGradients(IReadOnlyList<(Output Grad, Variable Variable)> gv, string? name = null);
    public static Optimizer FromName(string name) => new SGD();
}

public sealed class SGD(double learningRate = 0.01) : Optimizer
{
    public override Operation ApplyGradients(IReadOnlyList<(Output Grad, Variable Variable)> gv, string? name = null)
    {
        var g = gv[0].Variable.Graph;
        return g.Group(gv.Select(p => p.Variable.AssignSub(p.Grad * learningRate).Op).ToList());
    }
}

}
