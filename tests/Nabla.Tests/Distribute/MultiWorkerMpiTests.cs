using System.Diagnostics;
using NUnit.Framework;
using Nabla.Distributed;
using Nabla.Samples;

namespace Nabla.Tests.Distribute;

/// <summary>
/// MultiWorkerMirroredStrategy over Open MPI: <c>mpirun -np 2</c> starts the samples program's
/// distributed-check mode (Nabla.Samples.dll sits next to this assembly). Skipped, with the reason,
/// where mpirun or libmpi is missing (CI installs Open MPI first: .ci/run).
/// </summary>
[NonParallelizable]
public sealed class MultiWorkerMpiTests
{
    private static readonly string s_samples = Path.Combine(AppContext.BaseDirectory, "Nabla.Samples.dll");
    private string _dir = null!;

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("nabla-mpi-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static string RequireMpirun()
    {
        var mpirun = FindOnPath("mpirun");
        if (mpirun is null) Assert.Ignore("mpirun is not on PATH: install Open MPI (apt-get install openmpi-bin libopenmpi-dev) to run the multi-process tests");
        if (!MpiCollective.IsAvailable) Assert.Ignore("no MPI library (libmpi.so.40 or libmpich.so.12) could be loaded: install libopenmpi-dev");
        return mpirun!;
    }

    /// <summary>Runs a command with a deadline; kills its process tree when the deadline passes.</summary>
    internal static (int ExitCode, string Output, TimeSpan Elapsed) Run(string file, IEnumerable<string> args, TimeSpan timeout, IDictionary<string, string>? env = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        // .NET writes terminal escapes into each rank's output with an xterm TERM; mpirun refuses root without these two.
        info.Environment["TERM"] = "dumb";
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s:\n{stdout.Result}\n{stderr.Result}");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result, clock.Elapsed);
    }

    private static string[] MpiArgs(params string[] program) => ["-np", "2", "--oversubscribe", "dotnet", s_samples, DistributedCheck.Name, .. program];

    [Test]
    public void TwoMpiWorkersMatchOneProcessAfter20StepsOfW2()
    {
        var mpirun = RequireMpirun();
        var weights = Path.Combine(_dir, "w2.safetensors");
        var (code, output, _) = Run(mpirun, MpiArgs("--mode", "equivalence", "--out", weights), TimeSpan.FromSeconds(120));
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("rank 0/2: 20 steps").And.Contain("rank 1/2: 20 steps"));
        Assert.That(output, Does.Contain("MPI: OpenMpi ABI, libmpi.so.40: Open MPI v"));

        var (x, y) = DistributedCheck.W2Data(DistributedCheck.EquivalenceSteps * DistributedCheck.GlobalBatch, seed: 7);
        var expected = MirroredStrategyTests.TrainW2(null, x, y);
        var saved = DistributedCheck.BuildW2Network(null, seed: 99);
        saved.LoadWeights(weights);
        // The workers started from different weights (seed 42 + 1000·rank); the chief's broadcast and the
        // averaged updates make the result that of one process from seed 42.
        MirroredStrategyTests.AssertWeightsClose(saved.GetWeights(), expected);
        // Only the chief writes checkpoints and logs: worker 1 was given files of its own and wrote none.
        Assert.That(File.Exists(weights + ".rank1"), Is.False, "worker 1 wrote a checkpoint");
        Assert.That(File.Exists(weights + ".rank1.csv"), Is.False, "worker 1 wrote a CSV log");
        Assert.That(File.ReadAllLines(weights + ".csv"), Has.Length.EqualTo(2), "the chief's CSV log: a header and one epoch");

        // A restore is broadcast: only the chief can read the file, yet both workers end with its weights.
        var (restoreCode, restored, _) = Run(mpirun, MpiArgs("--mode", "restore", "--out", weights), TimeSpan.FromSeconds(120));
        Assert.That(restoreCode, Is.Zero, restored);
        var sums = System.Text.RegularExpressions.Regex.Matches(restored, @"rank (\d) restored checksum (\S+)").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var expectedSum = saved.GetWeights().Sum(w => w.ToDoubleArray().Select((v, i) => v * (1 + i % 7)).Sum());
        Assert.That(sums.Keys, Is.EquivalentTo(new[] { "0", "1" }), restored);
        Assert.That(sums["1"], Is.EqualTo(sums["0"]));
        Assert.That(double.Parse(sums["0"], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(expectedSum).Within(1e-9 * Math.Abs(expectedSum)));
    }

    /// <summary>The second ABI: MPICH's integer handles, through its own launcher (skipped where MPICH is not installed).</summary>
    [Test]
    public void TwoMpichWorkersMatchOneProcessToo()
    {
        var launcher = FindOnPath("mpirun.mpich");
        if (launcher is null || !MpichLoads())
            Assert.Ignore("MPICH is not installed (mpirun.mpich, libmpich.so.12): apt-get install mpich to test the MPICH ABI");
        var weights = Path.Combine(_dir, "w2-mpich.safetensors");
        var (code, output, _) = Run(launcher!, ["-np", "2", "-env", "NABLA_MPI_LIBRARY", "libmpich.so.12", "dotnet", s_samples, DistributedCheck.Name, "--mode", "equivalence", "--out", weights],
            TimeSpan.FromSeconds(120), new Dictionary<string, string> { ["NABLA_MPI_LIBRARY"] = "libmpich.so.12" });
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("rank 1/2: 20 steps").And.Contain("MPI: Mpich ABI, libmpich.so.12: MPICH Version"));
        var (x, y) = DistributedCheck.W2Data(DistributedCheck.EquivalenceSteps * DistributedCheck.GlobalBatch, seed: 7);
        var saved = DistributedCheck.BuildW2Network(null, seed: 99);
        saved.LoadWeights(weights);
        MirroredStrategyTests.AssertWeightsClose(saved.GetWeights(), MirroredStrategyTests.TrainW2(null, x, y));

        static bool MpichLoads()
        {
            try
            {
                return MpiLibrary.Open(["libmpich.so.12"]).Abi == MpiAbi.Mpich;
            }
            catch (MpiLibraryNotFoundException)
            {
                return false;
            }
        }
    }

    [Test]
    public void AWorkerThatThrowsEndsTheJobNamingItsRank()
    {
        var mpirun = RequireMpirun();
        var (code, output, elapsed) = Run(mpirun, MpiArgs("--mode", "throw", "--rank", "1", "--step", "5"), TimeSpan.FromSeconds(60));
        Assert.That(code, Is.Not.Zero, output);
        Assert.That(output, Does.Contain("worker (rank) 1 of 2 failed in epoch 1, batch 5").And.Contain("injected failure on rank 1"));
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "every worker must be gone within 30 s");
    }

    [Test]
    public void AWorkerThatDiesEndsTheJob()
    {
        var mpirun = RequireMpirun();
        var (code, output, elapsed) = Run(mpirun, MpiArgs("--mode", "die", "--rank", "1", "--step", "5"), TimeSpan.FromSeconds(60));
        Assert.That(code, Is.Not.Zero, output);
        Assert.That(output, Does.Contain("rank 1 exits abruptly after step 5"));
        Assert.That(output, Does.Not.Contain("rank 0/2: 20 steps"), "the surviving worker must not finish as if nothing happened");
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "mpirun must end the job within 30 s");
    }

    [Test]
    public void WithoutAnMpiLibraryTheStrategyRefusesClearly()
    {
        // No mpirun needed: NABLA_MPI_LIBRARY names the only library to try, and it does not exist.
        var (code, output, _) = Run("dotnet", [s_samples, W3DistributedLogistic.Name, "--strategy", "multi-worker", "--quick", "--out", _dir],
            TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["NABLA_MPI_LIBRARY"] = "/nonexistent/libmpi.so.40" });
        Assert.That(code, Is.Not.Zero, output);
        Assert.That(output, Does.Contain("MpiLibraryNotFoundException").And.Contain("no MPI library found (tried /nonexistent/libmpi.so.40)").And.Contain("apt-get install openmpi-bin"));
    }

    [Test]
    public void OpeningAMissingLibraryThrowsTheDocumentedType()
    {
        var e = Assert.Throws<MpiLibraryNotFoundException>(() => MpiLibrary.Open(["libnabla-no-such-mpi.so.1", "/nonexistent/libmpich.so.12"]));
        Assert.That(e!.Probed, Is.EqualTo(new[] { "libnabla-no-such-mpi.so.1", "/nonexistent/libmpich.so.12" }));
        Assert.That(e.Message, Does.Contain("no MPI library found"));
        Assert.Throws<MpiLibraryNotFoundException>(() => MpiLibrary.Open(["libc.so.6"]), "a library that is not MPI");
    }
}
