using System.Diagnostics;
using NUnit.Framework;
using Nabla.Layers;
using Nabla.Onnx;

namespace Nabla.Tests.Onnx;

/// <summary>Debian's python3-onnx checker (onnx.checker, full check) accepts every exported file; skipped with a reason when it is not installed.</summary>
[TestFixture]
public sealed class OnnxCheckerTests
{
    [Test]
    public void CheckerAcceptsEveryExportedFile()
    {
        var (python, reason) = OnnxTestSupport.Checker();
        if (python is null) Assert.Ignore($"onnx.checker not run: {reason}");
        var dir = Directory.CreateTempSubdirectory("nabla-onnx-check-");
        try
        {
            var files = new List<string>();
            foreach (var c in OnnxCases.All())
            {
                var (_, onnx) = OnnxExportTests.Export(c);
                var path = Path.Combine(dir.FullName, c.Name.Replace(' ', '_') + ".onnx");
                File.WriteAllBytes(path, onnx);
                files.Add(path);
            }
            var psi = new ProcessStartInfo(python, [OnnxTestSupport.CheckerScript, .. files]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            TestContext.Out.WriteLine(stdout);
            Assert.That(p.ExitCode, Is.Zero, $"onnx.checker rejected files:\n{stdout}\n{stderr}");
            Assert.That(stdout.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)), Is.EqualTo(files.Count));
        }
        finally
        {
            Keras.ClearSession();
            dir.Delete(recursive: true);
        }
    }
}
