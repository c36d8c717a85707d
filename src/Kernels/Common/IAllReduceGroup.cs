namespace Nabla.Kernels;

/// <summary>
/// The group that a graph's <c>AllReduce</c> ops sum over: the replicas of a data-parallel step (the
/// threads of one process, or the processes of an MPI job). Every member runs the same plan, so the
/// members call <see cref="Sum(Span{float})"/> in the same order with buffers of the same length.
/// </summary>
/// <remarks>
/// Kernels sit below the communication layer: <c>Nabla.Distributed</c>'s collectives (MPI, in-process)
/// reach the engine through this interface, which a distribution strategy adapts and sets on each
/// replica's session (<c>Session.Collective</c>). A session on its own is a group of one
/// (<see cref="Alone"/>), whose sum is the value itself, as an MPI job of one rank.
/// </remarks>
public interface IAllReduceGroup
{
    /// <summary>Number of members.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="data"/> on every member by the element-wise sum over the members; returns once this member's part is done.</summary>
    void Sum(Span<float> data);

    /// <summary>The float64 form of <see cref="Sum(Span{float})"/>.</summary>
    void Sum(Span<double> data);

    /// <summary>The group of one member: every sum is the value itself.</summary>
    public static IAllReduceGroup Alone { get; } = new AloneGroup();

    private sealed class AloneGroup : IAllReduceGroup
    {
        public int Size => 1;

        public void Sum(Span<float> data)
        {
        }

        public void Sum(Span<double> data)
        {
        }
    }
}

/// <summary>The host side of <see cref="IBackend.AllReduce"/>, shared by the backends whose buffers live in host memory.</summary>
internal static class HostAllReduce
{
    /// <summary>
    /// Packs <paramref name="inputs"/> one after another into <paramref name="staging"/>, each starting at a multiple of
    /// <paramref name="alignElements"/> elements, sums it over <paramref name="group"/> in one call, and unpacks the sums
    /// into <paramref name="outputs"/>. A backend that also sums in place (<see cref="IBackend.AllReducesInPlace"/>) passes
    /// its arena alignment, so a member whose plan stages and one whose plan sums in place exchange the same layout;
    /// the padding is summed and discarded. The buffers hold float32 or float64 storage (the reference backend keeps
    /// float32 as float64).
    /// </summary>
    public static void Run(IAllReduceGroup group, IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, DeviceBuffer staging, int alignElements)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(alignElements, 1);
        var s = (HostBuffer)staging;
        switch (s.Storage)
        {
            case float[]: Run<float>(group, inputs, outputs, s, alignElements); break;
            case double[]: Run<double>(group, inputs, outputs, s, alignElements); break;
            default: throw new NotSupportedException($"AllReduce sums float32 or float64 values, not {staging.DType.Name()}");
        }
    }

    /// <summary>Sums <paramref name="values"/> over <paramref name="group"/> where they are (the in-place form: no staging copies).</summary>
    public static void Sum(IAllReduceGroup group, HostBuffer values)
    {
        switch (values.Storage)
        {
            case float[]: group.Sum(values.Span<float>()); break;
            case double[]: group.Sum(values.Span<double>()); break;
            default: throw new NotSupportedException($"AllReduce sums float32 or float64 values, not {values.DType.Name()}");
        }
    }

    /// <summary>Elements a value of <paramref name="length"/> takes in a packed all-reduce buffer: rounded up to a multiple of <paramref name="alignElements"/>.</summary>
    public static long Padded(long length, int alignElements) => (length + alignElements - 1) / alignElements * alignElements;

    private static void Run<T>(IAllReduceGroup group, IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, HostBuffer staging, int alignElements) where T : unmanaged
    {
        var all = staging.Span<T>();
        var offset = 0;
        foreach (var x in inputs)
        {
            if (offset + x.Length > all.Length) throw new ArgumentException($"AllReduce staging holds {all.Length} elements, too few for the inputs", nameof(staging));
            ((HostBuffer)x).Span<T>().CopyTo(all[offset..]);
            offset += (int)Padded(x.Length, alignElements);
        }
        if (offset != all.Length) throw new ArgumentException($"AllReduce staging holds {all.Length} elements, the inputs {offset} (packed at {alignElements}-element boundaries)", nameof(staging));
        Sum(group, staging);
        offset = 0;
        foreach (var y in outputs)
        {
            all.Slice(offset, y.Length).CopyTo(((HostBuffer)y).Span<T>());
            offset += (int)Padded(y.Length, alignElements);
        }
    }
}
