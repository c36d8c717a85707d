namespace Nabla.Tests.Gradients;

public static partial class OpCases
{
    private static IEnumerable<OpCase> Convolution()
    {
        yield break;
    }
}
