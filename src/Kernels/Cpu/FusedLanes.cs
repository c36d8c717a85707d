using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// The vector operations a generated fused kernel (<see cref="FusedCodegen"/>) calls, one Vector512 of 16 floats
/// at a time. Each is the operation the interpreter's span kernel applies per vector (TensorPrimitives' operator, or
/// the comparison and select loops of <see cref="HostBackend"/>), so generated and interpreted results agree bit for
/// bit; functions with no such single-vector form run the interpreter's own span kernel over the whole block (<see cref="UnaryBlock"/>).
/// </summary>
/// <remarks>Comparisons, select and logic give 1 or 0, as the interpreter (the all-ones mask ANDed with the bits of 1).
/// Max and Min are IEEE 754:2019 maximum and minimum (NaN if either is NaN, +0 above −0), as TensorPrimitives'.</remarks>
internal static class FusedLanes
{
    public const int Count = 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float[] a, int i) => Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(a), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float[] a, int i, Vector512<float> v) => v.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(a), (nuint)i);

    /// <summary>Elements a[i … i + n), n &lt; 16, with zeros above (the tail of a block: nothing is read past it).</summary>
    public static Vector512<float> LoadPartial(float[] a, int i, int n)
    {
        Span<float> lanes = stackalloc float[Count];
        lanes.Clear();
        a.AsSpan(i, n).CopyTo(lanes);
        return Vector512.Create<float>(lanes);
    }

    public static void StorePartial(float[] a, int i, int n, Vector512<float> v)
    {
        Span<float> lanes = stackalloc float[Count];
        v.CopyTo(lanes);
        lanes[..n].CopyTo(a.AsSpan(i, n));
    }

    /// <summary>a[i + k] = v[k] ≠ 0 for k &lt; n (a bool output; NaN is true).</summary>
    public static void StoreBool(bool[] a, int i, int n, Vector512<float> v)
    {
        var ones = ~Vector512.Equals(v, Vector512<float>.Zero).AsInt32() & Vector512<int>.One;
        Span<byte> lanes = stackalloc byte[Count];
        if (Avx512F.IsSupported) Avx512F.ConvertToVector128Byte(ones).CopyTo(lanes);
        else for (var k = 0; k < Count; k++) lanes[k] = (byte)ones[k];
        lanes[..n].CopyTo(MemoryMarshal.Cast<bool, byte>(a.AsSpan(i, n)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Neg(Vector512<float> x) => -x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Abs(Vector512<float> x) => Vector512.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Square(Vector512<float> x) => x * x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sqrt(Vector512<float> x) => Vector512.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Reciprocal(Vector512<float> x) => Vector512<float>.One / x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Rsqrt(Vector512<float> x) => Vector512<float>.One / Vector512.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Equal(Vector512<float> a, Vector512<float> b) => Vector512.Equals(a, b) & Vector512<float>.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> NotEqual(Vector512<float> a, Vector512<float> b) => ~Vector512.Equals(a, b) & Vector512<float>.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Less(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b) & Vector512<float>.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LessEqual(Vector512<float> a, Vector512<float> b) => Vector512.LessThanOrEqual(a, b) & Vector512<float>.One;

    /// <summary>c ≠ 0 ? a : b (NaN is nonzero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Select(Vector512<float> c, Vector512<float> a, Vector512<float> b) =>
        Vector512.ConditionalSelect(Vector512.Equals(c, Vector512<float>.Zero), b, a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> NotZero(Vector512<float> x) => ~Vector512.Equals(x, Vector512<float>.Zero) & Vector512<float>.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LogicalNot(Vector512<float> x) => Vector512<float>.One - x;

    /// <summary>float.Pow per lane, as the interpreter's scalar loop.</summary>
    public static Vector512<float> Pow(Vector512<float> a, Vector512<float> b)
    {
        Span<float> lanes = stackalloc float[Count];
        for (var k = 0; k < Count; k++) lanes[k] = float.Pow(a[k], b[k]);
        return Vector512.Create<float>(lanes);
    }

    /// <summary>y[yo …] = f(x[xo …]) over n elements with the backend's block kernel, as the interpreter computes the instruction.</summary>
    public static void UnaryBlock(HostBackend backend, UnaryOp op, float[] x, int xo, float[] y, int yo, int n) =>
        backend.FusedUnary(op, x.AsSpan(xo, n), y.AsSpan(yo, n));

    /// <summary>a[i … i + n) = x.</summary>
    public static void Fill(float[] a, int i, int n, float x) => a.AsSpan(i, n).Fill(x);
}
