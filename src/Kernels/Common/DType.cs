namespace Nabla;

/// <summary>Element type of a tensor.</summary>
public enum DType
{
    /// <summary>IEEE 754 single precision.</summary>
    Float32,
    /// <summary>IEEE 754 double precision.</summary>
    Float64,
    /// <summary>Signed 32-bit integer.</summary>
    Int32,
    /// <summary>Signed 64-bit integer.</summary>
    Int64,
    /// <summary>Boolean (one byte per element).</summary>
    Bool,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>True for float32 and float64.</summary>
    public static bool IsFloating(this DType d) => d is DType.Float32 or DType.Float64;

    /// <summary>True for int32 and int64.</summary>
    public static bool IsInteger(this DType d) => d is DType.Int32 or DType.Int64;

    /// <summary>True for every dtype that supports arithmetic (all but bool).</summary>
    public static bool IsNumeric(this DType d) => d != DType.Bool;

    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType d) => d switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        _ => 1,
    };

    /// <summary>Lower-case name as TensorFlow prints it ("float32").</summary>
    public static string Name(this DType d) => d switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int32 => "int32",
        DType.Int64 => "int64",
        _ => "bool",
    };

    /// <summary>The .NET element type of a host array holding this dtype.</summary>
    public static Type ClrType(this DType d) => d switch
    {
        DType.Float32 => typeof(float),
        DType.Float64 => typeof(double),
        DType.Int32 => typeof(int),
        DType.Int64 => typeof(long),
        _ => typeof(bool),
    };

    /// <summary>Allocates a host array of this dtype's .NET element type.</summary>
    public static Array NewArray(this DType d, int length) => d switch
    {
        DType.Float32 => new float[length],
        DType.Float64 => new double[length],
        DType.Int32 => new int[length],
        DType.Int64 => new long[length],
        _ => new bool[length],
    };
}
