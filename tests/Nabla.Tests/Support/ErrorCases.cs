using NUnit.Framework;

namespace Nabla.Tests.Support;

/// <summary>
/// One registered error-input case: a bad use of <paramref name="Op"/> (building on a fresh graph, or running) that
/// must throw <paramref name="Exception"/> whose message contains <paramref name="Message"/>.
/// </summary>
public sealed record ErrorCase(string Op, string Label, Action<Graph> Act, Type Exception, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Op}: {Label}";
}

/// <summary>The registry of error-input cases; <see cref="OpCoverageTests"/> counts them per op.</summary>
public static partial class ErrorCases
{
    /// <summary>
    /// Ops with fewer than <see cref="OpCoverageTests.MinErrorCases"/> registered cases, and how many they have:
    /// the shortfall still to fill. The coverage test fails if this differs from the registry in any way.
    /// </summary>
    /// <remarks>
    /// These accept every value of every dtype and shape: their only bad inputs are a default(Output), an input from
    /// another graph, or (Const) a null tensor, and each of those is registered.
    /// </remarks>
    public static readonly IReadOnlyDictionary<string, int> KnownShortfall = new Dictionary<string, int>
    {
        ["Const"] = 1, ["Identity"] = 2, ["OnesLike"] = 2, ["ZerosLike"] = 2, ["StopGradient"] = 2,
    };

    private static Output F32(Graph g, params int[] shape) => g.Placeholder(DType.Float32, new Shape(shape), "x");

    private static Output Of(Graph g, DType dtype, params int[] shape) => g.Placeholder(dtype, new Shape(shape), $"p{g.Operations.Count}");

    private static ErrorCase Shape(string op, string label, Action<Graph> act, string message) => new(op, label, act, typeof(ShapeException), message);

    /// <summary>Every case.</summary>
    public static IReadOnlyList<ErrorCase> All { get; } = [.. Cases(), .. ConvolutionCases(), .. PoolingCases(), .. RecurrentCases(), .. CollectiveCases()];
}

/// <summary>Runs every <see cref="ErrorCases"/> case.</summary>
public class ErrorCaseTests
{
    public static IEnumerable<ErrorCase> AllCases() => ErrorCases.All;

    [TestCaseSource(nameof(AllCases))]
    public void BadInputIsRefused(ErrorCase c)
    {
        var g = new Graph();
        var ex = Assert.Throws(c.Exception, () => c.Act(g), c.ToString());
        Assert.That(ex!.Message, Does.Contain(c.Message).And.Contain(c.Op), c.ToString());
    }
}
