namespace Nabla.Tests.Gradients;

public static partial class OpCases
{
    private static IEnumerable<OpCase> Pooling()
    {
        yield break;
    }
}
