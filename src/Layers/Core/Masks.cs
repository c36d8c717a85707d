using System.Runtime.CompilerServices;

namespace Nabla.Layers;

/// <summary>
/// Keras's <c>_keras_mask</c>: the boolean [batch, time] mask attached to a layer output, kept beside the graph (keyed by
/// the producing node) rather than in it. <see cref="Layer"/> reads the masks of a call's inputs and attaches the one
/// <see cref="Layer.ComputeMask"/> returns to its output, so masks travel through Sequential and functional models
/// alike (a functional model replays its calls through <see cref="Layer.Apply(Output[], bool)"/>).
/// </summary>
internal static class Masks
{
    private static readonly ConditionalWeakTable<Operation, Dictionary<int, Output>> s_masks = [];

    public static Output? Get(Output t)
    {
        if (t.Op is null) return null;
        lock (s_masks)
            return s_masks.TryGetValue(t.Op, out var d) && d.TryGetValue(t.Index, out var m) ? m : null;
    }

    public static void Set(Output t, Output? mask)
    {
        lock (s_masks)
        {
            if (mask is { } m) s_masks.GetOrCreateValue(t.Op)[t.Index] = m;
            else if (s_masks.TryGetValue(t.Op, out var d)) d.Remove(t.Index);
        }
    }
}
