using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

internal static partial class CpuPooling
{
    /// <summary>
    /// Whether a float32 forward pool takes <see cref="ForwardNarrow"/>: no more channels than a 512-bit vector holds, and every
    /// window inside its row horizontally (no left padding, the last window ending inside the row), as LeNet's 2×2/2 "valid"
    /// pools over 6 and 16 channels.
    /// </summary>
    internal static bool UsesNarrow(in Pool2DArgs p) =>
        p.C <= 16 && p.PadLeft == 0 && (long)(p.OutW - 1) * p.StrideW + p.KernelW <= p.W && Avx512F.IsSupported;

    /// <summary>
    /// y = pool(x) for <see cref="UsesNarrow"/> shapes, output rows split across cores: the window's image rows are reduced
    /// into one row buffer (whole 512-bit vectors over W·C contiguous elements, or the image row itself for one row), then
    /// each output pixel is one masked vector: KernelW masked loads of its C channels, reduced, one masked store. The same
    /// operations in the same order as the generic path (rows first, then columns from the window's first column).
    /// </summary>
    private static unsafe void ForwardNarrow(PoolKind kind, ArraySegment<float> x, ArraySegment<float> y, Pool2DArgs p)
    {
        var len = p.W * p.C;
        var max = kind == PoolKind.Max;
        var lanes = GemmSkinny.Mask(p.C);
        fixed (float* px0 = x.Array, py0 = y.Array)
        {
            nint px = (nint)(px0 + x.Offset), py = (nint)(py0 + y.Offset);
            For(p.N * p.OutH, (long)y.Count * p.KernelH * p.KernelW, (start, end) =>
            {
                var rented = ArrayPool<float>.Shared.Rent(len + 16);
                try
                {
                    fixed (float* buf = rented)
                        for (var row = start; row < end; row++)
                        {
                            var (n, i) = (row / p.OutH, row % p.OutH);
                            var (r0, r1) = Range(i, p.StrideH, p.PadTop, p.KernelH, p.H);
                            var first = (float*)px + ((nint)n * p.H + r0) * len;
                            var src = r1 - r0 == 1 ? first : buf;
                            for (var r = r0 + 1; r < r1; r++) CombineRows(max, r == r0 + 1 ? first : buf, first + (nint)(r - r0) * len, buf, len);
                            var yRow = (float*)py + (nint)row * p.OutW * p.C;
                            var count = Vector512.Create((float)((r1 - r0) * p.KernelW));
                            for (var j = 0; j < p.OutW; j++)
                            {
                                var s = src + (nint)j * p.StrideW * p.C;
                                var acc = Avx512F.MaskLoad(s, lanes, Vector512<float>.Zero);
                                for (var q = 1; q < p.KernelW; q++)
                                {
                                    var e = Avx512F.MaskLoad(s + q * p.C, lanes, Vector512<float>.Zero);
                                    acc = max ? MaxNaN(acc, e) : acc + e;
                                }
                                Avx512F.MaskStore(yRow + j * p.C, lanes, max ? acc : acc / count);
                            }
                        }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(rented);
                }
            });
        }
    }

    /// <summary>dst[0, len) = max(a, b) (NaN-propagating, a's NaN first) or a + b; dst may be a.</summary>
    private static unsafe void CombineRows(bool max, float* a, float* b, float* dst, int len)
    {
        for (var k = 0; k < len; k += 16)
        {
            var m = GemmSkinny.Mask(len - k);
            var u = Avx512F.MaskLoad(a + k, m, Vector512<float>.Zero);
            var v = Avx512F.MaskLoad(b + k, m, Vector512<float>.Zero);
            Avx512F.MaskStore(dst + k, m, max ? MaxNaN(u, v) : u + v);
        }
    }

    /// <summary>The 512-bit twin of <see cref="MaxNaN{T}(System.Numerics.Vector{T}, System.Numerics.Vector{T})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> MaxNaN(Vector512<float> a, Vector512<float> b) =>
        Vector512.ConditionalSelect(Vector512.Equals(a, a), Vector512.ConditionalSelect(Vector512.Equals(b, b), Vector512.Max(a, b), b), a);
}
