namespace Nabla;

/// <summary>
/// Identity of a run request: fetched outputs, targets, and fed outputs with their shapes, flattened
/// into one int sequence. Hashing ints instead of formatting a string keeps the per-run cost of
/// finding a cached plan to a few hundred nanoseconds.
/// </summary>
internal sealed class PlanKey : IEquatable<PlanKey>
{
    private readonly int[] _items;
    private readonly int _hash;

    public PlanKey(Output[] fetches, Operation[] targets, IEnumerable<KeyValuePair<Output, Shape>> feeds)
    {
        var items = new List<int>(fetches.Length * 2 + targets.Length + 16);
        foreach (var f in fetches) { items.Add(f.Op.Id); items.Add(f.Index); }
        items.Add(-1);
        foreach (var t in targets) items.Add(t.Id);
        items.Add(-2);
        // Feeds are a mapping: order them so the key does not depend on dictionary order.
        var sorted = feeds.ToArray();
        if (sorted.Length > 1) Array.Sort(sorted, (a, b) => a.Key.Op.Id != b.Key.Op.Id ? a.Key.Op.Id.CompareTo(b.Key.Op.Id) : a.Key.Index.CompareTo(b.Key.Index));
        foreach (var (o, s) in sorted)
        {
            items.Add(o.Op.Id);
            items.Add(o.Index);
            items.Add(s.Rank);
            foreach (var d in s.Span) items.Add(d);
        }
        _items = items.ToArray();
        var h = new HashCode();
        foreach (var i in _items) h.Add(i);
        _hash = h.ToHashCode();
    }

    public bool Equals(PlanKey? other) => other is not null && other._hash == _hash && other._items.AsSpan().SequenceEqual(_items);

    public override bool Equals(object? obj) => obj is PlanKey k && Equals(k);

    public override int GetHashCode() => _hash;
}
