using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Fused recurrent kernels (SimpleRNN, LSTM, GRU over a whole sequence), laid out as cuDNN's RNN API: one GEMM projects
/// the inputs of all time steps (forward: in x's batch-major order; backward: x is first gathered time-major, in
/// processing order), then each step runs one recurrent GEMM h₋₁·R (R packed once per call) on its batch rows and the
/// gate math on contiguous rows (float32 LSTM: one vector pass per row, <c>LstmRow</c>/<c>LstmRowBackward</c>;
/// otherwise span operations). Batch rows never interact, so the batch is split into fixed chunks (one per core when
/// there is enough work), each running every step on its own rows: no barrier per step, and the result does not depend on scheduling. The backward pass runs BPTT the same
/// way, keeping the gate gradients of every step (dIn, dRec) so that dW, dR, db and dx are four big GEMMs/sums at the end.
/// </summary>
/// <remarks>
/// Workspace layout (forward): P [B·T·n] | Z [B·n] | RH [B·U], with n = blocks·U. Backward:
/// Xtm [T·B·I] | dXtm [T·B·I] | dIn [T·B·n] | dRec [T·B·n] (reset_after GRU) | RH [T·B·U] (reset-before GRU) | five [B·U]
/// rows (dh, dc, dhc, dhn, drh). NaN/±∞ propagate through the products and gates as in the formulas.
/// </remarks>
internal static unsafe class CpuRecurrent
{
    /// <summary>Below this many recurrent flops (2·T·B·U·n) the sequence runs on the calling thread.</summary>
    private const double ParallelFlops = 4e6;

    /// <summary>Fewest batch rows per chunk: fewer make the per-step GEMMs too thin to pay for a core.</summary>
    private const int MinChunkRows = 4;

    private static int N(in RnnArgs a) => a.Blocks * a.Units;

    private static bool ResetAfterGru(in RnnArgs a) => a.Cell == RnnCell.Gru && a.ResetAfter;

    private static bool ResetBeforeGru(in RnnArgs a) => a.Cell == RnnCell.Gru && !a.ResetAfter;

    public static long Workspace(RnnPass pass, in RnnArgs a)
    {
        long tb = (long)a.Time * a.Batch, n = N(a);
        return pass == RnnPass.Forward
            ? tb * n + (long)a.Batch * n + (long)a.Batch * a.Units
            : 2 * tb * a.Input + tb * n * (ResetAfterGru(a) ? 2 : 1) + (ResetBeforeGru(a) ? tb * a.Units : 0) + 5L * a.Batch * a.Units;
    }

    /// <summary>Pointers of one call, as integers so the chunk lambdas can capture them.</summary>
    private readonly record struct Bufs(nint X, nint H0, nint C0, nint W, nint R, nint Bias, nint Mask, nint Y, nint States, nint Cells, nint Gates,
        nint Dy, nint Dx, nint Ws, bool Deterministic = false, nint PackedR = 0, nint PackedRh = 0);

    public static void Forward<T>(in RnnArgs args0, bool deterministic, T* x, T* h0, T* c0, T* w, T* r, T* bias, T* mask, T* y, T* hT, T* cT, T* states, T* cells, T* gates, T* ws)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = args0;
        int b = a.Batch, u = a.Units, n = N(a);
        long tb = (long)a.Time * b;
        T* p = ws;
        // The input part of every step at once, in x's batch-major order: row bi·T + t of P is x[bi, t]·W.
        Gemm.Product(false, false, (int)tb, n, a.Input, x, a.Input, w, n, p, n, accumulate: false, parallel: true);
        if (!BiasInRow<T>(a, deterministic))
        {
            var inBias = new ReadOnlySpan<T>(bias, n);
            for (long i = 0; i < tb; i++) TensorPrimitives.Add(new ReadOnlySpan<T>(p + i * n, n), inBias, new Span<T>(p + i * n, n));
        }
        new ReadOnlySpan<T>(h0, b * u).CopyTo(new Span<T>(states, b * u));
        if (cells != null) new ReadOnlySpan<T>(c0, b * u).CopyTo(new Span<T>(cells, b * u));
        var bufs = new Bufs((nint)x, 0, 0, (nint)w, (nint)r, (nint)bias, (nint)mask, (nint)y, (nint)states, (nint)cells, (nint)gates, 0, 0, (nint)ws, deterministic);
        var args = a;
        using (var packed = typeof(T) == typeof(float) ? new PackedRecurrent(a, transB: false, (float*)r) : null)
        {
            if (packed is not null) bufs = bufs with { PackedR = packed.Full, PackedRh = packed.Candidate };
            RunChunks(a, (lo, hi) => ForwardChunk<T>(args, bufs, lo, hi));
        }
        new ReadOnlySpan<T>(states + tb * u, b * u).CopyTo(new Span<T>(hT, b * u));
        if (cells != null) new ReadOnlySpan<T>(cells + tb * u, b * u).CopyTo(new Span<T>(cT, b * u));
    }

    private static void ForwardChunk<T>(in RnnArgs a, Bufs bufs, int lo, int hi) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = a.Batch, u = a.Units, n = N(a), rows = hi - lo, sg = a.SavedGateWidth;
        long tb = (long)a.Time * b;
        T* r = (T*)bufs.R, bias = (T*)bufs.Bias, mask = (T*)bufs.Mask, y = (T*)bufs.Y, states = (T*)bufs.States, cells = (T*)bufs.Cells, gates = (T*)bufs.Gates;
        T* p = (T*)bufs.Ws, z = p + tb * n, rh = z + (long)b * n;
        var det = bufs.Deterministic;
        var fused = BiasInRow<T>(a, det);
        var time = a.Time;
        for (var s = 0; s < a.Time; s++)
        {
            T* hp = states + ((long)s * b + lo) * u, hn = hp + (long)b * u, zs = z + (long)lo * n;
            var t = a.TimeOf(s);
            T* P(int i) => p + ((long)(lo + i) * time + t) * n; // row i's input part at this step
            // The recurrent product; a reset-before GRU multiplies its candidate block by r⊙h₋₁ further down.
            StepProduct(false, rows, ResetBeforeGru(a) ? 2 * u : n, u, hp, u, r, n, zs, n, bufs.PackedR);
            for (var i = 0; i < rows; i++)
            {
                T* pr = P(i), zr = zs + (long)i * n, hPrev = hp + (long)i * u, hNew = hn + (long)i * u;
                var g = gates + ((long)s * b + lo + i) * sg;
                switch (a.Cell)
                {
                    case RnnCell.SimpleRnn:
                        Add(pr, zr, zr, n);
                        Tanh(det, Ro(zr, u), Sp(hNew, u));
                        break;
                    case RnnCell.Lstm when fused:
                        {
                            T* cPrev = cells + ((long)s * b + lo + i) * u;
                            LstmRow((float*)pr, (float*)bias, (float*)zr, (float*)g, (float*)cPrev, (float*)(cPrev + (long)b * u), (float*)hNew, u);
                            break;
                        }
                    case RnnCell.Lstm:
                        {
                            Add(pr, zr, g, n);
                            Sigmoid(det, Ro(g, 2 * u), Sp(g, 2 * u));
                            Tanh(det, Ro(g + 2 * u, u), Sp(g + 2 * u, u));
                            Sigmoid(det, Ro(g + 3 * u, u), Sp(g + 3 * u, u));
                            T* cPrev = cells + ((long)s * b + lo + i) * u, cNew = cPrev + (long)b * u;
                            TensorPrimitives.Multiply(Ro(g + u, u), Ro(cPrev, u), Sp(cNew, u));
                            TensorPrimitives.FusedMultiplyAdd(Ro(g, u), Ro(g + 2 * u, u), Ro(cNew, u), Sp(cNew, u));
                            Tanh(det, Ro(cNew, u), Sp(hNew, u));
                            TensorPrimitives.Multiply(Ro(hNew, u), Ro(g + 3 * u, u), Sp(hNew, u));
                            break;
                        }
                    case RnnCell.Gru when a.ResetAfter:
                        Add(zr, bias + n, zr, n);
                        Add(pr, zr, g, 2 * u);
                        Sigmoid(det, Ro(g, 2 * u), Sp(g, 2 * u));
                        new ReadOnlySpan<T>(zr + 2 * u, u).CopyTo(Sp(g + 3 * u, u));
                        TensorPrimitives.FusedMultiplyAdd(Ro(g + u, u), Ro(zr + 2 * u, u), Ro(pr + 2 * u, u), Sp(g + 2 * u, u));
                        Tanh(det, Ro(g + 2 * u, u), Sp(g + 2 * u, u));
                        GruBlend(g, hPrev, hNew, u);
                        break;
                    case RnnCell.Gru:
                        Add(pr, zr, g, 2 * u);
                        Sigmoid(det, Ro(g, 2 * u), Sp(g, 2 * u));
                        TensorPrimitives.Multiply(Ro(g + u, u), Ro(hPrev, u), Sp(rh + (long)(lo + i) * u, u));
                        break;
                }
            }
            if (ResetBeforeGru(a))
            {
                StepProduct(false, rows, u, u, rh + (long)lo * u, u, r + 2 * u, n, zs + 2 * u, n, bufs.PackedRh);
                for (var i = 0; i < rows; i++)
                {
                    var g = gates + ((long)s * b + lo + i) * sg;
                    Add(P(i) + 2 * u, zs + (long)i * n + 2 * u, g + 2 * u, u);
                    Tanh(det, Ro(g + 2 * u, u), Sp(g + 2 * u, u));
                    GruBlend(g, hp + (long)i * u, hn + (long)i * u, u);
                }
            }
            for (var i = 0; i < rows; i++)
            {
                var bi = lo + i;
                var yr = Sp(y + ((long)bi * a.Time + s) * u, u);
                if (mask == null || mask[(long)bi * a.Time + a.TimeOf(s)] != T.Zero)
                {
                    Ro(hn + (long)i * u, u).CopyTo(yr);
                    continue;
                }
                // A masked step: the states pass through and the output is 0.
                yr.Clear();
                Ro(hp + (long)i * u, u).CopyTo(Sp(hn + (long)i * u, u));
                if (cells != null)
                {
                    var c = cells + ((long)s * b + bi) * u;
                    Ro(c, u).CopyTo(Sp(c + (long)b * u, u));
                }
            }
        }
    }

    /// <summary>
    /// Whether the forward pass adds the input bias inside <see cref="LstmRow"/> (float32 LSTM with AVX-512, not in
    /// deterministic mode) instead of in a pass over every step's input part beforehand.
    /// </summary>
    private static bool BiasInRow<T>(in RnnArgs a, bool deterministic) =>
        typeof(T) == typeof(float) && !deterministic && Avx512F.IsSupported && a.Cell == RnnCell.Lstm;

    /// <summary>
    /// One LSTM row's gate math in one pass, 16 lanes at a time: the operations of the span path in the same order,
    /// (p + b) + z for each block, σ/tanh of <see cref="VectorMath"/>, c = i·ĉ + f·c₋₁ (one rounding), h = tanh(c)·o,
    /// so the same bits, without its eight span calls per row and the pass that added the bias to every step's input part.
    /// </summary>
    private static void LstmRow(float* p, float* bias, float* z, float* g, float* cPrev, float* cNew, float* hNew, int u)
    {
        for (var j = 0; j < u; j += 16)
        {
            var m = GemmSkinny.Mask(Math.Min(16, u - j));
            var i = VectorMath.Sigmoid(GateInput(p, bias, z, j, m));
            var f = VectorMath.Sigmoid(GateInput(p, bias, z, u + j, m));
            var c = VectorMath.Tanh(GateInput(p, bias, z, 2 * u + j, m));
            var o = VectorMath.Sigmoid(GateInput(p, bias, z, 3 * u + j, m));
            Avx512F.MaskStore(g + j, m, i);
            Avx512F.MaskStore(g + u + j, m, f);
            Avx512F.MaskStore(g + 2 * u + j, m, c);
            Avx512F.MaskStore(g + 3 * u + j, m, o);
            var cell = Vector512.FusedMultiplyAdd(i, c, f * Avx512F.MaskLoad(cPrev + j, m, Vector512<float>.Zero));
            Avx512F.MaskStore(cNew + j, m, cell);
            Avx512F.MaskStore(hNew + j, m, VectorMath.Tanh(cell) * o);
        }
    }

    /// <summary>
    /// One LSTM row of back-propagation, 16 lanes at a time (float32, AVX-512): the scalar loop's formulas with tanh(c)
    /// from <see cref="VectorMath.Tanh"/>. With δc = dc + dh·o·(1 − tanh²c): the gate-input gradients
    /// δc·ĉ·i(1 − i), δc·c₋₁·f(1 − f), δc·i·(1 − ĉ²), dh·tanh c·o(1 − o), and dc₋₁ = δc·f (written over dc).
    /// </summary>
    private static void LstmRowBackward(float* g, float* c, float* cPrev, float* dc, float* dh, float* di, int u)
    {
        var one = Vector512<float>.One;
        for (var j = 0; j < u; j += 16)
        {
            var m = GemmSkinny.Mask(Math.Min(16, u - j));
            Vector512<float> L(float* q) => Avx512F.MaskLoad(q + j, m, Vector512<float>.Zero);
            Vector512<float> ig = L(g), fg = L(g + u), gg = L(g + 2 * u), og = L(g + 3 * u), dhc = L(dh);
            var tc = VectorMath.Tanh(L(c));
            var dct = L(dc) + dhc * og * (one - tc * tc);
            Avx512F.MaskStore(di + j, m, dct * gg * ig * (one - ig));
            Avx512F.MaskStore(di + u + j, m, dct * L(cPrev) * fg * (one - fg));
            Avx512F.MaskStore(di + 2 * u + j, m, dct * ig * (one - gg * gg));
            Avx512F.MaskStore(di + 3 * u + j, m, dhc * tc * og * (one - og));
            Avx512F.MaskStore(dc + j, m, dct * fg);
        }
    }

    private static Vector512<float> GateInput(float* p, float* bias, float* z, int at, Vector512<float> m) =>
        Avx512F.MaskLoad(p + at, m, Vector512<float>.Zero) + Avx512F.MaskLoad(bias + at, m, Vector512<float>.Zero) + Avx512F.MaskLoad(z + at, m, Vector512<float>.Zero);

    /// <summary>GRU output h = ĥ + z⊙(h₋₁ − ĥ) = z⊙h₋₁ + (1 − z)⊙ĥ, with z and ĥ the first and third blocks of the gate row.</summary>
    private static void GruBlend<T>(T* g, T* hPrev, T* hNew, int u) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Subtract(Ro(hPrev, u), Ro(g + 2 * u, u), Sp(hNew, u));
        TensorPrimitives.FusedMultiplyAdd(Ro(g, u), Ro(hNew, u), Ro(g + 2 * u, u), Sp(hNew, u));
    }

    public static void Backward<T>(in RnnArgs a, bool deterministic, T* x, T* w, T* r, T* mask, T* states, T* cells, T* gates, T* dy, T* dhT, T* dcT,
        T* dx, T* dh0, T* dc0, T* dW, T* dR, T* dBias, T* ws) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = a.Batch, u = a.Units, n = N(a);
        long tb = (long)a.Time * b;
        T* xtm = ws, dxtm = xtm + tb * a.Input, dIn = dxtm + tb * a.Input, dRec = ResetAfterGru(a) ? dIn + tb * n : dIn;
        T* rhAll = dIn + tb * n * (ResetAfterGru(a) ? 2 : 1), dh = rhAll + (ResetBeforeGru(a) ? tb * u : 0), dc = dh + (long)b * u;
        GatherTimeMajor(a, x, xtm);
        Ro(dhT, b * u).CopyTo(Sp(dh, b * u));
        if (dcT != null) Ro(dcT, b * u).CopyTo(Sp(dc, b * u));
        var bufs = new Bufs(0, 0, 0, (nint)w, (nint)r, 0, (nint)mask, 0, (nint)states, (nint)cells, (nint)gates, (nint)dy, 0, (nint)ws, deterministic);
        var args = a;
        using (var packed = typeof(T) == typeof(float) ? new PackedRecurrent(a, transB: true, (float*)r) : null)
        {
            if (packed is not null) bufs = bufs with { PackedR = packed.Full, PackedRh = packed.Candidate };
            RunChunks(a, (lo, hi) => BackwardChunk<T>(args, bufs, lo, hi));
        }

        // The parameter and input gradients, from the gate gradients of all steps at once.
        Gemm.Product(true, false, a.Input, n, (int)tb, xtm, a.Input, dIn, n, dW, n, accumulate: false, parallel: true);
        Gemm.Product(false, true, (int)tb, a.Input, n, dIn, n, w, n, dxtm, a.Input, accumulate: false, parallel: true);
        ScatterBatchMajor(a, dxtm, dx);
        if (ResetBeforeGru(a))
        {
            Gemm.Product(true, false, u, 2 * u, (int)tb, states, u, dIn, n, dR, n, accumulate: false, parallel: false);
            Gemm.Product(true, false, u, u, (int)tb, rhAll, u, dIn + 2 * u, n, dR + 2 * u, n, accumulate: false, parallel: false);
        }
        else Gemm.Product(true, false, u, n, (int)tb, states, u, dRec, n, dR, n, accumulate: false, parallel: true);
        ColumnSums(dIn, tb, n, dBias);
        if (ResetAfterGru(a)) ColumnSums(dRec, tb, n, dBias + n);
        Ro(dh, b * u).CopyTo(Sp(dh0, b * u));
        if (dc0 != null) Ro(dc, b * u).CopyTo(Sp(dc0, b * u));
    }

    private static void BackwardChunk<T>(in RnnArgs a, Bufs bufs, int lo, int hi) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = a.Batch, u = a.Units, n = N(a), rows = hi - lo, sg = a.SavedGateWidth;
        long tb = (long)a.Time * b;
        T* r = (T*)bufs.R, mask = (T*)bufs.Mask, states = (T*)bufs.States, cells = (T*)bufs.Cells, gates = (T*)bufs.Gates, dy = (T*)bufs.Dy;
        T* dIn = (T*)bufs.Ws + 2 * tb * a.Input, dRec = ResetAfterGru(a) ? dIn + tb * n : dIn;
        T* rhAll = dIn + tb * n * (ResetAfterGru(a) ? 2 : 1), dh = rhAll + (ResetBeforeGru(a) ? tb * u : 0);
        T* dc = dh + (long)b * u, dhc = dc + (long)b * u, dhn = dhc + (long)b * u, drh = dhn + (long)b * u;
        var keep = new bool[rows];
        var vectorLstm = typeof(T) == typeof(float) && !bufs.Deterministic && Avx512F.IsSupported;
        for (var s = a.Time - 1; s >= 0; s--)
        {
            T* hp = states + ((long)s * b + lo) * u, dIs = dIn + ((long)s * b + lo) * n, dRs = dRec + ((long)s * b + lo) * n;
            for (var i = 0; i < rows; i++)
            {
                var bi = lo + i;
                keep[i] = mask == null || mask[(long)bi * a.Time + a.TimeOf(s)] != T.Zero;
                T* di = dIs + (long)i * n, dr = dRs + (long)i * n, hPrev = hp + (long)i * u, dhcRow = dhc + (long)bi * u;
                if (ResetBeforeGru(a)) Sp(rhAll + ((long)s * b + bi) * u, u).Clear();
                if (!keep[i])
                {
                    Sp(di, n).Clear();
                    if (dr != di) Sp(dr, n).Clear();
                    continue;
                }
                TensorPrimitives.Add(Ro(dh + (long)bi * u, u), Ro(dy + ((long)bi * a.Time + s) * u, u), Sp(dhcRow, u));
                var g = gates + ((long)s * b + bi) * sg;
                switch (a.Cell)
                {
                    case RnnCell.SimpleRnn:
                        {
                            var h = hp + (long)b * u + (long)i * u;
                            for (var j = 0; j < u; j++) di[j] = dhcRow[j] * (T.One - h[j] * h[j]);
                            break;
                        }
                    case RnnCell.Lstm when vectorLstm:
                        {
                            T* c = cells + ((long)(s + 1) * b + bi) * u, cPrev = cells + ((long)s * b + bi) * u;
                            LstmRowBackward((float*)g, (float*)c, (float*)cPrev, (float*)(dc + (long)bi * u), (float*)dhcRow, (float*)di, u);
                            break;
                        }
                    case RnnCell.Lstm:
                        {
                            T* c = cells + ((long)(s + 1) * b + bi) * u, cPrev = cells + ((long)s * b + bi) * u, dcRow = dc + (long)bi * u;
                            for (var j = 0; j < u; j++)
                            {
                                T ig = g[j], fg = g[u + j], gg = g[2 * u + j], og = g[3 * u + j], tc = T.Tanh(c[j]);
                                var dct = dcRow[j] + dhcRow[j] * og * (T.One - tc * tc);
                                di[j] = dct * gg * ig * (T.One - ig);
                                di[u + j] = dct * cPrev[j] * fg * (T.One - fg);
                                di[2 * u + j] = dct * ig * (T.One - gg * gg);
                                di[3 * u + j] = dhcRow[j] * tc * og * (T.One - og);
                                dcRow[j] = dct * fg;
                            }
                            break;
                        }
                    case RnnCell.Gru:
                        for (var j = 0; j < u; j++)
                        {
                            T z = g[j], rg = g[u + j], hh = g[2 * u + j];
                            di[2 * u + j] = dhcRow[j] * (T.One - z) * (T.One - hh * hh);
                            di[j] = dhcRow[j] * (hPrev[j] - hh) * z * (T.One - z);
                            if (a.ResetAfter)
                            {
                                dr[j] = di[j];
                                dr[2 * u + j] = di[2 * u + j] * rg;
                                var drg = di[2 * u + j] * g[3 * u + j];
                                di[u + j] = dr[u + j] = drg * rg * (T.One - rg);
                            }
                            else rhAll[((long)s * b + bi) * u + j] = rg * hPrev[j];
                        }
                        break;
                }
            }
            if (ResetBeforeGru(a))
            {
                // d(r⊙h₋₁) = dĥ_pre·R_hᵀ, then dr = d(r⊙h₋₁)⊙h₋₁.
                StepProduct(true, rows, u, u, dIs + 2 * u, n, r + 2 * u, n, drh + (long)lo * u, u, bufs.PackedRh);
                for (var i = 0; i < rows; i++)
                {
                    if (!keep[i]) continue;
                    T* di = dIs + (long)i * n, g = gates + ((long)s * b + lo + i) * sg, hPrev = hp + (long)i * u, d = drh + (long)(lo + i) * u;
                    for (var j = 0; j < u; j++) di[u + j] = d[j] * hPrev[j] * g[u + j] * (T.One - g[u + j]);
                }
            }
            // dh₋₁ = dRec·Rᵀ (over the blocks multiplying h₋₁) plus the direct terms.
            StepProduct(true, rows, u, ResetBeforeGru(a) ? 2 * u : n, dRs, n, r, n, dhn + (long)lo * u, u, bufs.PackedR);
            for (var i = 0; i < rows; i++)
            {
                if (!keep[i]) continue; // a skipped step passes dh (and dc) through unchanged
                var bi = lo + i;
                T* dhRow = dh + (long)bi * u, dn = dhn + (long)bi * u, dhcRow = dhc + (long)bi * u, g = gates + ((long)s * b + bi) * sg;
                if (a.Cell == RnnCell.Gru)
                {
                    TensorPrimitives.FusedMultiplyAdd(Ro(dhcRow, u), Ro(g, u), Ro(dn, u), Sp(dn, u));
                    if (!a.ResetAfter) TensorPrimitives.FusedMultiplyAdd(Ro(drh + (long)bi * u, u), Ro(g + u, u), Ro(dn, u), Sp(dn, u));
                }
                Ro(dn, u).CopyTo(Sp(dhRow, u));
            }
        }
    }

    /// <summary>xtm[s, b, :] = x[b, t(s), :]: the processing order, time-major, so each step's rows are contiguous.</summary>
    private static void GatherTimeMajor<T>(in RnnArgs a, T* x, T* xtm) where T : unmanaged
    {
        for (var s = 0; s < a.Time; s++)
            for (var bi = 0; bi < a.Batch; bi++)
                new ReadOnlySpan<T>(x + ((long)bi * a.Time + a.TimeOf(s)) * a.Input, a.Input).CopyTo(new Span<T>(xtm + ((long)s * a.Batch + bi) * a.Input, a.Input));
    }

    private static void ScatterBatchMajor<T>(in RnnArgs a, T* xtm, T* x) where T : unmanaged
    {
        for (var s = 0; s < a.Time; s++)
            for (var bi = 0; bi < a.Batch; bi++)
                new ReadOnlySpan<T>(xtm + ((long)s * a.Batch + bi) * a.Input, a.Input).CopyTo(new Span<T>(x + ((long)bi * a.Time + a.TimeOf(s)) * a.Input, a.Input));
    }

    /// <summary>dst[j] = Σ rows src[i, j], row by row in order (deterministic).</summary>
    private static void ColumnSums<T>(T* src, long rows, int n, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var acc = new Span<T>(dst, n);
        acc.Clear();
        for (long i = 0; i < rows; i++) TensorPrimitives.Add(new ReadOnlySpan<T>(src + i * n, n), acc, acc);
    }

    /// <summary>
    /// One step's product C[rows×cols] (row stride ldc) = A[rows×k]·op(B) (op(B) k×cols, B with row stride ldb), from op(B)
    /// packed once per call when there is a packed copy and the blocked GEMM would run (the same bits as packing it here),
    /// else as any strided product.
    /// </summary>
    private static void StepProduct<T>(bool transB, int rows, int cols, int k, T* a, int lda, T* b, int ldb, T* c, int ldc, nint packed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (packed != 0 && !GemmSkinny.Applies(transB, rows, cols))
            GemmDriver<GemmKernel512>.RunPackedB(rows, cols, k, (float*)a, lda, (float*)packed, (float*)c, ldc);
        else
            Gemm.Product(false, transB, rows, cols, k, a, lda, b, ldb, c, ldc, accumulate: false, parallel: false);
    }

    /// <summary>
    /// The recurrent kernel's operands of the per-step products, packed once per call for the blocked float32 GEMM (one
    /// step's product is only [rows, U]×[U, kU], so packing R at every step cost about a third of it): forward R[:, 0..c₁)
    /// and (reset-before GRU) R[:, 2U..3U); backward the transposes of the same blocks. Null pointers when the products
    /// will not use them (float64, no AVX-512, a batch the few-rows kernel takes).
    /// </summary>
    private sealed class PackedRecurrent : IDisposable
    {
        private float* _memory;

        public PackedRecurrent(in RnnArgs a, bool transB, float* r)
        {
            int u = a.Units, n = N(a);
            if (!Vector512.IsHardwareAccelerated || a.Batch <= GemmSkinny.MaxRows) return;
            var wide = ResetBeforeGru(a) ? 2 * u : n;
            // Forward: op(B) = R[:, 0..wide) is u×wide; backward: op(B) = R[:, 0..wide)ᵀ is wide×u.
            var (cols1, k1) = transB ? (u, wide) : (wide, u);
            long first = GemmDriver<GemmKernel512>.PackedBFloats(cols1, k1), second = ResetBeforeGru(a) ? GemmDriver<GemmKernel512>.PackedBFloats(u, u) : 0;
            _memory = (float*)NativeMemory.Alloc((nuint)(first + second), sizeof(float));
            Full = (nint)GemmDriver<GemmKernel512>.PackWholeB(transB, cols1, k1, r, n, _memory);
            if (ResetBeforeGru(a)) Candidate = (nint)GemmDriver<GemmKernel512>.PackWholeB(transB, u, u, r + 2 * u, n, _memory + first);
        }

        /// <summary>The packed R[:, 0..c₁) (or its transpose), or 0.</summary>
        public nint Full { get; }

        /// <summary>The packed R[:, 2U..3U) of a reset-before GRU (or its transpose), or 0.</summary>
        public nint Candidate { get; }

        public void Dispose()
        {
            NativeMemory.Free(_memory);
            _memory = null;
        }
    }

    /// <summary>Runs body over fixed batch chunks: one on the calling thread when small, one per core otherwise.</summary>
    private static void RunChunks(in RnnArgs a, Action<int, int> body)
    {
        var flops = 2.0 * a.Time * a.Batch * a.Units * N(a);
        var chunks = flops < ParallelFlops ? 1 : Math.Clamp(a.Batch / MinChunkRows, 1, Environment.ProcessorCount);
        if (chunks == 1)
        {
            body(0, a.Batch);
            return;
        }
        var batch = a.Batch;
        KernelThreads.For(0, chunks, c => body(batch * c / chunks, batch * (c + 1) / chunks));
    }

    /// <summary>
    /// The logistic function over a row: TensorPrimitives' vectorised one, or in deterministic mode (see
    /// <see cref="CpuBackend"/>) element by element in float64 with the C library, which the JIT never changes.
    /// </summary>
    private static void Sigmoid<T>(bool deterministic, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!deterministic)
        {
            if (typeof(T) == typeof(float) && Avx512F.IsSupported)
                fixed (T* px = x, py = y)
                    VectorMath.Map<VectorMath.SigmoidFunction>((float*)px, (float*)py, x.Length);
            else TensorPrimitives.Sigmoid(x, y);
            return;
        }
        for (var i = 0; i < x.Length; i++) y[i] = T.CreateTruncating(1 / (1 + Math.Exp(-double.CreateTruncating(x[i]))));
    }

    /// <summary>tanh over a row; deterministic mode as <see cref="Sigmoid{T}"/>.</summary>
    private static void Tanh<T>(bool deterministic, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!deterministic)
        {
            if (typeof(T) == typeof(float) && Avx512F.IsSupported)
                fixed (T* px = x, py = y)
                    VectorMath.Map<VectorMath.TanhFunction>((float*)px, (float*)py, x.Length);
            else TensorPrimitives.Tanh(x, y);
            return;
        }
        for (var i = 0; i < x.Length; i++) y[i] = T.CreateTruncating(Math.Tanh(double.CreateTruncating(x[i])));
    }

    private static void Add<T>(T* a, T* b, T* dst, int count) where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorPrimitives.Add(new ReadOnlySpan<T>(a, count), new ReadOnlySpan<T>(b, count), new Span<T>(dst, count));

    private static ReadOnlySpan<T> Ro<T>(T* p, int count) where T : unmanaged => new(p, count);

    private static Span<T> Sp<T>(T* p, int count) where T : unmanaged => new(p, count);
}
