using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// One kernel call of a compiled plan: the node, the slots of its inputs, outputs and workspaces,
/// their concrete shapes, what <see cref="OpDef.Prepare"/> decided, and which outputs anyone reads.
/// </summary>
internal sealed class PlanStep
{
    public required Operation Op { get; init; }
    public required int Index { get; set; }
    public required int[] InputSlots { get; init; }
    public required int[] OutputSlots { get; init; }
    public required Shape[] InputShapes { get; init; }
    public required Shape[] OutputShapes { get; init; }

    /// <summary>Per input: its value is fed or constant, so <see cref="OpDef.PreRunCheck"/> saw it on the host before the run.</summary>
    public required bool[] HostVisibleInputs { get; init; }

    /// <summary>Per output: the input it aliases (declared by Prepare), or −1.</summary>
    public required int[] AliasOf { get; init; }

    /// <summary>Per output: a later step reads it, or the run fetches it.</summary>
    public bool[] OutputUsed { get; set; } = [];

    /// <summary>Slots of the workspaces Prepare declared.</summary>
    public int[] WorkspaceSlots { get; set; } = [];

    /// <summary>For an in-place all-reduce (<see cref="Plan"/>'s PackCollectives): the slot spanning its packed inputs, else −1.</summary>
    public int PackedSpan { get; set; } = -1;

    /// <summary>Device-side checks enqueued before the kernel (inputs) and after it (outputs, CheckNumerics).</summary>
    public DeviceCheck[] ChecksBefore { get; set; } = [];

    /// <inheritdoc cref="ChecksBefore"/>
    public DeviceCheck[] ChecksAfter { get; set; } = [];

    /// <summary>A device-side check runs before this step, so state writes must honour the run's abort flags.</summary>
    public bool AfterDeviceCheck { get; set; }

    /// <summary>Per-step backend state from Prepare.</summary>
    public object? Prepared { get; set; }

    /// <summary>Set when this step runs a fused element-wise program in place of several nodes (<see cref="Nabla.Fusion"/>); <see cref="Op"/> is then its last node.</summary>
    public FusedStep? Fusion { get; init; }

    /// <summary>
    /// A fused step that runs as this MatMul/Conv2D's output epilogue (it comes right after this step in the plan and reads
    /// this step's output, which nothing else reads): the backend runs it on the output as the kernel produces it, if it can.
    /// </summary>
    public PlanStep? Epilogue { get; set; }

    /// <summary>This fused step is another step's <see cref="Epilogue"/>: its outputs are live from that step on, and the run skips it when the producer ran it.</summary>
    public bool RunsAsEpilogue { get; set; }

    /// <summary>Whether the step changes session state (an assignment, an optimizer update, a collective): reading a variable or advancing a random counter does not count.</summary>
    public bool WritesState => Op.Def.IsStateful && Op.Type is not ("Variable" or "Random");

    /// <summary>What the run statistics and the plan listing call this step's kernel.</summary>
    public string KernelName => Fusion is null ? Op.Name : $"fused[{string.Join(",", Fusion.Members.Select(m => m.Name))}]";

    /// <summary>The op type, or "Fused".</summary>
    public string KernelType => Fusion is null ? Op.Type : "Fused";

    /// <summary>
    /// Whether the step enqueues device work: not when every output is an alias (except an in-place all-reduce, which
    /// sums its aliased values), nor for the reads of session state (variables, constants) and NoOp, whose kernels only
    /// point slots at buffers.
    /// </summary>
    public bool LaunchesWork => Fusion is not null || !(Op.Type is "Variable" or "Const" or "NoOp" || (AliasOf.Length > 0 && AliasOf.All(a => a >= 0) && PackedSpan < 0));

    /// <summary>Runs the step's kernel (or its fused program).</summary>
    public void Execute(KernelContext ctx)
    {
        if (Fusion is { } f) f.Run(ctx);
        else Op.Def.Kernel(ctx);
    }
}

/// <summary>
/// A compiled request (fetches, targets, feed shapes): pruned to the needed subgraph, ordered,
/// shapes resolved, each op's Prepare run, and a static memory plan that places every value in the
/// session's arenas. Executing it allocates nothing.
/// </summary>
internal sealed class Plan
{
    public required PlanStep[] Steps { get; init; }
    public required int SlotCount { get; init; }
    public required int[] FetchSlots { get; init; }
    public required Shape[] FetchShapes { get; init; }
    public required Dictionary<Output, int> FeedSlots { get; init; }

    /// <summary>
    /// Fed slots a run may point at the caller's array instead of copying it in (<see cref="Nabla.Kernels.IAllocator.Borrow"/>):
    /// not fetched, and read only by kernels whose results do not depend on where their input sits in memory (the GEMM and
    /// convolution kernels read their operands element by element or through packing). Element-wise kernels and reductions
    /// are excluded: their vector split follows the 64-byte alignment the arenas guarantee, which keeps float32 results
    /// independent of where the GC placed an array.
    /// </summary>
    public required HashSet<int> BorrowableFeeds { get; init; }

    /// <summary>Op types whose kernels may read a borrowed feed (see <see cref="BorrowableFeeds"/>).</summary>
    private static readonly HashSet<string> ReadsAnyAlignment = ["MatMul", "Conv2D", "Conv2DBackpropFilter"];
    public required MemoryPlan Memory { get; init; }

    /// <summary>Per slot: dtype and length (for arena views).</summary>
    public required (DType DType, int Length)[] SlotTypes { get; init; }

    /// <summary>Device-side check sites, in plan order; the run's flags hold two int64 per site.</summary>
    public required DeviceCheck[] Checks { get; init; }

    /// <summary>Steps that enqueue device work (<see cref="PlanStep.LaunchesWork"/>): the kernels per run.</summary>
    public int KernelCount => Steps.Count(s => s.LaunchesWork);

    /// <summary>The slot table, bound to the session's arenas; reused by every run of this plan (a session runs one request at a time).</summary>
    public RunState? RunState { get; set; }

    public static Plan Compile(Output[] fetches, Operation[] targets, IReadOnlyDictionary<Output, Shape> feedShapes, IBackend backend, SessionOptions options)
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
        var slotTypes = new List<(DType, int)>();
        var shapes = new Dictionary<Output, Shape>();
        var feedSlots = new Dictionary<Output, int>();
        foreach (var (o, s) in feedShapes)
        {
            if (!needed.Contains(o.Op)) continue;
            slots[o] = slotTypes.Count;
            slotTypes.Add((o.DType, s.Size));
            shapes[o] = s;
            feedSlots[o] = slots[o];
        }

        var steps = new List<PlanStep>();
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
            var outSpecs = op.Def.InferChecked(ctx);
            var outSlots = new int[op.NumOutputs];
            for (var k = 0; k < op.NumOutputs; k++)
            {
                var concrete = outSpecs[k].Shape;
                if (!concrete.IsFullyDefined || !concrete.IsCompatibleWith(op.OutputShapes[k]))
                    throw new ShapeException($"{op}: output {k} resolved to {concrete}, incompatible with its static shape {op.OutputShapes[k]}");
                outSlots[k] = slotTypes.Count;
                slotTypes.Add((op.OutputDTypes[k], concrete.Size));
                slots[op[k]] = outSlots[k];
                shapes[op[k]] = concrete;
            }
            var aliasOf = new int[op.NumOutputs];
            Array.Fill(aliasOf, -1);
            steps.Add(new PlanStep
            {
                Op = op,
                Index = steps.Count,
                InputSlots = op.Inputs.Select(i => slots[i]).ToArray(),
                OutputSlots = outSlots,
                InputShapes = inShapes,
                HostVisibleInputs = op.Inputs.Select(i => feedShapes.ContainsKey(i) || i.Op.Type == "Const").ToArray(),
                OutputShapes = outSpecs.Select(s => s.Shape).ToArray(),
                AliasOf = aliasOf,
            });
        }

        var fetchSlots = fetches.Select(f => slots[f]).ToArray();
        var read = new bool[slotTypes.Count];
        foreach (var s in steps) foreach (var i in s.InputSlots) read[i] = true;
        foreach (var f in fetchSlots) read[f] = true;
        foreach (var s in steps) s.OutputUsed = s.OutputSlots.Select(o => read[o]).ToArray();

        // Plan-time preparation: aliases, workspaces, device-side checks, per-step state.
        var checks = new List<DeviceCheck>();
        foreach (var step in steps)
        {
            var before = checks.Count;
            var prepare = new PrepareContext(step, backend, checks);
            step.Op.Def.Prepare?.Invoke(prepare);
            step.ChecksBefore = checks.Skip(before).ToArray();
            step.WorkspaceSlots = prepare.Workspaces.Select(w =>
            {
                var slot = slotTypes.Count;
                slotTypes.Add((w.DType, w.Length));
                return slot;
            }).ToArray();
            if (options.CheckNumerics)
            {
                var after = checks.Count;
                for (var k = 0; k < step.OutputSlots.Length; k++)
                {
                    if (step.AliasOf[k] >= 0 || !step.Op.OutputDTypes[k].IsFloating()) continue;
                    var (op, output, shape) = (step.Op, k, step.OutputShapes[k]);
                    checks.Add(new DeviceCheck(checks.Count, step, CheckKind.Finite, -1 - k, 0,
                        (position, bits) => $"{op}: CheckNumerics found {BitConverter.Int64BitsToDouble(bits)} in output {output} {shape} at flat index {position}"));
                }
                step.ChecksAfter = checks.Skip(after).ToArray();
            }
        }
        // Fusion comes after Prepare (which declared the aliases it looks through) and before the memory plan (which then
        // gives fused intermediates no buffer). CheckNumerics names the node of each bad output, so it keeps every node.
        // Fusion never merges a state write, so this holds before and after it.
        var writesState = steps.Any(s => s.WritesState);
        if (options.Fusion && !options.CheckNumerics && backend.SupportsFusion)
        {
            steps = Fusion.Apply(steps, fetchSlots, slotTypes);
            // By default only plans that write no state (inference) take epilogues; see SessionOptions.OutputEpilogues.
            if (options.OutputEpilogues ?? !writesState) steps = Fusion.AttachEpilogues(steps, fetchSlots);
        }
        var firstCheckStep = checks.Count == 0 ? int.MaxValue : checks.Min(c => c.Step.Index + (c.Input < 0 ? 1 : 0));
        foreach (var step in steps) step.AfterDeviceCheck = step.Index >= firstCheckStep;

        var packed = backend.AllReducesInPlace ? PackCollectives(steps, fetchSlots, slotTypes.Count) : [];
        var memory = PlanMemory(steps, slotTypes, feedSlots, fetchSlots, backend.Memory, packed);
        var borrowable = feedSlots.Values.Where(slot => !fetchSlots.Contains(slot)
            && steps.Where(st => st.InputSlots.Contains(slot)).All(st => st.Fusion is null && ReadsAnyAlignment.Contains(st.Op.Type))).ToHashSet();
        return new Plan
        {
            Steps = steps.ToArray(),
            SlotCount = slotTypes.Count,
            SlotTypes = slotTypes.ToArray(),
            FetchSlots = fetchSlots,
            FetchShapes = fetches.Select(f => shapes[f]).ToArray(),
            FeedSlots = feedSlots,
            BorrowableFeeds = borrowable,
            Memory = memory,
            Checks = checks.ToArray(),
        };
    }

    /// <summary>
    /// In-place all-reduce (on backends with <see cref="IBackend.AllReducesInPlace"/>): an <c>AllReduce</c> step whose every
    /// value is a kernel's own output that nothing else reads (not fetched, not read by another step, not an alias, not
    /// session state) sums its values where they are. Its outputs become aliases of its inputs, and its staging workspace
    /// becomes the span of all its values (<see cref="PlanStep.PackedSpan"/>; Prepare already sized it for the values one
    /// after another, each at the arena's alignment), which the memory plan places over the values for as long as any of
    /// them lives. The collective then sums that span in one call, so a data-parallel step copies no gradient into or
    /// out of a staging buffer. Steps whose values do not qualify keep the staging form.
    /// </summary>
    private static List<PackedValues> PackCollectives(List<PlanStep> steps, int[] fetchSlots, int slotCount)
    {
        if (!steps.Any(s => s.Op.Type == "AllReduce")) return [];
        var readers = new int[slotCount];
        foreach (var step in steps) foreach (var i in step.InputSlots) readers[i]++;
        foreach (var f in fetchSlots) readers[f]++;
        var owned = new bool[slotCount];
        foreach (var step in steps)
            for (var k = 0; k < step.OutputSlots.Length; k++)
                owned[step.OutputSlots[k]] = step.AliasOf[k] < 0 && !step.Op.Def.OutputsAreSessionState;
        var packed = new List<PackedValues>();
        foreach (var step in steps)
        {
            if (step.Op.Type != "AllReduce" || step.Fusion is not null || step.WorkspaceSlots.Length != 1) continue;
            if (!step.InputSlots.All(i => owned[i] && readers[i] == 1)) continue;
            for (var k = 0; k < step.AliasOf.Length; k++) step.AliasOf[k] = k;
            var span = step.WorkspaceSlots[0];
            step.WorkspaceSlots = [];
            step.PackedSpan = span;
            packed.Add(new PackedValues(span, step.InputSlots));
        }
        return packed;
    }

    private static long AlignedBytes(long length, int storageBytes, int alignment) =>
        (length * storageBytes + alignment - 1) / alignment * alignment;

    /// <summary>
    /// Lifetimes per buffer: a value is born at its producer (feeds before the first step), an alias
    /// extends its root's life to its own last reader, fetched values live to the end, workspaces live
    /// during their step; session state and aliases take no arena space. The values of an in-place
    /// all-reduce (<paramref name="packed"/>) are one region, live from the first one's birth to the last one's end.
    /// </summary>
    private static MemoryPlan PlanMemory(List<PlanStep> steps, List<(DType DType, int Length)> slotTypes, Dictionary<Output, int> feedSlots,
        int[] fetchSlots, IAllocator allocator, List<PackedValues> packed)
    {
        var root = Enumerable.Range(0, slotTypes.Count).ToArray();
        var owns = new bool[slotTypes.Count];
        var start = new int[slotTypes.Count];
        var end = new int[slotTypes.Count];
        Array.Fill(end, -2);
        foreach (var s in feedSlots.Values) { owns[s] = true; start[s] = -1; end[s] = -1; }
        foreach (var step in steps)
        {
            foreach (var i in step.InputSlots) end[root[i]] = Math.Max(end[root[i]], step.Index);
            for (var k = 0; k < step.OutputSlots.Length; k++)
            {
                var o = step.OutputSlots[k];
                if (step.AliasOf[k] >= 0) { root[o] = root[step.InputSlots[step.AliasOf[k]]]; continue; }
                if (step.Op.Def.OutputsAreSessionState) continue;
                owns[o] = true;
                // An epilogue writes its outputs while its producer (the step before) still reads that step's inputs.
                start[o] = step.RunsAsEpilogue ? step.Index - 1 : step.Index;
                end[o] = Math.Max(end[o], step.Index);
            }
            foreach (var w in step.WorkspaceSlots) { owns[w] = true; start[w] = end[w] = step.Index; }
        }
        foreach (var f in fetchSlots) end[root[f]] = int.MaxValue;
        // A packed span takes over its members' lifetimes; the members own no region of their own.
        var members = new List<(int Span, int Slot, long Offset)>();
        foreach (var p in packed)
        {
            long offset = 0;
            int first = int.MaxValue, last = int.MinValue;
            foreach (var m in p.Members)
            {
                (first, last) = (Math.Min(first, start[m]), Math.Max(last, Math.Max(end[m], start[m])));
                owns[m] = false;
                members.Add((p.Span, m, offset));
                offset += AlignedBytes(slotTypes[m].Length, allocator.StorageBytes(slotTypes[m].DType), allocator.Alignment);
            }
            var (dtype, length) = slotTypes[p.Span];
            if (offset != (long)length * allocator.StorageBytes(dtype))
                throw new InvalidOperationException($"an in-place AllReduce's span holds {length} elements, its values {offset} bytes (Prepare and the memory plan disagree on the layout)");
            (owns[p.Span], start[p.Span], end[p.Span]) = (true, first, last);
        }
        var regions = new List<MemoryPlan.Region>();
        for (var s = 0; s < slotTypes.Count; s++)
        {
            if (!owns[s]) continue;
            var (dtype, length) = slotTypes[s];
            var bytes = AlignedBytes(length, allocator.StorageBytes(dtype), allocator.Alignment);
            regions.Add(new MemoryPlan.Region(s, allocator.ArenaOf(dtype), bytes, start[s], Math.Max(end[s], start[s])));
        }
        var memory = MemoryPlan.Assign(slotTypes.Count, regions);
        foreach (var (span, slot, offset) in members) memory.PlaceInside(slot, span, offset);
        return memory;
    }

    private static bool IsConsumed(Output o, HashSet<Operation> needed, Output[] fetches) =>
        fetches.Contains(o) || needed.Any(op => op.Inputs.Contains(o));
}

/// <summary>The values of an in-place <c>AllReduce</c> step: the slot spanning them and the member slots it holds, in order.</summary>
internal sealed record PackedValues(int Span, int[] Members);
