namespace Nabla.Tests.Support;

public static partial class ErrorCases
{
    private static IEnumerable<ErrorCase> RecurrentCases()
    {
        Output P(Graph g, params int[] shape) => Of(g, DType.Float32, shape);

        yield return Shape("SimpleRNN", "rank 2 x", g => g.SimpleRNN(P(g, 2, 3), P(g, 2, 4), P(g, 3, 4), P(g, 4, 4), P(g, 4)), "x must be [batch, time, features]");
        yield return Shape("SimpleRNN", "kernel rows differ from the features", g => g.SimpleRNN(P(g, 2, 5, 3), P(g, 2, 4), P(g, 2, 4), P(g, 4, 4), P(g, 4)), "the kernel must be [features, 1·units] = [3,4]");
        yield return Shape("SimpleRNN", "h0 of another batch", g => g.SimpleRNN(P(g, 2, 5, 3), P(g, 3, 4), P(g, 3, 4), P(g, 4, 4), P(g, 4)), "input 1 must be [batch, units] = [2,4]");
        yield return Shape("SimpleRNN", "int32 x", g => g.SimpleRNN(Of(g, DType.Int32, 2, 5, 3), Of(g, DType.Int32, 2, 4), Of(g, DType.Int32, 3, 4), Of(g, DType.Int32, 4, 4), Of(g, DType.Int32, 4)), "float32 or float64");

        yield return Shape("LSTM", "recurrent kernel not [u, 4u]", g => g.LSTM(P(g, 2, 5, 3), P(g, 2, 4), P(g, 2, 4), P(g, 3, 16), P(g, 4, 12), P(g, 16)), "the recurrent kernel must be [units, 4·units]");
        yield return Shape("LSTM", "bias of the wrong length", g => g.LSTM(P(g, 2, 5, 3), P(g, 2, 4), P(g, 2, 4), P(g, 3, 16), P(g, 4, 16), P(g, 12)), "the bias must be [16]");
        yield return Shape("LSTM", "c0 of the wrong width", g => g.LSTM(P(g, 2, 5, 3), P(g, 2, 4), P(g, 2, 5), P(g, 3, 16), P(g, 4, 16), P(g, 16)), "input 2 must be [batch, units] = [2,4]");
        yield return Shape("LSTM", "mask of the wrong length", g => g.LSTM(P(g, 2, 5, 3), P(g, 2, 4), P(g, 2, 4), P(g, 3, 16), P(g, 4, 16), P(g, 16), P(g, 2, 4)), "the mask must be [batch, time] = [2,5]");
        yield return Shape("LSTM", "float64 h0 with float32 x", g => g.LSTM(P(g, 2, 5, 3), Of(g, DType.Float64, 2, 4), P(g, 2, 4), P(g, 3, 16), P(g, 4, 16), P(g, 16)), "dtypes differ");

        yield return Shape("GRU", "reset_after bias [3u]", g => g.GRU(P(g, 2, 5, 3), P(g, 2, 4), P(g, 3, 12), P(g, 4, 12), P(g, 12), resetAfter: true), "the bias must be [2,12] (reset_after=True)");
        yield return Shape("GRU", "reset-before bias [2, 3u]", g => g.GRU(P(g, 2, 5, 3), P(g, 2, 4), P(g, 3, 12), P(g, 4, 12), P(g, 2, 12), resetAfter: false), "the bias must be [12] (reset_after=False)");
        yield return Shape("GRU", "kernel of 4 blocks", g => g.GRU(P(g, 2, 5, 3), P(g, 2, 4), P(g, 3, 16), P(g, 4, 16), P(g, 2, 12)), "the recurrent kernel must be [units, 3·units]");
        yield return Shape("GRU", "mask of rank 3", g => g.GRU(P(g, 2, 5, 3), P(g, 2, 4), P(g, 3, 12), P(g, 4, 12), P(g, 2, 12), P(g, 2, 5, 1)), "the mask must be [batch, time]");

        // The backward ops: saved tensors and upstream gradients that do not fit the forward geometry.
        yield return Shape("SimpleRNNGrad", "dy of the wrong length", g => g.RecurrentGrad("SimpleRNNGrad", [P(g, 2, 5, 3), P(g, 3, 4), P(g, 4, 4), P(g, 4), P(g, 6, 2, 4), P(g, 2, 4, 4), P(g, 2, 4)], false, false), "dy (input 5) must be [2,5,4]");
        yield return Shape("SimpleRNNGrad", "states of the wrong length", g => g.RecurrentGrad("SimpleRNNGrad", [P(g, 2, 5, 3), P(g, 3, 4), P(g, 4, 4), P(g, 4), P(g, 5, 2, 4), P(g, 2, 5, 4), P(g, 2, 4)], false, false), "the saved states (input 4) must be [6,2,4]");
        yield return Shape("SimpleRNNGrad", "a mask input without masked", g => g.RecurrentGrad("SimpleRNNGrad", [P(g, 2, 5, 3), P(g, 3, 4), P(g, 4, 4), P(g, 4), P(g, 6, 2, 4), P(g, 2, 5, 4), P(g, 2, 4), P(g, 2, 5)], false, false), "expected 7 inputs (masked=False), got 8");
        yield return Shape("LSTMGrad", "gates of the wrong width", g => g.RecurrentGrad("LSTMGrad", [P(g, 2, 5, 3), P(g, 3, 16), P(g, 4, 16), P(g, 16), P(g, 6, 2, 4), P(g, 6, 2, 4), P(g, 5, 2, 12), P(g, 2, 5, 4), P(g, 2, 4), P(g, 2, 4)], false, false), "the saved gates (input 6) must be [5,2,16]");
        yield return Shape("LSTMGrad", "cells of another batch", g => g.RecurrentGrad("LSTMGrad", [P(g, 2, 5, 3), P(g, 3, 16), P(g, 4, 16), P(g, 16), P(g, 6, 2, 4), P(g, 6, 3, 4), P(g, 5, 2, 16), P(g, 2, 5, 4), P(g, 2, 4), P(g, 2, 4)], false, false), "the saved cells (input 5) must be [6,2,4]");
        yield return Shape("LSTMGrad", "dcT of the wrong width", g => g.RecurrentGrad("LSTMGrad", [P(g, 2, 5, 3), P(g, 3, 16), P(g, 4, 16), P(g, 16), P(g, 6, 2, 4), P(g, 6, 2, 4), P(g, 5, 2, 16), P(g, 2, 5, 4), P(g, 2, 4), P(g, 2, 3)], false, false), "input 9 must be [batch, units] = [2,4]");
        yield return Shape("GRUGrad", "reset_after gates of width 3u", g => g.RecurrentGrad("GRUGrad", [P(g, 2, 5, 3), P(g, 3, 12), P(g, 4, 12), P(g, 2, 12), P(g, 6, 2, 4), P(g, 5, 2, 12), P(g, 2, 5, 4), P(g, 2, 4)], false, false, true), "the saved gates (input 5) must be [5,2,16]");
        yield return Shape("GRUGrad", "float64 dy", g => g.RecurrentGrad("GRUGrad", [P(g, 2, 5, 3), P(g, 3, 12), P(g, 4, 12), P(g, 2, 12), P(g, 6, 2, 4), P(g, 5, 2, 16), Of(g, DType.Float64, 2, 5, 4), P(g, 2, 4)], false, false, true), "dtypes differ");
        yield return Shape("GRUGrad", "x of rank 4", g => g.RecurrentGrad("GRUGrad", [P(g, 2, 5, 3, 1), P(g, 3, 12), P(g, 4, 12), P(g, 12), P(g, 6, 2, 4), P(g, 5, 2, 12), P(g, 2, 5, 4), P(g, 2, 4)], false, false, false), "x must be [batch, time, features]");
    }
}
