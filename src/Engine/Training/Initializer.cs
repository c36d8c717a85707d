using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Builds the initial value of a variable as graph nodes. Fan-in/fan-out follow Keras: a matrix is
/// [fan_in, fan_out]; a convolution kernel [..., in, out] multiplies both by the receptive field.
/// </summary>
public abstract class Initializer
{
    /// <summary>Adds nodes computing an initial value of the given shape and dtype.</summary>
    public abstract Output Build(Graph graph, Shape shape, DType dtype);

    /// <summary>All zeros.</summary>
    public static Initializer Zeros { get; } = new ConstantInit(null, 0);

    /// <summary>All ones.</summary>
    public static Initializer Ones { get; } = new ConstantInit(null, 1);

    /// <summary>Every element equal to <paramref name="value"/>.</summary>
    public static Initializer Fill(double value) => new ConstantInit(null, value);

    /// <summary>A given tensor (its shape must match).</summary>
    public static Initializer Constant(Tensor value) => new ConstantInit(value, 0);

    /// <summary>Uniform on [min, max).</summary>
    public static Initializer RandomUniform(double min = -0.05, double max = 0.05, ulong? seed = null) => new RandomInit(RandomDistribution.Uniform, (_, _) => (min, max), seed);

    /// <summary>Normal(mean, stddev).</summary>
    public static Initializer RandomNormal(double mean = 0, double stddev = 0.05, ulong? seed = null) => new RandomInit(RandomDistribution.Normal, (_, _) => (mean, stddev), seed);

    /// <summary>Normal(mean, stddev) redrawn beyond two standard deviations.</summary>
    public static Initializer TruncatedNormal(double mean = 0, double stddev = 0.05, ulong? seed = null) => new RandomInit(RandomDistribution.TruncatedNormal, (_, _) => (mean, stddev), seed);

    /// <summary>Glorot/Xavier uniform: U(±√(6 / (fan_in + fan_out))) (Keras's Dense default).</summary>
    public static Initializer GlorotUniform(ulong? seed = null) => new RandomInit(RandomDistribution.Uniform, (i, o) => { var l = Math.Sqrt(6.0 / (i + o)); return (-l, l); }, seed);

    /// <summary>Glorot normal: truncated normal with std √(2 / (fan_in + fan_out)) / 0.8796 (the truncation's variance correction, as Keras).</summary>
    public static Initializer GlorotNormal(ulong? seed = null) => new RandomInit(RandomDistribution.TruncatedNormal, (i, o) => (0, Math.Sqrt(2.0 / (i + o)) / TruncationStd), seed);

    /// <summary>He uniform: U(±√(6 / fan_in)).</summary>
    public static Initializer HeUniform(ulong? seed = null) => new RandomInit(RandomDistribution.Uniform, (i, _) => { var l = Math.Sqrt(6.0 / i); return (-l, l); }, seed);

    /// <summary>He normal: truncated normal with std √(2 / fan_in) / 0.8796.</summary>
    public static Initializer HeNormal(ulong? seed = null) => new RandomInit(RandomDistribution.TruncatedNormal, (i, _) => (0, Math.Sqrt(2.0 / i) / TruncationStd), seed);

    /// <summary>Keras Orthogonal(gain, seed): see <see cref="OrthogonalInitializer"/>.</summary>
    public static Initializer Orthogonal(double gain = 1, ulong? seed = null) => new OrthogonalInitializer(gain, seed);

    /// <summary>Standard deviation of a unit normal truncated to ±2 (Keras's 0.87962566103423978).</summary>
    private const double TruncationStd = 0.87962566103423978;

    /// <summary>(fan_in, fan_out) of a weight shape, as Keras computes them.</summary>
    public static (double FanIn, double FanOut) Fans(Shape shape)
    {
        if (shape.Rank == 0) return (1, 1);
        if (shape.Rank == 1) return (shape[0], shape[0]);
        if (shape.Rank == 2) return (shape[0], shape[1]);
        double receptive = 1;
        for (var d = 0; d < shape.Rank - 2; d++) receptive *= shape[d];
        return (shape[^2] * receptive, shape[^1] * receptive);
    }

    private sealed class ConstantInit(Tensor? value, double fill) : Initializer
    {
        public override Output Build(Graph graph, Shape shape, DType dtype)
        {
            if (value is null) return graph.Constant(Tensor.Fill(shape, fill, dtype), "initial_value");
            if (value.Shape != shape || value.DType != dtype)
                throw new ShapeException($"initial value {value.DType.Name()} {value.Shape} does not match variable {dtype.Name()} {shape}");
            return graph.Constant(value, "initial_value");
        }
    }

    private sealed class RandomInit(RandomDistribution dist, Func<double, double, (double, double)> parameters, ulong? seed) : Initializer
    {
        public override Output Build(Graph graph, Shape shape, DType dtype)
        {
            var (fanIn, fanOut) = Fans(shape);
            var (a, b) = parameters(Math.Max(fanIn, 1), Math.Max(fanOut, 1));
            return graph.Random(dist, shape, a, b, seed, dtype, "initial_value");
        }
    }
}

/// <summary>
/// Keras's Orthogonal initializer (Saxe et al. 2014, "Exact solutions to the nonlinear dynamics of learning in deep
/// linear neural networks"): a standard normal matrix of shape (max(r, c), min(r, c)), r = ∏ shape[..^1], c = shape[^1],
/// reduced to Q of its QR decomposition with R's diagonal made positive, transposed when r &lt; c, times
/// <see cref="Gain"/>. The default recurrent-kernel initializer of Keras's LSTM, GRU and SimpleRNN.
/// </summary>
/// <remarks>
/// Computed on the host when the graph is built (modified Gram–Schmidt in float64, which gives the same Q as
/// Householder QR with sign-corrected diagonal) and stored as the variable's initial-value constant. The draw uses
/// <paramref name="seed"/>, or one derived from the graph seed and the graph's size, so a rebuilt graph draws the same.
/// </remarks>
public sealed class OrthogonalInitializer(double gain = 1, ulong? seed = null) : Initializer
{
    /// <summary>Scale of the orthogonal matrix.</summary>
    public double Gain { get; } = gain;

    /// <inheritdoc/>
    public override Output Build(Graph graph, Shape shape, DType dtype)
    {
        if (shape.Rank < 2) throw new ShapeException($"Orthogonal initializer: the shape must have rank ≥ 2, got {shape}");
        int cols = shape[^1], rows = (int)(shape.ElementCount / Math.Max(cols, 1));
        int tall = Math.Max(rows, cols), wide = Math.Min(rows, cols);
        var draw = seed ?? (graph.Seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)(graph.Operations.Count + 1) * 0x9E37UL);
        var a = Tensor.RandomNormal(new Shape(tall, wide), 0, 1, draw, DType.Float64).ToDoubleArray();
        // Modified Gram–Schmidt over the columns of the tall matrix: Q's columns orthonormal, R's diagonal (the norms) positive.
        for (var j = 0; j < wide; j++)
        {
            for (var k = 0; k < j; k++)
            {
                var dot = 0.0;
                for (var i = 0; i < tall; i++) dot += a[i * wide + k] * a[i * wide + j];
                for (var i = 0; i < tall; i++) a[i * wide + j] -= dot * a[i * wide + k];
            }
            var norm = 0.0;
            for (var i = 0; i < tall; i++) norm += a[i * wide + j] * a[i * wide + j];
            norm = Math.Sqrt(norm);
            for (var i = 0; i < tall; i++) a[i * wide + j] /= norm;
        }
        var values = new double[rows * cols];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
                values[r * cols + c] = Gain * (rows >= cols ? a[r * wide + c] : a[c * wide + r]);
        var t = dtype == DType.Float64 ? Tensor.FromArray(values, [.. shape]) : Tensor.FromArray(values.Select(v => (float)v).ToArray(), [.. shape]);
        if (dtype is not (DType.Float32 or DType.Float64)) throw new ShapeException($"Orthogonal initializer: dtype must be float32 or float64, got {dtype.Name()}");
        return graph.Constant(t, "initial_value");
    }
}
