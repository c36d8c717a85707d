using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Nabla;

/// <summary>
/// A tensor's raw little-endian bytes as safetensors stores them, streamed in bounded chunks so that
/// neither a >2 GB tensor nor a byte-span length overflow ever arises.
/// </summary>
internal static class TensorBytes
{
    /// <summary>Bytes per chunk: big enough to amortise stream and hash calls, small enough that the bool staging buffer stays modest.</summary>
    private const int ChunkBytes = 1 << 20;

    /// <summary>Fails on a big-endian machine: the copies below reinterpret memory, which is only the file's byte order on little-endian hosts.</summary>
    public static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("checkpoints are read and written only on little-endian machines (safetensors data is little-endian)");
    }

    /// <summary>Appends the tensor's bytes to <paramref name="stream"/> and/or <paramref name="hash"/>.</summary>
    public static void Write(Tensor tensor, Stream? stream, IncrementalHash? hash)
    {
        switch (tensor.Data)
        {
            case float[] f: Write<float>(f, stream, hash); break;
            case double[] d: Write<double>(d, stream, hash); break;
            case int[] n: Write<int>(n, stream, hash); break;
            case long[] l: Write<long>(l, stream, hash); break;
            case bool[] b: WriteBool(b, stream, hash); break;
            default: throw new InvalidOperationException($"no byte layout for {tensor.Data.GetType().Name}");
        }
    }

    /// <summary>
    /// Fills <paramref name="data"/> (a fresh array of the tensor's element type) from <paramref name="stream"/>,
    /// feeding the bytes to <paramref name="hash"/>. Returns null, or the problem (a bool byte other than 0 or 1).
    /// </summary>
    /// <exception cref="EndOfStreamException">The stream ended first.</exception>
    public static string? Read(Stream stream, Array data, IncrementalHash? hash)
    {
        switch (data)
        {
            case float[] f: Read<float>(stream, f, hash); return null;
            case double[] d: Read<double>(stream, d, hash); return null;
            case int[] n: Read<int>(stream, n, hash); return null;
            case long[] l: Read<long>(stream, l, hash); return null;
            case bool[] b: return ReadBool(stream, b, hash);
            default: throw new InvalidOperationException($"no byte layout for {data.GetType().Name}");
        }
    }

    private static void Write<T>(T[] data, Stream? stream, IncrementalHash? hash) where T : unmanaged
    {
        var perChunk = ChunkBytes / Unsafe.SizeOf<T>();
        for (var start = 0; start < data.Length; start += perChunk)
        {
            var bytes = MemoryMarshal.AsBytes(data.AsSpan(start, Math.Min(perChunk, data.Length - start)));
            stream?.Write(bytes);
            hash?.AppendData(bytes);
        }
    }

    private static void Read<T>(Stream stream, T[] data, IncrementalHash? hash) where T : unmanaged
    {
        var perChunk = ChunkBytes / Unsafe.SizeOf<T>();
        for (var start = 0; start < data.Length; start += perChunk)
        {
            var bytes = MemoryMarshal.AsBytes(data.AsSpan(start, Math.Min(perChunk, data.Length - start)));
            stream.ReadExactly(bytes);
            hash?.AppendData(bytes);
        }
    }

    // Bools go through a byte buffer both ways: the file must hold exactly 0 or 1, and a .NET bool
    // is only guaranteed to be 0 or non-zero in memory.
    private static void WriteBool(bool[] data, Stream? stream, IncrementalHash? hash)
    {
        var buffer = new byte[Math.Min(ChunkBytes, data.Length)];
        for (var start = 0; start < data.Length; start += buffer.Length)
        {
            var n = Math.Min(buffer.Length, data.Length - start);
            for (var i = 0; i < n; i++) buffer[i] = data[start + i] ? (byte)1 : (byte)0;
            stream?.Write(buffer, 0, n);
            hash?.AppendData(buffer, 0, n);
        }
    }

    private static string? ReadBool(Stream stream, bool[] data, IncrementalHash? hash)
    {
        string? problem = null;
        var buffer = new byte[Math.Min(ChunkBytes, data.Length)];
        for (var start = 0; start < data.Length; start += buffer.Length)
        {
            var n = Math.Min(buffer.Length, data.Length - start);
            stream.ReadExactly(buffer, 0, n);
            hash?.AppendData(buffer, 0, n);
            for (var i = 0; i < n; i++)
            {
                if (buffer[i] > 1) problem ??= $"bool element {start + i} is byte {buffer[i]}, not 0 or 1";
                data[start + i] = buffer[i] != 0;
            }
        }
        return problem;
    }
}
