namespace Nabla;

/// <summary>How a <see cref="Session"/> executes (TensorFlow's ConfigProto, in the few knobs this engine has).</summary>
public sealed record SessionOptions
{
    /// <summary>
    /// After every kernel, check its floating outputs on the device; the first NaN or ±∞ fails the run
    /// with an <see cref="InvalidArgumentException"/> naming the op, the node, the output and the index
    /// (tf.debugging.enable_check_numerics). The checks cost one pass over each output.
    /// </summary>
    public bool CheckNumerics { get; init; }

    /// <summary>
    /// Require bitwise-reproducible results: the same graph, seeds and feeds give the same bits in every
    /// run and every session, whatever the thread count's scheduling. The host backends guarantee it for
    /// every kernel (fixed work partitioning and reduction order, and every buffer 64-byte aligned so
    /// SIMD loops split it identically), so on them this option only documents intent; a backend with a
    /// nondeterministic kernel must reject the plan, naming the op.
    /// </summary>
    public bool Deterministic { get; init; }

    /// <summary>
    /// Debugging: queue the host backend's work until the next wait (a download), as a GPU stream
    /// would, to prove no code relies on a kernel having finished when it returned. Setting the
    /// environment variable <c>NABLA_DEFER_EXECUTION=1</c> turns it on for every session. A CUDA session ignores it:
    /// its stream is asynchronous already.
    /// </summary>
    public bool DeferExecution { get; init; }

    /// <summary>
    /// Fuse chains and trees of element-wise nodes into one kernel per tree (on by default): each fused
    /// kernel reads its inputs once and writes only the values used outside it, and the intermediates get
    /// no memory. Results equal the unfused ones (bit for bit, except the last bit of a vectorised
    /// transcendental in rare tail positions). Turn it off to debug a single node or to compare the two.
    /// The reference backend never fuses, and <see cref="CheckNumerics"/> turns fusion off so that it can
    /// name the node of each bad value. Setting the environment variable <c>NABLA_FUSION=0</c> turns it off for every session.
    /// </summary>
    public bool Fusion { get; init; } = true;

    /// <summary>
    /// With <see cref="Fusion"/>, run a fused element-wise tree that reads only a MatMul's or Conv2D's output (bias +
    /// activation, the dropout mask) as that kernel's epilogue, on each range of output rows as the kernel finishes it,
    /// while it is in cache (the CPU backend takes it for 2-D float32 MatMul and its direct convolution). A one-output tree
    /// writes over the kernel's output, so it needs no buffer of its own. Results are bit-identical either way.
    /// <para><c>null</c> (the default) chooses per plan: on for a plan that writes no session state (inference:
    /// <c>Predict</c>, <c>Evaluate</c>), off for one that does (a training step). A training step's trees keep several
    /// outputs for the backward pass, which must not share memory with the producer's inputs, so epilogues raised W2's
    /// planned peak by 6.5 % for a gain within the noise; an inference tree has one output and writes in place.</para>
    /// The environment variable <c>NABLA_EPILOGUES=1</c> turns them on for every plan (<c>=0</c> off).
    /// </summary>
    public bool? OutputEpilogues { get; init; }

    /// <summary>
    /// With <see cref="Fusion"/>, run float32 fused steps on the CPU as code generated once per fused program (each
    /// block walked one Vector512 at a time, intermediates in registers) instead of the interpreter (one vectorised call
    /// per instruction per block); on by default. Results are bit-identical either way; programs it cannot compile
    /// (float64, no AVX-512, no dynamic code) are interpreted. Measured on the 2-core Zen 4 machine (<c>--fusion-quick</c>,
    /// both variants interleaved in one process): 20–45 % less time for W2's fused trees and small bias/ReLU/mask trees,
    /// 40 % for a 12-op chain on 1 Mi floats, the same for a tree that is mostly a uniform draw; each program costs one
    /// expression-tree compilation at its first run. The environment variable <c>NABLA_FUSION_CODEGEN=0</c> turns it off
    /// for every session (<c>=1</c> on).
    /// </summary>
    public bool FusedCodegen { get; init; } = true;

    /// <summary>
    /// On a CUDA device, let float32 matrix products and convolutions use TF32 tensor cores (products rounded to a 10-bit
    /// mantissa, float32 accumulation; about 1e-3 relative error), as PyTorch's <c>allow_tf32</c>. Off by default, so float32
    /// results match the CPU's to float32 rounding. Ignored by the host backends.
    /// </summary>
    public bool AllowTf32 { get; init; }

    /// <summary>
    /// On a device with whole-step graphs (CUDA), issue a plan's device work as one CUDA graph from the plan's second run
    /// on (on by default): the run's launches are recorded, compared with the graph captured from the previous run of the
    /// same plan, and that graph is replayed when they are identical, or captured anew when they differ. Results equal
    /// eager launches bit for bit (the replayed work is the same work). A plan whose run cannot be recorded (cuDNN, the
    /// host-staged AllReduce) or whose launch arguments change every run (random ops) falls back to eager launches;
    /// <see cref="RunStatistics.Graph"/> says what each run did. Ignored by the host backends. The environment variable
    /// <c>NABLA_CUDA_GRAPHS=0</c> turns it off for every session (<c>=1</c> on).
    /// </summary>
    public bool CudaGraphs { get; init; } = true;

    /// <summary>The defaults: no checks, immediate host execution, fusion on (as generated code on the CPU).</summary>
    public static SessionOptions Default { get; } = new();
}
