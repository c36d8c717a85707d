using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// The live buffers of a plan's runs: slot → buffer. Slots the memory plan placed hold their arena
/// views for as long as the arenas stay; aliases and session state are filled in by the kernels of
/// each run. Nothing here allocates or frees.
/// </summary>
internal sealed class RunState(IBackend backend, SessionState state, DeviceBuffer?[] slots, DeviceBuffer? flags, int arenaGeneration)
{
    public IBackend Backend { get; } = backend;

    public SessionState State { get; } = state;

    public DeviceBuffer?[] Slots { get; } = slots;

    /// <summary>The slots as the memory plan placed them (a run may point a fed slot at the caller's array; the next run restores it from here).</summary>
    public DeviceBuffer?[] Planned { get; } = (DeviceBuffer?[])slots.Clone();

    /// <summary>The run's device-side error flags (two int64 per check site), or null when the plan has no device-side checks.</summary>
    public DeviceBuffer? Flags { get; } = flags;

    /// <summary>Which allocation of the session's arenas <see cref="Slots"/> points into.</summary>
    public int ArenaGeneration { get; } = arenaGeneration;
}
