namespace Nabla.Tests.Support;

public static partial class ErrorCases
{
    private static IEnumerable<ErrorCase> PoolingCases()
    {
        yield break;
    }
}
