using System.Globalization;

namespace Nabla.Bench;

/// <summary>
/// The W2 training step's memory (<c>dotnet run -c Release -- --w2-memory</c>): the static memory plan
/// (planned peak, the live-bytes lower bound, the arena per element type) before anything runs, then
/// what the allocator holds and does over 100 steps: the arenas it allocated, bytes in use, and the
/// allocations and transfers of a steady step.
/// </summary>
/// <remarks>
/// Napkin math for batch 128: the input batch is 128·784·4 = 401 KB; each hidden activation 128·128·4 =
/// 64 KB (plus its dropout mask and ReLU mask, and the gradients of the same size on the way back); the
/// logits 5 KB. Parameters (118,282 floats = 473 KB) and Adam's two moments (946 KB) are variables, outside
/// the plan.
/// </remarks>
internal static class W2Memory
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run()
    {
        var w2 = W2.Create();
        w2.Model.TrainOnBatch(w2.X, w2.Y);
        var (feeds, fetches, update) = w2.TrainStepParts();
        var session = w2.Model.Session;
        var plan = session.Plan(fetches, feeds, update);
        Console.WriteLine(string.Create(Inv, $"W2 train step, batch {W2.Batch}: {plan.Kernels.Count} steps, {plan.KernelCount} launching work ({plan.FusedSteps.Count} fused, fusion {(session.Options.Fusion ? "on" : "off")}), {plan.DeviceChecks} device-side checks, workspaces {plan.WorkspaceBytes:N0} B"));
        Console.WriteLine(string.Create(Inv, $"planned peak (static memory plan): {plan.PeakBytes:N0} B; live-bytes lower bound {plan.LiveBytesLowerBound:N0} B (packing overhead {(double)plan.PeakBytes / plan.LiveBytesLowerBound - 1:P1})"));
        foreach (var f in plan.FusedSteps) Console.WriteLine("  " + f);
        foreach (var (arena, bytes) in plan.ArenaBytes) Console.WriteLine(string.Create(Inv, $"  arena {(DType)arena,-8} {bytes,12:N0} B"));
        var before = session.MemoryStats;
        for (var i = 0; i < 100; i++) session.Run(fetches, feeds, update);
        var after = session.MemoryStats;
        var run = session.LastRun!.Value;
        Console.WriteLine(string.Create(Inv, $"measured: session arenas hold {session.ArenaBytes:N0} B (= planned peak: {session.ArenaBytes == plan.PeakBytes}); allocator bytes in use {after.BytesInUse:N0} B (arenas, variables, constants, 64-byte padding), peak {after.PeakBytesInUse:N0} B"));
        Console.WriteLine(string.Create(Inv, $"100 steps: {after.Allocations - before.Allocations} allocations, {after.Uploads - before.Uploads} uploads, {after.Downloads - before.Downloads} downloads ({(after.DownloadBytes - before.DownloadBytes) / 100.0:F0} B per step)"));
        Console.WriteLine(string.Create(Inv, $"last step: {run}, kernels {run.Kernels}"));
    }
}
