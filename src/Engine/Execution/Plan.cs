namespace Nabla;

/// <summary>One kernel call of a compiled plan: the node, where its inputs and outputs live, their concrete shapes, and which slots die after it.</summary>
internal sealed class Step
{
    public required Operation Op { get; init; }
    public required int[] InputSlots { get; init; }
    public required int[] OutputSlots { get; init; }
    public required Shape[] InputShapes { get; init; }
    public required Shape[] OutputShapes { get; init; }
    public int[] FreeAfter { get; set; } = [];

    /// <summary>Per input: its value is fed or constant, so <see cref="OpDef.PreRunCheck"/> saw it on the host before the run.</summary>
    public required bool[] HostVisibleInputs { get; init; }
}

/// <summary>
/// A compiled request (fetches, targets, feed shapes): pruned to the needed subgraph, ordered,
/// shapes resolved, and a liveness-based memory plan (each slot released after its last reader).
/// </summary>
internal sealed class Plan
{
    public required Step[] Steps { get; init; }
    public required int SlotCount { get; init; }
    public required int[] FetchSlots { get; init; }
    public required Shape[] FetchShapes { get; init; }
    public required Dictionary<Output, int> FeedSlots { get; init; }

    /// <summary>Slot table and reference counts, reused by every run of this plan (a session runs one request at a time).</summary>
    public RunState? RunState { get; set; }

    public static Plan Compile(Output[] fetches, Operation[] targets, IReadOnlyDictionary<Output, Shape> feedShapes)
    {
        var fedOps = new HashSet<Operation>(feedShapes.Keys.Select(o => o.Op));
        var needed = new HashSet<Operation>();
        var stack = new Stack<Operation>(fetches.Select(f => f.Op).Concat(targets));
        while (stack.Count > 0)
        {
            var op = stack.Pop();
            if (!needed.Add(op) || fedOps.Contains(op)) continue;
            foreach (var i in op.Inputs) stack.Push(i.Op);
            foreach (var c in op.ControlInputs) stack.Push(c);
        }

        var slots = new Dictionary<Output, int>();
        var shapes = new Dictionary<Output, Shape>();
        var feedSlots = new Dictionary<Output, int>();
        foreach (var (o, s) in feedShapes)
        {
            if (!needed.Contains(o.Op)) continue;
            slots[o] = slots.Count;
            shapes[o] = s;
            feedSlots[o] = slots[o];
        }

        var steps = new List<Step>();
        foreach (var op in needed.OrderBy(o => o.Id))
        {
            if (fedOps.Contains(op))
            {
                for (var i = 0; i < op.NumOutputs; i++)
                    if (!feedShapes.ContainsKey(op[i]) && IsConsumed(op[i], needed, fetches))
                        throw new FeedException($"output {i} of {op} is needed but only some outputs of that op were fed");
                continue;
            }
            if (op.Type == "Placeholder")
                throw new FeedException($"Placeholder '{op.Name}' must be fed a {op.OutputDTypes[0].Name()} tensor of shape {op.OutputShapes[0]}");

            var inShapes = op.Inputs.Select(i => shapes[i]).ToArray();
            var ctx = new InferContext(op.Type, op.Name, inShapes, op.Inputs.Select(i => i.DType).ToArray(), op.Attrs);
            var outSpecs = op.Def.Infer(ctx);
            var outSlots = new int[op.NumOutputs];
            for (var k = 0; k < op.NumOutputs; k++)
            {
                var concrete = outSpecs[k].Shape;
                if (!concrete.IsFullyDefined || !concrete.IsCompatibleWith(op.OutputShapes[k]))
                    throw new ShapeException($"{op}: output {k} resolved to {concrete}, incompatible with its static shape {op.OutputShapes[k]}");
                outSlots[k] = slots.Count;
                slots[op[k]] = outSlots[k];
                shapes[op[k]] = concrete;
            }
            steps.Add(new Step
            {
                Op = op,
                InputSlots = op.Inputs.Select(i => slots[i]).ToArray(),
                OutputSlots = outSlots,
                InputShapes = inShapes,
                HostVisibleInputs = op.Inputs.Select(i => feedShapes.ContainsKey(i) || i.Op.Type == "Const").ToArray(),
                OutputShapes = outSpecs.Select(s => s.Shape).ToArray(),
            });
        }

        var fetchSlots = fetches.Select(f => slots[f]).ToArray();
        // Liveness: a slot dies after its last reader; fetched slots live to the end of the run.
        var lastUse = new int[slots.Count];
        Array.Fill(lastUse, -1);
        for (var s = 0; s < steps.Count; s++)
        {
            foreach (var i in steps[s].InputSlots) lastUse[i] = s;
            foreach (var o in steps[s].OutputSlots) lastUse[o] = Math.Max(lastUse[o], s);
        }
        foreach (var f in fetchSlots) lastUse[f] = int.MaxValue;
        var frees = new List<int>[steps.Count];
        for (var slot = 0; slot < lastUse.Length; slot++)
            if (lastUse[slot] >= 0 && lastUse[slot] < steps.Count) (frees[lastUse[slot]] ??= []).Add(slot);
        for (var s = 0; s < steps.Count; s++) steps[s].FreeAfter = frees[s]?.ToArray() ?? [];

        return new Plan
        {
            Steps = steps.ToArray(),
            SlotCount = slots.Count,
            FetchSlots = fetchSlots,
            FetchShapes = fetches.Select(f => shapes[f]).ToArray(),
            FeedSlots = feedSlots,
        };
    }

    private static bool IsConsumed(Output o, HashSet<Operation> needed, Output[] fetches) =>
        fetches.Contains(o) || needed.Any(op => op.Inputs.Contains(o));
}
