using Google.Protobuf;
using Nabla.Onnx.Proto;

namespace Nabla.Onnx;

/// <summary>Conversions between Nabla's dtypes and tensors and ONNX's <c>TensorProto</c> (raw little-endian data).</summary>
internal static class OnnxTypes
{
    /// <summary>The opset the exporter writes: 17, the newest that Debian's onnx 1.12 checker knows (ONNX Runtime runs it).</summary>
    public const int Opset = 17;

    /// <summary>IR version 8 (ONNX 1.10–1.12), the one that goes with opset 17.</summary>
    public const int IrVersion = 8;

    public static int ElemType(DType d) => d switch
    {
        DType.Float32 => (int)TensorProto.Types.DataType.Float,
        DType.Float64 => (int)TensorProto.Types.DataType.Double,
        DType.Int32 => (int)TensorProto.Types.DataType.Int32,
        DType.Int64 => (int)TensorProto.Types.DataType.Int64,
        DType.Bool => (int)TensorProto.Types.DataType.Bool,
        _ => throw new OnnxException($"dtype {d.Name()} has no ONNX element type"),
    };

    public static DType FromElemType(int t, string what) => (TensorProto.Types.DataType)t switch
    {
        TensorProto.Types.DataType.Float => DType.Float32,
        TensorProto.Types.DataType.Double => DType.Float64,
        TensorProto.Types.DataType.Int32 => DType.Int32,
        TensorProto.Types.DataType.Int64 => DType.Int64,
        TensorProto.Types.DataType.Bool => DType.Bool,
        var other => throw new OnnxException($"{what}: ONNX element type {other} ({t}) is not supported (float, double, int32, int64, bool are)"),
    };

    /// <summary>A tensor as an initializer or attribute value: raw little-endian data, as the IR recommends for dense numbers.</summary>
    public static TensorProto ToProto(Tensor t, string name)
    {
        var p = new TensorProto { Name = name, DataType = ElemType(t.DType) };
        foreach (var d in t.Shape) p.Dims.Add(d);
        byte[] raw = t.DType switch
        {
            DType.Float32 => Bytes(t.AsSpan<float>()),
            DType.Float64 => Bytes(t.AsSpan<double>()),
            DType.Int32 => Bytes(t.AsSpan<int>()),
            DType.Int64 => Bytes(t.AsSpan<long>()),
            DType.Bool => t.AsSpan<bool>().ToArray().Select(b => b ? (byte)1 : (byte)0).ToArray(),
            _ => throw new OnnxException($"tensor '{name}': dtype {t.DType.Name()} cannot be written"),
        };
        p.RawData = ByteString.CopyFrom(raw);
        return p;
    }

    private static byte[] Bytes<T>(ReadOnlySpan<T> s) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian; big-endian hosts are not supported");
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(s).ToArray();
    }

    /// <summary>Reads a dense tensor from raw_data or the typed fields; external data is refused.</summary>
    public static Tensor FromProto(TensorProto p, string what)
    {
        if (p.DataLocation == TensorProto.Types.DataLocation.External || p.ExternalData.Count > 0)
            throw new OnnxException($"{what}: tensor '{p.Name}' keeps its data in an external file, which is not supported");
        var dtype = FromElemType(p.DataType, $"{what}: tensor '{p.Name}'");
        long count = 1;
        foreach (var d in p.Dims)
        {
            if (d < 0 || d > int.MaxValue) throw new OnnxException($"{what}: tensor '{p.Name}' has an invalid dimension {d} in [{string.Join(",", p.Dims)}]");
            count *= d;
            if (count > int.MaxValue) throw new OnnxException($"{what}: tensor '{p.Name}' [{string.Join(",", p.Dims)}] has more than 2^31-1 elements");
        }
        var shape = new Shape(p.Dims.Select(d => (int)d).ToArray());
        var n = (int)count;
        Array data;
        if (!p.RawData.IsEmpty)
        {
            var size = dtype switch { DType.Float64 or DType.Int64 => 8, DType.Bool => 1, _ => 4 };
            if (p.RawData.Length != (long)n * size)
                throw new OnnxException($"{what}: tensor '{p.Name}' {shape} needs {(long)n * size} bytes of raw data, the file has {p.RawData.Length}");
            var bytes = p.RawData.Span;
            data = dtype switch
            {
                DType.Float32 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray(),
                DType.Float64 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes).ToArray(),
                DType.Int32 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes).ToArray(),
                DType.Int64 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).ToArray(),
                _ => bytes.ToArray().Select(b => b != 0).ToArray(),
            };
        }
        else
        {
            data = dtype switch
            {
                DType.Float32 => p.FloatData.ToArray(),
                DType.Float64 => p.DoubleData.ToArray(),
                DType.Int32 => p.Int32Data.ToArray(),
                DType.Int64 => p.Int64Data.ToArray(),
                _ => p.Int32Data.Select(v => v != 0).ToArray(),
            };
            if (data.Length != n)
                throw new OnnxException($"{what}: tensor '{p.Name}' {shape} needs {n} values, the file has {data.Length}");
        }
        return new Tensor(data, shape, dtype);
    }

    /// <summary>A value's type: element type and shape, unknown dims as named parameters (the batch as "N").</summary>
    public static ValueInfoProto ValueInfo(string name, DType dtype, Shape shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = ElemType(dtype), Shape = new TensorShapeProto() };
        for (var i = 0; i < shape.Rank; i++)
            tensor.Shape.Dim.Add(shape[i] >= 0
                ? new TensorShapeProto.Types.Dimension { DimValue = shape[i] }
                : new TensorShapeProto.Types.Dimension { DimParam = i == 0 ? "N" : $"{name}_d{i}" });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
