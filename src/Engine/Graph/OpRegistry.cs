namespace Nabla;

/// <summary>
/// Every op type, registered explicitly (no reflection, so the library trims and runs under
/// NativeAOT). Each op family file exposes its definitions; adding a family adds one line here.
/// </summary>
internal static class OpRegistry
{
    private static readonly Dictionary<string, OpDef> s_defs = Build();

    private static Dictionary<string, OpDef> Build()
    {
        var all = new List<OpDef>();
        all.AddRange(StateOps.Defs());
        all.AddRange(MathOps.Defs());
        all.AddRange(MatMulOps.Defs());
        all.AddRange(ReduceOps.Defs());
        all.AddRange(ShapeOps.Defs());
        all.AddRange(ArrayOps.Defs());
        all.AddRange(SliceOps.Defs());
        all.AddRange(IndexOps.Defs());
        all.AddRange(NNOps.Defs());
        all.AddRange(ConvOps.Defs());
        all.AddRange(RandomOps.Defs());
        all.AddRange(OptimizerOps.Defs());
        all.AddRange(PoolingOps.Defs());
        all.AddRange(BatchNormOps.Defs());
        all.AddRange(RecurrentOps.Defs());
        all.AddRange(CollectiveOps.Defs());
        var d = new Dictionary<string, OpDef>(StringComparer.Ordinal);
        foreach (var def in all)
            if (!d.TryAdd(def.Type, def)) throw new InvalidOperationException($"op {def.Type} registered twice");
        return d;
    }

    public static OpDef Get(string type) => s_defs.TryGetValue(type, out var d) ? d : throw new KeyNotFoundException($"unknown op type '{type}'");

    /// <summary>All registered op types (the coverage test compares these with the test table).</summary>
    public static IReadOnlyCollection<string> Types => s_defs.Keys;
}
