namespace Nabla;

internal static class NNOps
{
    public static IEnumerable<OpDef> Defs() => [];
}
