namespace Nabla;

/// <summary>Copies between regions: concat, split, slice, pad, tile, broadcast_to, gather, one_hot.</summary>
internal static class ArrayOps
{
    public static IEnumerable<OpDef> Defs() => [];
}
