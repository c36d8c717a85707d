namespace Nabla.Tests.Gradients;

public static partial class OpCases
{
    /// <summary>
    /// AllReduce in a session on its own (a group of one: each sum is the value itself), so the gradient is
    /// checked like any op's; sums over several members are tested in AllReduceOpTests.
    /// </summary>
    private static IEnumerable<OpCase> Collective()
    {
        yield return new("AllReduce", "group of one, two values", (g, x) => Flat(g, g.AllReduce([x[0], x[1]])), [U([3, 4]), U([5], 2)]);
        yield return new("AllReduce", "group of one, scalar, size-1 and empty values",
            (g, x) => Flat(g, g.AllReduce([x[0], x[1], x[2]])), [U([]), U([1, 1], 2), U([0, 3], 3)]);
    }
}
