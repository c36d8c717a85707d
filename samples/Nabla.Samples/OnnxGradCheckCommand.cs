using System.CommandLine;
using System.Globalization;
using Nabla.Onnx;

namespace Nabla.Samples;

/// <summary>
/// <c>gradcheck model.onnx</c>: imports an ONNX model, builds its gradients with respect to the inputs and the
/// initializers, runs a float64 central-difference check on the reference backend and prints the worst error per tensor.
/// </summary>
internal static class OnnxGradCheckCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("model") { Description = "Path of the .onnx file" };
        var batch = new Option<int>("--batch") { Description = "Size of the unknown batch dimension", DefaultValueFactory = _ => 2 };
        var samples = new Option<int>("--samples") { Description = "Elements checked per tensor (a random sample of larger ones)", DefaultValueFactory = _ => 16 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the inputs and of the sample", DefaultValueFactory = _ => 1UL };
        var command = new Command("gradcheck", "Gradient-check an ONNX model: float64 central differences vs. symbolic gradients w.r.t. inputs and initializers")
        {
            path, batch, samples, seed,
        };
        command.SetAction(r => Run(r.GetValue(path)!, r.GetValue(batch), r.GetValue(samples), r.GetValue(seed), Console.Out));
        return command;
    }

    /// <summary>Runs the check and prints one line per tensor; returns 0 when every tensor passes, 1 otherwise, 2 when the model cannot be checked.</summary>
    public static int Run(string path, int batch, int samples, ulong seed, TextWriter output)
    {
        OnnxGradientCheckResult result;
        try
        {
            result = OnnxGradientCheck.Run(path, batch, samples, seed);
        }
        catch (Exception e) when (e is NablaException or IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"gradcheck: {e.Message}");
            return 2;
        }
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"{Path.GetFileName(path)}: float64 central differences on the reference backend, tolerance atol {result.Tolerance.Atol:G3} + rtol {result.Tolerance.Rtol:G3}·|numeric|"));
        output.WriteLine($"{"tensor",-40} {"kind",-11} {"shape",-18} {"checked",7} {"max abs err",12} {"max rel err",12} {"worst",8}");
        foreach (var t in result.Tensors)
            output.WriteLine(string.Create(c, $"{Trim(t.Name),-40} {(t.IsInitializer ? "initializer" : "input"),-11} {t.Shape,-18} {t.Checked,7} {t.MaxAbsoluteError,12:E2} {t.MaxRelativeError,12:E2} {t.WorstRatio,8:G3}{(t.Passed ? "" : "  FAIL")}"));
        output.WriteLine(result.Passed ? "PASS" : "FAIL");
        return result.Passed ? 0 : 1;
    }

    private static string Trim(string s) => s.Length <= 40 ? s : "…" + s[^39..];
}
