using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// The plan compiler's fusion pass (issue 10): maximal trees of element-wise steps of one shape and one
/// floating dtype become one <see cref="FusedStep"/> that reads each input once and writes only the
/// values something outside the tree reads (or the run fetches). Intermediates get no slot in the memory
/// plan. What fuses: unary functions, binary arithmetic and comparisons, logic, select, casts between a
/// float and bool, ZerosLike/OnesLike, uniform random numbers (the dropout mask), and steps that only
/// alias their input (SumToShape, BroadcastLike, Identity of the same shape), which cost nothing fused.
/// </summary>
/// <remarks>
/// Steps are visited in plan order; a step joins the open group(s) that produce its inputs, and a group
/// closes ("seals") as soon as a step outside it reads one of its values, or a step writes session state:
/// the fused step runs at its last member's place, so no outside reader may come before that. Integer
/// work is never fused (it carries device-side checks), nor is any step with workspaces or checks.
/// </remarks>
internal static class Fusion
{
    private enum Role { None, Compute, BoolOnly, Alias }

    private sealed class Group(DType compute, Shape shape)
    {
        public DType Compute { get; } = compute;
        public Shape Shape { get; } = shape;
        public List<PlanStep> Members { get; } = [];
        public bool Sealed { get; set; }
        public Group? MergedInto { get; set; }
        public int Computes { get; set; }

        public Group Find() => MergedInto is null ? this : MergedInto.Find();
    }

    private static readonly Dictionary<string, UnaryOp> Unary = Enum.GetValues<UnaryOp>().ToDictionary(o => o.ToString());
    private static readonly Dictionary<string, BinaryOp> Binary = Enum.GetValues<BinaryOp>().ToDictionary(o => o.ToString());

    /// <summary>Returns the steps with fusible groups replaced by fused steps, renumbered.</summary>
    public static List<PlanStep> Apply(List<PlanStep> steps, int[] fetchSlots, IReadOnlyList<(DType DType, int Length)> slotTypes)
    {
        var groupOfSlot = new Dictionary<int, Group>();
        var groupOfOp = new Dictionary<Operation, Group>();
        var open = new List<Group>();
        var all = new List<Group>();
        foreach (var s in steps)
        {
            var (role, dtype) = Classify(s);
            var read = s.InputSlots.Where(groupOfSlot.ContainsKey).Select(i => groupOfSlot[i].Find())
                .Concat(s.Op.ControlInputs.Where(groupOfOp.ContainsKey).Select(c => groupOfOp[c].Find())).Distinct().ToList();
            Group? target = null;
            if (role != Role.None)
            {
                var shape = s.OutputShapes[0];
                var candidates = read.Where(g => !g.Sealed && g.Shape == shape && (dtype == DType.Bool || g.Compute == dtype)).ToList();
                if (candidates.Count > 0)
                {
                    target = candidates[0];
                    foreach (var g in candidates.Skip(1).Where(g => g.Compute == target.Compute))
                    {
                        g.MergedInto = target;
                        target.Members.AddRange(g.Members);
                        target.Computes += g.Computes;
                        open.Remove(g);
                    }
                }
                else if (role == Role.Compute)
                {
                    target = new Group(dtype, shape);
                    open.Add(target);
                    all.Add(target);
                }
            }
            foreach (var g in read) if (g.Find() != target) g.Find().Sealed = true;
            if (s.WritesState)
                foreach (var g in open) g.Sealed = true;
            if (target is null) continue;
            target.Members.Add(s);
            if (role != Role.Alias) target.Computes++;
            groupOfSlot[s.OutputSlots[0]] = target;
            groupOfOp[s.Op] = target;
        }

        var fused = all.Where(g => g.MergedInto is null && g.Computes >= 2).ToList();
        if (fused.Count == 0) return steps;
        // Who reads each slot as data. A fused member that reads an input only for its shape (SumToShape's and
        // BroadcastLike's template, ZerosLike's, Random's) does not make it a live output: the fused step that
        // replaces the member does not read it. Steps left unfused keep every input (their kernels may read it).
        var fusedMembers = new HashSet<PlanStep>(fused.SelectMany(g => g.Members));
        var readers = new Dictionary<int, List<PlanStep>>();
        foreach (var s in steps)
            foreach (var i in fusedMembers.Contains(s) ? DataInputs(s).Select(k => s.InputSlots[k]) : s.InputSlots)
            {
                if (!readers.TryGetValue(i, out var list)) readers[i] = list = [];
                list.Add(s);
            }
        var fetched = new HashSet<int>(fetchSlots);
        var replaced = new Dictionary<PlanStep, PlanStep?>();
        foreach (var g in fused)
        {
            g.Members.Sort((a, b) => a.Index.CompareTo(b.Index));
            var step = Build(g, readers, fetched, slotTypes);
            foreach (var m in g.Members) replaced[m] = null;
            replaced[g.Members[^1]] = step;
        }
        var result = new List<PlanStep>();
        foreach (var s in steps)
        {
            if (replaced.TryGetValue(s, out var r)) { if (r is not null) result.Add(r); }
            else result.Add(s);
        }
        for (var k = 0; k < result.Count; k++) result[k].Index = k;
        return result;
    }

    /// <summary>What a step can be in a fused group, and its compute dtype (bool for steps that only see booleans).</summary>
    private static (Role, DType) Classify(PlanStep s)
    {
        var op = s.Op;
        if (op.NumOutputs != 1 || s.ChecksBefore.Length > 0 || s.WorkspaceSlots.Length > 0 || op.Def.OutputsAreSessionState) return (Role.None, default);
        var output = op.OutputDTypes[0];
        if (output is not (DType.Float32 or DType.Float64 or DType.Bool)) return (Role.None, default);
        var input = op.Inputs.Count > 0 ? op.Inputs[0].DType : output;
        if (s.AliasOf[0] >= 0)
            return s.AliasOf[0] == 0 && s.InputShapes[0] == s.OutputShapes[0] && input == output && !op.Def.IsStateful ? (Role.Alias, output) : (Role.None, default);
        if (op.Def.IsStateful && op.Type != "Random") return (Role.None, default);
        if (Unary.ContainsKey(op.Type))
            return op.Type == "LogicalNot" ? (Role.BoolOnly, DType.Bool) : input.IsFloating() ? (Role.Compute, input) : (Role.None, default);
        if (Binary.ContainsKey(op.Type))
            return input.IsFloating() ? (Role.Compute, input) : input == DType.Bool ? (Role.BoolOnly, DType.Bool) : (Role.None, default);
        return op.Type switch
        {
            "Select" when op.Inputs[1].DType.IsFloating() => (Role.Compute, op.Inputs[1].DType),
            "Cast" when input.IsFloating() && output == DType.Bool => (Role.Compute, input),
            "Cast" when input == DType.Bool && output.IsFloating() => (Role.Compute, output),
            "ZerosLike" or "OnesLike" when output.IsFloating() => (Role.Compute, output),
            "Random" when output.IsFloating() && op.Attrs.Get<RandomDistribution>("dist") == RandomDistribution.Uniform => (Role.Compute, output),
            _ => (Role.None, default),
        };
    }

    /// <summary>The inputs a member reads as data: an alias reads its source; ZerosLike, OnesLike and Random read only their input's shape.</summary>
    private static int[] DataInputs(PlanStep s) =>
        s.AliasOf[0] == 0 ? [0] : s.Op.Type is "ZerosLike" or "OnesLike" or "Random" ? [] : Enumerable.Range(0, s.InputSlots.Length).ToArray();

    private static PlanStep Build(Group g, Dictionary<int, List<PlanStep>> readers, HashSet<int> fetched, IReadOnlyList<(DType DType, int Length)> slotTypes)
    {
        var members = new HashSet<PlanStep>(g.Members);
        var produced = new HashSet<int>(g.Members.Select(m => m.OutputSlots[0]));
        var shape = g.Shape.ToArray();

        // Registers 0..n-1: the external inputs, in first-use order.
        var register = new Dictionary<int, int>();
        var inputSlots = new List<int>();
        var inputShapes = new List<Shape>();
        var inputs = new List<FusedInput>();
        foreach (var m in g.Members)
            foreach (var i in DataInputs(m))
            {
                var slot = m.InputSlots[i];
                if (produced.Contains(slot) || register.ContainsKey(slot)) continue;
                register[slot] = inputSlots.Count;
                inputSlots.Add(slot);
                inputShapes.Add(m.InputShapes[i]);
                inputs.Add(new FusedInput(m.Op.Inputs[i].DType, ShapeRules.BroadcastStrides(m.InputShapes[i], g.Shape), shape));
            }

        var code = new List<FusedInstruction>();
        var randoms = new List<Operation>();
        long unfusedBytes = 0;
        foreach (var m in g.Members)
        {
            var op = m.Op;
            int R(int i) => register[m.InputSlots[i]];
            FusedInstruction? ins = op.Type switch
            {
                _ when m.AliasOf[0] == 0 => null,
                "Cast" when op.Inputs[0].DType == DType.Bool => null,
                "Cast" => new FusedInstruction(FusedCode.NotZero, A: R(0)),
                "LogicalNot" => new FusedInstruction(FusedCode.LogicalNot, A: R(0)),
                "Select" => new FusedInstruction(FusedCode.Select, A: R(0), B: R(1), C: R(2)),
                "ZerosLike" => new FusedInstruction(FusedCode.Constant, Value: 0),
                "OnesLike" => new FusedInstruction(FusedCode.Constant, Value: 1),
                "Random" => new FusedInstruction(FusedCode.RandomUniform, A: randoms.Count, Key: op.Attrs.Get<ulong>("key"), Lo: op.Attrs.Double("a"), Hi: op.Attrs.Double("b")),
                _ when Unary.TryGetValue(op.Type, out var u) => new FusedInstruction(FusedCode.Unary, Unary: u, A: R(0)),
                _ => new FusedInstruction(FusedCode.Binary, Binary: Binary[op.Type], A: R(0), B: R(1)),
            };
            if (op.Type == "Random") randoms.Add(op);
            if (ins is { } instruction)
            {
                register[m.OutputSlots[0]] = inputs.Count + code.Count;
                code.Add(instruction);
                unfusedBytes += Bytes(slotTypes, m.OutputSlots[0]) + DataInputs(m).Sum(i => Bytes(slotTypes, m.InputSlots[i]));
            }
            else register[m.OutputSlots[0]] = R(0);
        }

        // Live outputs: read by a step outside the group, or fetched.
        var outputSlots = g.Members.Select(m => m.OutputSlots[0])
            .Where(o => fetched.Contains(o) || (readers.TryGetValue(o, out var rs) && rs.Any(r => !members.Contains(r)))).ToArray();
        var program = new FusedProgram(g.Compute, shape, inputs.ToArray(), code.ToArray(),
            outputSlots.Select(o => (register[o], slotTypes[o].DType)).ToArray(), randoms.Count);
        var last = g.Members[^1];
        var aliasOf = new int[outputSlots.Length];
        Array.Fill(aliasOf, -1);
        return new PlanStep
        {
            Op = last.Op,
            Index = last.Index,
            InputSlots = inputSlots.ToArray(),
            OutputSlots = outputSlots,
            InputShapes = inputShapes.ToArray(),
            OutputShapes = outputSlots.Select(_ => g.Shape).ToArray(),
            HostVisibleInputs = new bool[inputSlots.Count],
            AliasOf = aliasOf,
            OutputUsed = outputSlots.Select(_ => true).ToArray(),
            Fusion = new FusedStep(program, g.Members.Select(m => m.Op).ToArray(), randoms.ToArray(),
                inputSlots.Sum(i => Bytes(slotTypes, i)), outputSlots.Sum(o => Bytes(slotTypes, o)), unfusedBytes),
        };
    }

    /// <summary>
    /// Makes a float32 fused step the output epilogue of the MatMul or Conv2D whose output it reads (bias + activation after
    /// the GEMM), when that output is read by nothing else and not fetched, the program has the output's shape, and every
    /// other input of the program exists before the producer runs, with no state written in between. The fused step moves
    /// to right after its producer; the backend may then run it on the output rows as the kernel finishes them.
    /// </summary>
    public static List<PlanStep> AttachEpilogues(List<PlanStep> steps, int[] fetchSlots)
    {
        var producer = new Dictionary<int, PlanStep>();
        var readers = new Dictionary<int, int>();
        foreach (var s in steps)
        {
            foreach (var o in s.OutputSlots) producer[o] = s;
            foreach (var i in s.InputSlots.Distinct()) readers[i] = readers.GetValueOrDefault(i) + 1;
        }
        var fetched = new HashSet<int>(fetchSlots);
        var moves = new Dictionary<PlanStep, (PlanStep Epilogue, List<PlanStep> Hoisted)>();
        foreach (var f in steps)
        {
            if (f.Fusion is not { } fused || fused.Program.Compute != DType.Float32) continue;
            var p = f.InputSlots.Select(i => producer.GetValueOrDefault(i)).FirstOrDefault(c =>
                c is not null && c.Op.Type is "MatMul" or "Conv2D" && c.Fusion is null && c.Epilogue is null && c.OutputSlots.Length == 1
                && c.Op.OutputDTypes[0] == DType.Float32 && c.OutputShapes[0] == f.OutputShapes[0] && c.OutputShapes[0].Size == fused.Program.Length
                && readers.GetValueOrDefault(c.OutputSlots[0]) == 1 && !fetched.Contains(c.OutputSlots[0]));
            if (p is null) continue;
            // Every other input must exist when the producer runs: made before it, or bound by a step that only points a slot at
            // session state (a variable's or constant's read, which has no inputs and launches nothing), moved before it.
            var late = f.InputSlots.Where(i => i != p.OutputSlots[0] && producer.TryGetValue(i, out var q) && q.Index > p.Index).Select(i => producer[i]).Distinct().ToList();
            var bindsOnly = late.All(q => !q.LaunchesWork && q.InputSlots.Length == 0 && q.Op.Type is "Variable" or "Const");
            var noStateBetween = steps.Skip(p.Index + 1).Take(f.Index - p.Index - 1)
                .All(s => !s.WritesState && s.ChecksBefore.Length == 0);
            if (!bindsOnly || !noStateBetween) continue;
            p.Epilogue = f;
            f.RunsAsEpilogue = true;
            WriteInPlace(f, p.OutputSlots[0]);
            moves[p] = (f, late);
        }
        if (moves.Count == 0) return steps;
        var hoisted = moves.Values.SelectMany(m => m.Hoisted).ToHashSet();
        var result = new List<PlanStep>(steps.Count);
        foreach (var s in steps)
        {
            if (s.RunsAsEpilogue || hoisted.Contains(s)) continue;
            if (moves.TryGetValue(s, out var m))
            {
                result.AddRange(m.Hoisted);
                result.Add(s);
                result.Add(m.Epilogue);
            }
            else result.Add(s);
        }
        for (var k = 0; k < result.Count; k++) result[k].Index = k;
        return result;
    }

    /// <summary>
    /// Lets a one-output epilogue write over its producer's output, which nothing else reads: the output aliases that input,
    /// so the memory plan gives it no buffer of its own, and the rows the kernel just wrote are overwritten while they are
    /// in cache instead of a second buffer being streamed to memory (LeNet's first layer: 9.6 MB at batch 512). Every
    /// fused kernel reads an element's inputs before it writes that element's output, and a one-output program writes
    /// its output last (an instruction after it would be dead code), so reading and writing the same contiguous buffer
    /// gives the same bits.
    /// </summary>
    private static void WriteInPlace(PlanStep epilogue, int producerOutput)
    {
        var program = epilogue.Fusion!.Program;
        if (program.Outputs.Length != 1 || program.Outputs[0].DType != DType.Float32) return;
        var input = Array.IndexOf(epilogue.InputSlots, producerOutput);
        if (input < 0 || program.Inputs[input] is not { DType: DType.Float32, Access: FusedAccess.Contiguous }) return;
        epilogue.AliasOf[0] = input;
    }

    private static long Bytes(IReadOnlyList<(DType DType, int Length)> slotTypes, int slot) => (long)slotTypes[slot].Length * slotTypes[slot].DType.SizeOf();
}

/// <summary>
/// A plan step that runs a <see cref="FusedProgram"/>: the element-wise nodes it replaces, the random
/// nodes whose run counters it draws, and the bytes it moves (against the bytes the unfused kernels moved).
/// </summary>
internal sealed class FusedStep(FusedProgram program, Operation[] members, Operation[] randoms, long bytesRead, long bytesWritten, long unfusedBytes)
{
    private readonly DeviceBuffer[] _inputs = new DeviceBuffer[program.Inputs.Length];
    private readonly DeviceBuffer[] _outputs = new DeviceBuffer[program.Outputs.Length];
    private readonly ulong[] _counters = new ulong[randoms.Length];

    public FusedProgram Program { get; } = program;

    public Operation[] Members { get; } = members;

    public long BytesRead { get; } = bytesRead;

    public long BytesWritten { get; } = bytesWritten;

    public long UnfusedBytes { get; } = unfusedBytes;

    /// <summary>Enqueues the program; each random member advances its own counter, as its unfused kernel would.</summary>
    public void Run(KernelContext ctx)
    {
        Bind(ctx);
        Launch(ctx);
    }

    /// <summary>
    /// Binds the buffers and draws the counters (ctx.Step must be this fused step), then arms the program as the output
    /// epilogue of the backend's next MatMul/Conv2D; returns false when the backend has no epilogues (the caller then
    /// <see cref="Launch"/>es it after the kernel: the counters are drawn once either way).
    /// </summary>
    public bool Arm(KernelContext ctx)
    {
        Bind(ctx);
        return ctx.Backend.ArmOutputEpilogue(Program, _inputs, _outputs, _counters);
    }

    /// <summary>Enqueues the program on the buffers and counters bound last (an armed epilogue its producer did not take).</summary>
    public void Launch(KernelContext ctx) => ctx.Backend.Fused(Program, _inputs, _outputs, _counters);

    private void Bind(KernelContext ctx)
    {
        for (var i = 0; i < _inputs.Length; i++) _inputs[i] = ctx.Input(i);
        for (var o = 0; o < _outputs.Length; o++)
        {
            // An epilogue that writes over its producer's output (Fusion.WriteInPlace) shares that input's buffer.
            var over = ctx.Step.AliasOf[o];
            if (over >= 0) ctx.AliasInput(o, over);
            _outputs[o] = over >= 0 ? _inputs[over] : ctx.Output(o);
        }
        for (var r = 0; r < randoms.Length; r++) _counters[r] = ctx.State.NextCounter(randoms[r]);
    }
}
