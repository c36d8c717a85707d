using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NUnit.Framework;
using Nabla.Layers;
using OrtOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace Nabla.Tests.Onnx;

/// <summary>ONNX Runtime as the oracle of exported files, the tolerance rule, and random weights for exported models.</summary>
internal static class OnnxTestSupport
{
    /// <summary>
    /// The issue's bar: 1e-5 relative. Relative to what matters: |a − b| ≤ 1e-5·(|b| + s) where s is the RMS of the
    /// reference tensor, so outputs that cancel to nearly 0 (a sum of products of both signs) are judged against the
    /// tensor's scale instead of against their own tiny value, which float32 rounding cannot meet.
    /// </summary>
    public const double Rtol = 1e-5;

    /// <summary>Runs an ONNX model in ONNX Runtime (all graph optimizations, one intra-op thread) on float32 or int32 inputs.</summary>
    public static float[][] RunOrt(byte[] model, params Tensor[] inputs)
    {
        using var options = new OrtOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var names = session.InputMetadata.Keys.ToArray();
        Assert.That(names, Has.Length.EqualTo(inputs.Length), "ONNX inputs");
        var feeds = names.Select((n, i) => Feed(n, inputs[i])).ToList();
        using var results = session.Run(feeds);
        return results.Select(r => r.AsTensor<float>().ToArray()).ToArray();
    }

    private static NamedOnnxValue Feed(string name, Tensor t) => t.DType == DType.Int32
        ? NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(t.ToArray<int>(), t.Shape.ToArray()))
        : NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(t.ToArray<float>(), t.Shape.ToArray()));

    /// <summary>The output shapes ONNX Runtime reports (to check that the batch dimension stays symbolic).</summary>
    public static int[][] OrtOutputShapes(byte[] model, params Tensor[] inputs)
    {
        using var session = new InferenceSession(model);
        var feeds = session.InputMetadata.Keys.Select((n, i) => Feed(n, inputs[i])).ToList();
        using var results = session.Run(feeds);
        return results.Select(r => r.AsTensor<float>().Dimensions.ToArray()).ToArray();
    }

    /// <summary>Asserts |actual − expected| ≤ rtol·(|expected| + RMS(expected)) everywhere; prints the first mismatches.</summary>
    public static void AssertClose(float[] actual, Tensor expected, string what, double rtol = Rtol)
    {
        var e = expected.ToDoubleArray();
        Assert.That(actual, Has.Length.EqualTo(e.Length), $"{what}: element count");
        var rms = e.Length == 0 ? 0 : Math.Sqrt(e.Sum(v => v * v) / e.Length);
        var bad = new List<string>();
        var worst = 0.0;
        for (var i = 0; i < e.Length; i++)
        {
            var err = Math.Abs(actual[i] - e[i]);
            var scale = Math.Abs(e[i]) + rms;
            worst = Math.Max(worst, scale == 0 ? err : err / scale);
            if (!(err <= rtol * scale) && bad.Count < 5) bad.Add($"[{i}] {actual[i]:G9} vs {e[i]:G9}");
        }
        Assert.That(bad, Is.Empty, $"{what}: worst relative error {worst:E2} > {rtol:E0}; first mismatches: {string.Join(", ", bad)}");
    }

    /// <summary>
    /// Gives every weight but the kernels random values (variances positive), so batch-norm statistics and biases are
    /// not trivial; kernels keep their Glorot initialisation, which keeps activations of deep stacks at the scale of a
    /// trained model (N(0, 0.3) kernels grow them by ~5× per 3×3×32 conv, and float32 cancellation then dominates).
    /// </summary>
    public static void Randomize(Model model, ulong seed = 7)
    {
        var session = Keras.GetSession(model.Graph ?? Keras.Graph);
        Keras.InitializeVariables(model.Weights);
        var k = 0UL;
        foreach (var w in model.Weights)
        {
            var s = seed + 31 * ++k;
            if (w.Name.EndsWith("kernel", StringComparison.Ordinal)) continue;
            var value = w.Name.EndsWith("moving_variance", StringComparison.Ordinal)
                ? Tensor.RandomUniform(w.Shape, 0.5, 1.5, s)
                : Tensor.RandomNormal(w.Shape, 0, 0.5, s);
            session.AssignVariable(w, value);
        }
    }

    /// <summary>Random float32 input of [batch, ..perSample].</summary>
    public static Tensor Input(int batch, int[] perSample, ulong seed) => Tensor.RandomNormal(new Shape([batch, .. perSample]), 0, 1, seed);

    /// <summary>The python with Debian's onnx package (its checker), or null with the reason it is unavailable.</summary>
    public static (string? Python, string Reason) Checker()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) return (null, $"{python} is not installed");
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(python, ["-c", "import onnx"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            return p.ExitCode == 0 ? (python, "") : (null, "python3-onnx is not installed (apt-get install python3-onnx)");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"{python} cannot be started: {e.Message}");
        }
    }

    /// <summary>Path of the checker script (tests/Nabla.Tests/Onnx/check_onnx.py, copied to the output folder).</summary>
    public static string CheckerScript => Path.Combine(TestContext.CurrentContext.TestDirectory, "Onnx", "check_onnx.py");
}
