namespace Nabla.Tests.Support;

public static partial class ErrorCases
{
    private static IEnumerable<ErrorCase> CollectiveCases()
    {
        yield return Shape("AllReduce", "int32 value", g => g.AllReduce([Of(g, DType.Int32, 3)]), "AllReduce 'AllReduce': sums float32 or float64 values, got int32");
        yield return Shape("AllReduce", "float32 and float64 values", g => g.AllReduce([Of(g, DType.Float32, 3), Of(g, DType.Float64, 2)]),
            "values must share one dtype: input 0 is float32, input 1 is float64");
        yield return Shape("AllReduce", "no values", g => g.AllReduce([]), "AllReduce 'AllReduce': needs at least one value");
        yield return new("AllReduce", "null list", g => g.AllReduce(null!), typeof(ArgumentNullException), "AllReduce values");
    }
}
