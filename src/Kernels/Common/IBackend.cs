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

/// <summary>
/// The fused in-place updates of <see cref="IBackend.ApplyOptimizer"/>, with the slot buffers each
/// one uses (w is the variable, g the gradient; all element-wise, Keras's update formulas).
/// </summary>
public enum OptimizerKind
{
    /// <summary>w ← w − g·η. No slots.</summary>
    GradientDescent,
    /// <summary>
    /// slot1 = velocity m: m ← m·μ − g·η; w ← w + m, or with <see cref="OptimizerArgs.Nesterov"/>
    /// w ← w + m·μ − g·η.
    /// </summary>
    Momentum,
    /// <summary>
    /// slot1 = m, slot2 = v: m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂);
    /// w ← w − m·η / (√v + ε), where η is already the bias-corrected α.
    /// </summary>
    Adam,
    /// <summary>
    /// slot1 = m, slot2 = v: the moments as Adam, then m̂ = m·<see cref="OptimizerArgs.MomentScale"/> +
    /// g·<see cref="OptimizerArgs.GradientScale"/>, v̂ = v / <see cref="OptimizerArgs.SecondMomentDivisor"/>,
    /// w ← w − m̂·η / (√v̂ + ε).
    /// </summary>
    Nadam,
    /// <summary>
    /// slot1 = mean square v, slot2 = momentum (optional), slot3 = mean gradient a (optional, "centered"):
    /// v ← ρv + (1 − ρ)g²; centered: a ← ρa + (1 − ρ)g and d = v − a² + ε, else d = v + ε;
    /// Δ = η·g / √d; with momentum: mom ← μ·mom + Δ, w ← w − mom; otherwise w ← w − Δ.
    /// </summary>
    RMSProp,
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

/// <summary>What <see cref="IBackend.Check"/> verifies of each element.</summary>
public enum CheckKind
{
    /// <summary>An index: 0 ≤ x &lt; bound (int32/int64).</summary>
    IndexInRange,
    /// <summary>A divisor: x ≠ 0 (int32/int64).</summary>
    NonZero,
    /// <summary>Neither NaN nor ±∞ (float32/float64).</summary>
    Finite,
}

/// <summary>
/// The compute substrate: one method per kernel family, plus the memory and transfers of
/// <see cref="Memory"/>. Backends know nothing of graphs.
/// </summary>
/// <remarks>
/// <para><b>Stream contract.</b> Every compute method only enqueues work on the backend's stream, in
/// call order; none returns a value computed on the device and none waits. <see cref="Synchronize"/>
/// waits for all queued work, as do <see cref="IAllocator.Download"/> and
/// <see cref="IAllocator.ReadFloat64"/>. A host backend may run work at once (its stream is the
/// calling thread) but callers must not rely on it: <c>SessionOptions.DeferExecution</c> queues CPU
/// work until the next wait, which proves they do not.</para>
/// <para><b>No host decisions on device values.</b> Values a kernel needs (optimizer hyper-parameters,
/// step counters, error flags) are passed as buffers and read by the kernel on the device.</para>
/// <para><b>Arguments</b> (lengths, strides, dimensions) are validated by the engine. Index values
/// that the engine could not check on the host are checked on the device by <see cref="Check"/>, and
/// <see cref="Gather"/> / <see cref="ScatterAdd"/> are memory-safe for out-of-range indices (they read
/// zeros / skip them), so a bad value costs a failed run, never a crash.</para>
/// </remarks>
public partial interface IBackend : IDisposable
{
    /// <summary>Short name ("reference", "cpu", "cuda:0").</summary>
    string Name { get; }

    /// <summary>
    /// Whether this backend queues its work on a device stream of its own (CUDA). A host backend (false) may run work
    /// at once; <c>SessionOptions.DeferExecution</c> wraps only those, since a device stream is asynchronous already.
    /// </summary>
    bool QueuesOnDeviceStream => false;

    /// <summary>The allocator and transfers of this backend.</summary>
    IAllocator Memory { get; }

    /// <summary>Waits until every queued kernel and transfer has finished.</summary>
    void Synchronize();

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    void Fill(DeviceBuffer dst, double value);

    /// <summary>dst[idx] = src[idx] over <paramref name="shape"/> (same dtype). Transpose, slice, pad, concat and broadcast are all this.</summary>
    void Copy(StridedView src, StridedView dst, ReadOnlySpan<int> shape);

    /// <summary>Converts element types (float→int truncates toward zero; nonzero→true).</summary>
    void Cast(DeviceBuffer src, DeviceBuffer dst);

    /// <summary>y = op(x), element-wise, equal lengths.</summary>
    void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y);

    /// <summary>y[idx] = op(a[idx], b[idx]) over <paramref name="shape"/>; y is contiguous. Integer division by zero gives 0 (guard it with <see cref="Check"/>).</summary>
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
    /// Dense labels are [rows, cols] probabilities; sparse labels are [rows] class ids (int32/int64;
    /// an id outside [0, cols) gives a NaN loss, guard with <see cref="Check"/>). When
    /// <paramref name="backprop"/> is given it receives softmax − labels.
    /// </summary>
    void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, bool sparse, int rows, int cols, DeviceBuffer loss, DeviceBuffer? backprop);

    /// <summary>dst[o, j, i] = src[o, indices[j], i] for src [outer, axisDim, inner]; an out-of-range index gives zeros.</summary>
    void Gather(DeviceBuffer src, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst);

    /// <summary>dst[o, indices[j], i] += updates[o, j, i] for dst [outer, axisDim, inner]; an out-of-range index is skipped.</summary>
    void ScatterAdd(DeviceBuffer updates, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst);

    /// <summary>
    /// Records the first element of <paramref name="x"/> that fails <paramref name="kind"/> in the run's
    /// error flags: an int64 buffer with two entries per check site, flags[2·site] = flat position + 1
    /// (0 while nothing failed) and flags[2·site + 1] = the value (an integer, or a float64's bits).
    /// Only the first failure per site is kept. The engine reads the flags once, after the run.
    /// </summary>
    void Check(CheckKind kind, DeviceBuffer x, long bound, DeviceBuffer flags, int site);

    /// <summary>
    /// variable ← value (<paramref name="op"/> null), variable + value (Add) or variable − value (Sub),
    /// contiguous, equal lengths. Skipped when <paramref name="abortFlags"/> is given and any check
    /// recorded a failure in it (the run will fail; its state changes stop at the failing check).
    /// </summary>
    void Assign(BinaryOp? op, DeviceBuffer variable, DeviceBuffer value, DeviceBuffer? abortFlags);

    /// <summary>
    /// One optimizer step, fused into a single in-place pass over the variable, its gradient and the
    /// slots <paramref name="kind"/> uses (see <see cref="OptimizerKind"/>; unused slots are null). All
    /// buffers have the variable's dtype and length; the gradient may alias the variable. The
    /// hyper-parameters are rank-0 float buffers read on the device, in the order
    /// <see cref="OptimizerArgs.ScalarNames"/> gives for the kind, and the kernel folds the bias
    /// corrections from the step number itself. Skipped when <paramref name="abortFlags"/> holds a failure.
    /// </summary>
    void ApplyOptimizer(OptimizerKind kind, bool nesterov, ReadOnlySpan<DeviceBuffer> scalars, DeviceBuffer variable, DeviceBuffer grad,
        DeviceBuffer? slot1, DeviceBuffer? slot2, DeviceBuffer? slot3, DeviceBuffer? abortFlags);

    /// <summary>Fills dst from the Philox 4x32-10 stream (<see cref="Philox"/>) keyed by seed, starting at block counter <paramref name="counter"/>.</summary>
    void Random(RandomDistribution dist, ulong seed, ulong counter, double a, double b, DeviceBuffer dst);

    /// <summary>
    /// outputs[i] = the element-wise sum of inputs[i] over the members of <paramref name="group"/>, in one
    /// collective call on <paramref name="staging"/> (a float buffer where the inputs are packed one after another;
    /// on a backend that also sums in place, <see cref="AllReducesInPlace"/>, each starts at the arena's alignment, the
    /// layout of the in-place form, so members whose plans chose differently still exchange equal buffers). Every member enqueues the same calls in the same order; the call runs in stream
    /// order like any kernel, and a host backend blocks in it until the other members arrive.
    /// </summary>
    void AllReduce(IAllReduceGroup group, IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, DeviceBuffer staging);

    /// <summary>
    /// Whether <see cref="AllReduceInPlace"/> is available. The plan compiler then lets an <c>AllReduce</c> whose values
    /// nothing else reads sum them where they are: its memory plan places them one after another in the arena, and the
    /// outputs alias the inputs, so no value is copied in or out of a staging buffer.
    /// </summary>
    bool AllReducesInPlace => false;

    /// <summary>
    /// Replaces <paramref name="values"/> (the packed values of one <c>AllReduce</c>, with the alignment padding between them)
    /// by their element-wise sum over the members of <paramref name="group"/>, in one collective call. Same ordering
    /// rules as <see cref="AllReduce(IAllReduceGroup, IReadOnlyList{DeviceBuffer}, IReadOnlyList{DeviceBuffer}, DeviceBuffer)"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The backend does not sum in place (<see cref="AllReducesInPlace"/> is false).</exception>
    void AllReduceInPlace(IAllReduceGroup group, DeviceBuffer values) =>
        throw new NotSupportedException($"backend '{Name}' does not all-reduce in place");
}
