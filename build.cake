// Build script: `dotnet tool restore && dotnet cake --target=<Target>`.
// Targets: Build, Test, Bench, Sample. Test runs the same command as .ci/run.
var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var benchFilter = Argument("filter", "*");

Task("Build").Does(() =>
{
    DotNetBuild("Engine.sln", new DotNetBuildSettings { Configuration = configuration });
});

Task("Test").IsDependentOn("Build").Does(() =>
{
    var exit = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = $"test --project tests/Nabla.Tests -c {configuration} --no-build",
    });
    if (exit != 0) throw new Exception($"tests failed (exit code {exit})");
});

Task("Bench").IsDependentOn("Build").Does(() =>
{
    var exit = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = $"run --project bench/Nabla.Bench -c Release --no-build -- --filter {benchFilter}",
    });
    if (exit != 0) throw new Exception($"benchmarks failed (exit code {exit})");
});

Task("Sample").IsDependentOn("Build").Does(() =>
{
    var exit = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = $"run --project samples/Nabla.Samples -c {configuration} --no-build -- w2-mnist-mlp",
    });
    if (exit != 0) throw new Exception($"sample failed (exit code {exit})");
});

RunTarget(target);
