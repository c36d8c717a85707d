namespace Nabla.Kernels;

/// <summary>Element-wise functions of one argument.</summary>
/// <remarks>All but <see cref="Neg"/>, <see cref="Abs"/>, <see cref="Sign"/>, <see cref="Square"/>
/// and <see cref="LogicalNot"/> are defined for floating dtypes only; NaN propagates as IEEE 754 says.</remarks>
public enum UnaryOp
{
    /// <summary>-x</summary>
    Neg,
    /// <summary>|x|</summary>
    Abs,
    /// <summary>-1, 0 or 1 (NaN stays NaN).</summary>
    Sign,
    /// <summary>x²</summary>
    Square,
    /// <summary>√x</summary>
    Sqrt,
    /// <summary>1/√x</summary>
    Rsqrt,
    /// <summary>1/x</summary>
    Reciprocal,
    /// <summary>eˣ</summary>
    Exp,
    /// <summary>eˣ − 1, accurate near 0.</summary>
    Expm1,
    /// <summary>ln x</summary>
    Log,
    /// <summary>ln(1 + x), accurate near 0.</summary>
    Log1p,
    /// <summary>sin x</summary>
    Sin,
    /// <summary>cos x</summary>
    Cos,
    /// <summary>tanh x</summary>
    Tanh,
    /// <summary>1 / (1 + e⁻ˣ)</summary>
    Sigmoid,
    /// <summary>max(x, 0)</summary>
    Relu,
    /// <summary>ln(1 + eˣ), computed as max(x,0) + log1p(e^-|x|).</summary>
    Softplus,
    /// <summary>Gauss error function.</summary>
    Erf,
    /// <summary>Boolean negation (bool only).</summary>
    LogicalNot,
}

/// <summary>Element-wise functions of two arguments (broadcast by strides).</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a − b</summary>
    Sub,
    /// <summary>a · b</summary>
    Mul,
    /// <summary>a / b (integer division truncates)</summary>
    Div,
    /// <summary>aᵇ</summary>
    Pow,
    /// <summary>max(a, b); NaN if either is NaN.</summary>
    Maximum,
    /// <summary>min(a, b); NaN if either is NaN.</summary>
    Minimum,
    /// <summary>a == b → bool</summary>
    Equal,
    /// <summary>a != b → bool</summary>
    NotEqual,
    /// <summary>a &lt; b → bool</summary>
    Less,
    /// <summary>a ≤ b → bool</summary>
    LessEqual,
    /// <summary>a &gt; b → bool</summary>
    Greater,
    /// <summary>a ≥ b → bool</summary>
    GreaterEqual,
    /// <summary>a ∧ b (bool)</summary>
    LogicalAnd,
    /// <summary>a ∨ b (bool)</summary>
    LogicalOr,
    /// <summary>a ⊕ b (bool)</summary>
    LogicalXor,
}

/// <summary>Reductions over the middle axis of an [outer, reduce, inner] view.</summary>
public enum ReduceOp
{
    /// <summary>Σ (0 for an empty axis)</summary>
    Sum,
    /// <summary>Σ / n (NaN for an empty axis)</summary>
    Mean,
    /// <summary>max (−∞ for an empty axis); NaN propagates.</summary>
    Max,
    /// <summary>min (+∞ for an empty axis); NaN propagates.</summary>
    Min,
    /// <summary>Π (1 for an empty axis)</summary>
    Prod,
    /// <summary>index of the first maximum, written as int64; NaN counts as the maximum.</summary>
    ArgMax,
    /// <summary>index of the first minimum, written as int64; NaN counts as the minimum.</summary>
    ArgMin,
}

/// <summary>Distributions drawn from the Philox 4x32-10 stream.</summary>
public enum RandomDistribution
{
    /// <summary>Uniform on [a, b).</summary>
    Uniform,
    /// <summary>Normal with mean a and standard deviation b.</summary>
    Normal,
    /// <summary>Normal with mean a and standard deviation b, redrawn outside ±2 standard deviations.</summary>
    TruncatedNormal,
}

/// <summary>A strided window onto a buffer: element (i₀..iₙ) lives at Offset + Σ iₖ·Strides[k].</summary>
/// <param name="Buffer">Underlying buffer.</param>
/// <param name="Offset">Element offset of index zero.</param>
/// <param name="Strides">Stride per dimension in elements; 0 broadcasts.</param>
public readonly record struct StridedView(DeviceBuffer Buffer, int Offset, int[] Strides);

/// <summary>Arguments of a (batched) matrix product C[b] = op(A[b]) · op(B[b]).</summary>
/// <param name="Batch">Number of products.</param>
/// <param name="M">Rows of op(A) and C.</param>
/// <param name="N">Columns of op(B) and C.</param>
/// <param name="K">Inner dimension.</param>
/// <param name="TransA">A is stored K×M.</param>
/// <param name="TransB">B is stored N×K.</param>
/// <param name="BatchStrideA">Elements between consecutive A matrices (0 reuses one).</param>
/// <param name="BatchStrideB">Elements between consecutive B matrices (0 reuses one).</param>
public readonly record struct MatMulArgs(int Batch, int M, int N, int K, bool TransA, bool TransB, long BatchStrideA, long BatchStrideB);

/// <summary>
/// The compute substrate: one method per kernel family. Backends know nothing of graphs; callers
/// pass lengths, strides and dimension lists that the engine has already validated (indices
/// included), so a kernel never sees an out-of-range argument.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>Short name ("reference", "cpu", "cuda:0").</summary>
    string Name { get; }

    /// <summary>Allocates an uninitialised buffer.</summary>
    DeviceBuffer Allocate(DType dtype, int length);

    /// <summary>Copies a host array (element type <see cref="DTypeInfo.ClrType"/>) into a buffer of equal length.</summary>
    void Upload(Array host, DeviceBuffer dst);

    /// <summary>Copies a buffer into a host array (element type <see cref="DTypeInfo.ClrType"/>) of equal length.</summary>
    void Download(DeviceBuffer src, Array host);

    /// <summary>Reads any buffer as float64 values, at the backend's full storage precision.</summary>
    double[] ReadFloat64(DeviceBuffer src);

    /// <summary>Writes float64 values into a buffer, rounding to its storage precision.</summary>
    void WriteFloat64(ReadOnlySpan<double> src, DeviceBuffer dst);

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    void Fill(DeviceBuffer dst, double value);

    /// <summary>dst[idx] = src[idx] over <paramref name="shape"/> (same dtype). Transpose, slice, pad, concat and broadcast are all this.</summary>
    void Copy(StridedView src, StridedView dst, ReadOnlySpan<int> shape);

    /// <summary>Converts element types (float→int truncates toward zero; nonzero→true).</summary>
    void Cast(DeviceBuffer src, DeviceBuffer dst);

    /// <summary>y = op(x), element-wise, equal lengths.</summary>
    void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y);

    /// <summary>y[idx] = op(a[idx], b[idx]) over <paramref name="shape"/>; y is contiguous.</summary>
    void Binary(BinaryOp op, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape);

    /// <summary>y[idx] = cond[idx] ? a[idx] : b[idx] over <paramref name="shape"/>; y is contiguous.</summary>
    void Select(StridedView cond, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape);

    /// <summary>Reduces x viewed as [outer, reduce, inner] into y [outer, inner].</summary>
    void Reduce(ReduceOp op, DeviceBuffer x, int outer, int reduce, int inner, DeviceBuffer y);

    /// <summary>Batched matrix product, C contiguous [Batch, M, N].</summary>
    void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, in MatMulArgs args);

    /// <summary>Softmax (or log-softmax) over the last axis of a [rows, cols] matrix.</summary>
    void Softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool log);

    /// <summary>
    /// Fused, numerically stable softmax cross-entropy per row: loss[r] = −Σ labels·log_softmax(logits).
    /// Dense labels are [rows, cols] probabilities; sparse labels are [rows] class ids (int32/int64,
    /// already range-checked). When <paramref name="backprop"/> is given it receives softmax − labels.
    /// </summary>
    void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, bool sparse, int rows, int cols, DeviceBuffer loss, DeviceBuffer? backprop);

    /// <summary>dst[o, j, i] = src[o, indices[j], i] for src [outer, axisDim, inner]; indices already range-checked.</summary>
    void Gather(DeviceBuffer src, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst);

    /// <summary>dst[o, indices[j], i] += updates[o, j, i] for dst [outer, axisDim, inner]; indices already range-checked.</summary>
    void ScatterAdd(DeviceBuffer updates, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst);

    /// <summary>Fills dst from the Philox 4x32-10 stream (<see cref="Philox"/>) keyed by seed, starting at block counter <paramref name="counter"/>.</summary>
    void Random(RandomDistribution dist, ulong seed, ulong counter, double a, double b, DeviceBuffer dst);
}
