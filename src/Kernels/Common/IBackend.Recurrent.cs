namespace Nabla.Kernels;

/// <summary>The recurrent cell a fused sequence kernel runs (Keras gate orders).</summary>
public enum RnnCell
{
    /// <summary>h = tanh(x·W + h₋₁·R + b) (keras.layers.SimpleRNN); one gate block.</summary>
    SimpleRnn,

    /// <summary>Keras LSTM, gate blocks i, f, c, o: c = f⊙c₋₁ + i⊙tanh(ĉ), h = o⊙tanh(c), i, f, o sigmoid; four blocks.</summary>
    Lstm,

    /// <summary>
    /// Keras GRU, gate blocks z, r, h: h = z⊙h₋₁ + (1 − z)⊙ĥ. With reset_after (TF2's default) the candidate is
    /// ĥ = tanh(x·W_h + b_h + r⊙(h₋₁·R_h + b'_h)) and the bias is [2, 3u] (input row, recurrent row); without it,
    /// ĥ = tanh(x·W_h + (r⊙h₋₁)·R_h + b_h) and the bias is [3u]. Three blocks.
    /// </summary>
    Gru,
}

/// <summary>
/// Geometry of a fused recurrent pass over x [Batch, Time, Input] with <see cref="Units"/> hidden units.
/// Saved tensors (all hidden states, cell states, gate activations) are time-major in processing order: step s reads
/// x[:, s] (or x[:, Time − 1 − s] with <see cref="GoBackwards"/>).
/// </summary>
/// <param name="Cell">Which cell.</param>
/// <param name="Batch">Batch size.</param>
/// <param name="Time">Number of steps.</param>
/// <param name="Input">Features per step.</param>
/// <param name="Units">Hidden units.</param>
/// <param name="GoBackwards">Process the sequence in reverse; outputs stay in processing order (Keras go_backwards).</param>
/// <param name="ResetAfter">GRU only: apply the reset gate after the recurrent product (see <see cref="RnnCell.Gru"/>).</param>
/// <param name="Masked">A [Batch, Time] mask is given: where it is 0 the step is skipped (states carried, output 0).</param>
public readonly record struct RnnArgs(RnnCell Cell, int Batch, int Time, int Input, int Units, bool GoBackwards, bool ResetAfter, bool Masked)
{
    /// <summary>Gate blocks of the weights: 1, 4 or 3.</summary>
    public int Blocks => Cell switch { RnnCell.Lstm => 4, RnnCell.Gru => 3, _ => 1 };

    /// <summary>Width of one saved gate row: LSTM i, f, ĉ, o (4u); GRU z, r, ĥ (3u) and, with reset_after, h₋₁·R_h + b'_h (4u); 0 for SimpleRNN.</summary>
    public int SavedGateWidth => Cell switch { RnnCell.Lstm => 4 * Units, RnnCell.Gru => (ResetAfter ? 4 : 3) * Units, _ => 0 };

    /// <summary>Original time index of processing step s.</summary>
    public int TimeOf(int s) => GoBackwards ? Time - 1 - s : s;
}

/// <summary>Which pass of a fused recurrent op, for <see cref="IBackend.RnnWorkspace"/>.</summary>
public enum RnnPass
{
    /// <summary><see cref="IBackend.RnnForward"/>.</summary>
    Forward,

    /// <summary><see cref="IBackend.RnnBackward"/>.</summary>
    Backward,
}

public partial interface IBackend
{
    /// <summary>Scratch elements (of the op's dtype) a recurrent pass needs; the engine allocates them in the memory plan.</summary>
    long RnnWorkspace(RnnPass pass, in RnnArgs args, DType dtype);

    /// <summary>
    /// Runs a recurrent layer over a whole sequence. x [B, T, I], h0 [B, U], c0 [B, U] (LSTM only), kernel [I, kU],
    /// recurrent [U, kU], bias [kU] ([2, 3U] for a reset_after GRU), mask [B, T] of x's dtype (nonzero = keep; only with
    /// <see cref="RnnArgs.Masked"/>). Writes y [B, T, U] (the step outputs in processing order, 0 at masked steps),
    /// hT and cT [B, U] (the last states), states [T + 1, B, U] (h0 then the state after each step), cells [T + 1, B, U]
    /// (LSTM) and gates [T, B, <see cref="RnnArgs.SavedGateWidth"/>] (LSTM, GRU): what <see cref="RnnBackward"/> reads.
    /// </summary>
    void RnnForward(in RnnArgs args, DeviceBuffer x, DeviceBuffer h0, DeviceBuffer? c0, DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias,
        DeviceBuffer? mask, DeviceBuffer y, DeviceBuffer hT, DeviceBuffer? cT, DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates,
        DeviceBuffer? workspace);

    /// <summary>
    /// Back-propagation through time of <see cref="RnnForward"/>: given its saved states/cells/gates and the gradients
    /// dy [B, T, U], dhT and dcT [B, U], writes dx, dh0, dc0 (LSTM), dKernel, dRecurrent and dBias (shaped as the inputs).
    /// </summary>
    void RnnBackward(in RnnArgs args, DeviceBuffer x, DeviceBuffer kernel, DeviceBuffer recurrent, DeviceBuffer bias, DeviceBuffer? mask,
        DeviceBuffer states, DeviceBuffer? cells, DeviceBuffer? gates, DeviceBuffer dy, DeviceBuffer dhT, DeviceBuffer? dcT,
        DeviceBuffer dx, DeviceBuffer dh0, DeviceBuffer? dc0, DeviceBuffer dKernel, DeviceBuffer dRecurrent, DeviceBuffer dBias, DeviceBuffer? workspace);
}
