namespace Nabla;

/// <summary>
/// Static buffer assignment, as TensorFlow's and XLA's buffer assignment do it: every value a plan
/// produces (feeds, kernel outputs, workspaces) gets a byte offset in its arena from its lifetime,
/// before anything runs, so the step's peak memory is known in advance and a run allocates nothing.
/// Placement is "greedy by size" (largest buffer first, each at the lowest offset that does not
/// overlap a buffer whose lifetime intersects its own), the heuristic TensorFlow Lite's arena planner
/// uses; the result is within a few percent of the lower bound on the engine's graphs.
/// </summary>
internal sealed class MemoryPlan
{
    /// <summary>A value to place: its arena, its size (already aligned) and the steps it is live in, inclusive (−1 = before the first step).</summary>
    internal readonly record struct Region(int Slot, int Arena, long Bytes, int Start, int End);

    private MemoryPlan(long[] offsets, int[] arenas, Dictionary<int, long> arenaBytes, long lowerBound)
    {
        Offsets = offsets;
        Arenas = arenas;
        ArenaBytes = arenaBytes;
        LiveBytesLowerBound = lowerBound;
    }

    /// <summary>Per slot: byte offset in its arena (meaningless where <see cref="Arenas"/> is −1).</summary>
    public long[] Offsets { get; }

    /// <summary>Per slot: the arena it lives in, or −1 for values that are aliases or session state.</summary>
    public int[] Arenas { get; }

    /// <summary>Bytes each arena needs.</summary>
    public Dictionary<int, long> ArenaBytes { get; }

    /// <summary>Σ of the arenas: the step's peak memory for intermediate values.</summary>
    public long PeakBytes => ArenaBytes.Values.Sum();

    /// <summary>The most bytes live at one step; no placement can use less than this.</summary>
    public long LiveBytesLowerBound { get; }

    /// <summary>Places <paramref name="slot"/> <paramref name="byteOffset"/> bytes into the already placed <paramref name="container"/> (a packed span's member).</summary>
    public void PlaceInside(int slot, int container, long byteOffset)
    {
        if (Arenas[container] < 0) throw new InvalidOperationException($"slot {container} was not placed");
        Arenas[slot] = Arenas[container];
        Offsets[slot] = Offsets[container] + byteOffset;
    }

    public static MemoryPlan Assign(int slotCount, IReadOnlyList<Region> regions)
    {
        var offsets = new long[slotCount];
        var arenas = new int[slotCount];
        Array.Fill(arenas, -1);
        var arenaBytes = new Dictionary<int, long>();
        foreach (var group in regions.GroupBy(r => r.Arena))
        {
            var placed = new List<(Region Region, long Offset)>();
            long top = 0;
            foreach (var r in group.OrderByDescending(r => r.Bytes).ThenBy(r => r.Start).ThenBy(r => r.Slot))
            {
                var offset = LowestFit(r, placed);
                placed.Add((r, offset));
                offsets[r.Slot] = offset;
                arenas[r.Slot] = r.Arena;
                top = Math.Max(top, offset + r.Bytes);
            }
            arenaBytes[group.Key] = top;
        }
        return new MemoryPlan(offsets, arenas, arenaBytes, LowerBound(regions));
    }

    /// <summary>The lowest offset where <paramref name="r"/> fits between the placed regions whose lifetimes overlap its own.</summary>
    private static long LowestFit(Region r, List<(Region Region, long Offset)> placed)
    {
        var conflicts = placed.Where(p => p.Region.Start <= r.End && r.Start <= p.Region.End).OrderBy(p => p.Offset).ToList();
        long candidate = 0;
        foreach (var (c, offset) in conflicts)
        {
            if (candidate + r.Bytes <= offset && r.Bytes > 0) break;
            candidate = Math.Max(candidate, offset + c.Bytes);
        }
        return candidate;
    }

    private static long LowerBound(IReadOnlyList<Region> regions)
    {
        if (regions.Count == 0) return 0;
        int first = regions.Min(r => r.Start), last = regions.Max(r => r.Start);
        long best = 0;
        for (var s = first; s <= last; s++)
        {
            long live = 0;
            foreach (var r in regions) if (r.Start <= s && s <= r.End) live += r.Bytes;
            best = Math.Max(best, live);
        }
        return best;
    }
}
