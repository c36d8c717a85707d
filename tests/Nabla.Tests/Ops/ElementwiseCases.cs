using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>Where an element-wise op's random test inputs are drawn from.</summary>
public enum Domain
{
    /// <summary>[−3, 3): the op is defined and smooth everywhere.</summary>
    Any,
    /// <summary>[0.2, 3): log, sqrt, rsqrt and the base of pow.</summary>
    Positive,
    /// <summary>|x| ∈ [0.2, 2]: ops with a pole or a kink at 0, so central differences never straddle it.</summary>
    AwayFromZero,
    /// <summary>[−0.8, 3): log1p.</summary>
    AboveMinusOne,
}

/// <summary>Shapes, inputs and assertions shared by the element-wise op fixtures.</summary>
internal static class Elementwise
{
    /// <summary>
    /// Forward shapes: empty, scalar, size-1 dims, odd sizes that leave a SIMD tail, a rank-3 with a
    /// size-1 middle dim, and 100 000 elements, which is above CpuUnary's 2·32768 parallel threshold.
    /// </summary>
    public static readonly int[][] ForwardShapes = [[0], [], [1, 1], [7], [33], [2, 1, 3], [100_000]];

    /// <summary>
    /// Binary shape pairs, each hitting one CpuBinary path: both contiguous (Vec), vector·scalar,
    /// scalar·vector, row vector over rows (either side), and the generic strided loop
    /// ([3,1]+[4], [2,1,5]·[3,1], leading broadcast of a matrix); plus empty and large.
    /// </summary>
    public static readonly (int[] A, int[] B)[] BroadcastPairs =
    [
        ([0], [0]), ([0, 3], [3]), ([], []), ([1, 1], [1, 1]), ([7], [7]), ([33], [33]),
        ([33], []), ([], [33]), ([3, 4], []), ([4, 33], [33]), ([33], [4, 33]), ([5, 1], [1, 1]),
        ([3, 1], [4]), ([2, 1, 5], [3, 1]), ([2, 3, 4], [3, 4]), ([2, 3, 4], [2, 1, 4]),
        ([100_000], [100_000]), ([100_000], []),
    ];

    /// <summary>Gradient-check pairs: scalar, equal, both-sides broadcasting, scalar with matrix, row vector, empty.</summary>
    public static readonly (int[] A, int[] B)[] GradientPairs =
        [([], []), ([3, 5], [3, 5]), ([3, 1], [4]), ([2, 1, 5], [3, 1]), ([], [2, 3]), ([4], [3, 4]), ([0, 3], [3])];

    /// <summary>
    /// float32 special values: NaN, ±Inf, ±0, tiny, moderate, and huge magnitudes (±100 and ±1000
    /// overflow exp in float32; ±1e30 overflow squares).
    /// </summary>
    public static readonly float[] Specials =
    [
        float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f,
        0.5f, -0.5f, 1f, -1f, 3f, -3f, 20f, -20f, 100f, -100f, 1000f, -1000f, 1e30f, -1e30f,
    ];

    /// <summary>
    /// Results whose float32 magnitude is below the smallest normal float32 (≈1.18e-38) may be
    /// flushed to zero by vectorised kernels; this absolute tolerance accepts that and nothing more.
    /// </summary>
    public const double Float32Denormal = 1.2e-38;

    public static Tensor Sample(Domain domain, int[] shape, ulong seed = 1) => domain switch
    {
        Domain.Positive => OpHarness.Uniform(shape, 0.2, 3, seed),
        Domain.AwayFromZero => OpHarness.AwayFromZero(shape, seed),
        Domain.AboveMinusOne => OpHarness.Uniform(shape, -0.8, 3, seed),
        _ => OpHarness.Uniform(shape, -3, 3, seed),
    };

    /// <summary>
    /// Runs <paramref name="f"/> on float32-representable inputs on the CPU (float32) and the Reference
    /// (float64), then compares the CPU result with the reference rounded to float32, so that overflow
    /// to ±Inf in float32 is the expected answer rather than a mismatch.
    /// </summary>
    public static void CpuMatchesRoundedReference(Build f, Tensor[] float32Inputs, double rtol, double atol)
    {
        var reference = OpHarness.Evaluate(f, float32Inputs.Select(OpHarness.ToFloat64).ToArray(), Device.Reference);
        var cpu = OpHarness.Evaluate(f, float32Inputs, Device.Cpu);
        Assert.That(cpu.Shape, Is.EqualTo(reference.Shape));
        var expected = reference.ToDoubleArray().Select(v => (double)(float)v).ToArray();
        OpHarness.AssertClose(expected, cpu.ToDoubleArray(), rtol, atol, "cpu float32 vs reference rounded to float32");
    }

    /// <summary>Evaluates on <paramref name="device"/> and returns the values as float64.</summary>
    public static double[] Run(Build f, Device device, params Tensor[] inputs) => OpHarness.Evaluate(f, inputs, device).ToDoubleArray();

    /// <summary>
    /// Asserts <paramref name="build"/> throws a <see cref="ShapeException"/> whose message names the
    /// op type, the node (quoted, as InferContext.Fail writes it) and every fragment (shapes, dtypes).
    /// </summary>
    public static ShapeException BuildFails(Action build, string opType, string node, params string[] fragments)
    {
        var e = Assert.Throws<ShapeException>(build)!;
        Assert.That(e.Message, Does.StartWith($"{opType} '{node}'"), "the message must name the op type and node");
        foreach (var s in fragments) Assert.That(e.Message, Does.Contain(s));
        return e;
    }

    /// <summary>Asserts that asking for ∂y/∂x fails with a <see cref="GradientException"/> naming the op and node.</summary>
    public static void NotDifferentiable(Graph g, Output y, Output x, string opType, string node)
    {
        var e = Assert.Throws<GradientException>(() => g.Gradients([y], [x]))!;
        Assert.That(e.Message, Does.Contain($"{opType} '{node}'").And.Contain("not differentiable"));
    }
}
