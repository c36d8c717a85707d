namespace Nabla.Tests.Support;

public static partial class ErrorCases
{
    private static IEnumerable<ErrorCase> ConvolutionCases()
    {
        yield break;
    }
}
