using BenchmarkDotNet.Jobs;

namespace Nabla.Bench;

/// <summary>The one-processor variant of a benchmark job.</summary>
internal static class OneProcessorJob
{
    /// <summary>
    /// <paramref name="job"/> with <c>DOTNET_PROCESSOR_COUNT=1</c> (the CPU kernels split work by
    /// <see cref="Environment.ProcessorCount"/>) and <c>DOTNET_TC_DelaySingleProcMultiplier=1</c>. With one processor the
    /// runtime waits 10× longer after the last tier-0 compilation before it recompiles hot methods, so a few warm-up
    /// iterations can measure unoptimised code (docs/results/2026-12-02/onnx-quick-tier-delay.txt: W2 and LeNet inference
    /// timed after a 1 s warm-up, with and without it). The multiplier changes when methods are recompiled, not the code they
    /// are recompiled to.
    /// </summary>
    public static Job Of(Job job, string id) =>
        job.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_PROCESSOR_COUNT", "1"), new EnvironmentVariable("DOTNET_TC_DelaySingleProcMultiplier", "1"))
            .WithId(id);
}
