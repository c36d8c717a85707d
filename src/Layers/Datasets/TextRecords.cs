using System.Globalization;
using System.Text;

namespace Nabla.Data;

/// <summary>
/// The cache format of the text corpora: a file of records, each a few short fields and one text, written
/// byte for byte the same on every machine so that the file's SHA-256 can be pinned in the source.
/// </summary>
/// <remarks>
/// Layout (UTF-8): the line <c>nabla-text-records 1</c>, then per record the fields joined by tabs, a tab,
/// the text's length in UTF-8 bytes, a newline, the text's bytes and a newline. Fields hold no tab or
/// newline; texts may hold anything. A self-made format rather than JSON because a JSON writer's escaping
/// rules may change between runtime versions, and the pinned hash must not.
/// </remarks>
internal static class TextRecords
{
    private const string Magic = "nabla-text-records 1";

    /// <summary>Writes the records in the order given.</summary>
    public static void Write(string path, IEnumerable<(string[] Fields, string Text)> records)
    {
        using var output = new BufferedStream(File.Create(path), 1 << 16);
        output.Write(Encoding.UTF8.GetBytes(Magic + "\n"));
        foreach (var (fields, text) in records)
        {
            foreach (var f in fields)
                if (f.AsSpan().IndexOfAny('\t', '\n') >= 0) throw new ArgumentException($"a record field holds a tab or newline: '{f}'", nameof(records));
            var bytes = Encoding.UTF8.GetBytes(text);
            output.Write(Encoding.UTF8.GetBytes(string.Join('\t', fields) + "\t" + bytes.Length.ToString(CultureInfo.InvariantCulture) + "\n"));
            output.Write(bytes);
            output.WriteByte((byte)'\n');
        }
    }

    /// <summary>Reads every record, each with exactly <paramref name="fieldCount"/> fields.</summary>
    /// <exception cref="InvalidDataException">The file is not in this format; the message names the file and the byte offset.</exception>
    public static List<(string[] Fields, string Text)> Read(string path, int fieldCount)
    {
        var data = File.ReadAllBytes(path);
        var records = new List<(string[], string)>();
        var pos = 0;
        var magic = ReadLine(data, ref pos, path);
        if (magic != Magic) throw new InvalidDataException($"{path} is not a text-records file (first line '{Truncate(magic)}', expected '{Magic}')");
        while (pos < data.Length)
        {
            var start = pos;
            var header = ReadLine(data, ref pos, path).Split('\t');
            if (header.Length != fieldCount + 1 || !int.TryParse(header[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
                throw new InvalidDataException($"{path}: bad record header at byte {start}: expected {fieldCount} fields and a byte length");
            if (length > data.Length - pos - 1 || data[pos + length] != (byte)'\n')
                throw new InvalidDataException($"{path}: record at byte {start} claims {length} bytes of text, which the file does not hold");
            records.Add((header[..^1], Encoding.UTF8.GetString(data, pos, length)));
            pos += length + 1;
        }
        return records;
    }

    private static string ReadLine(byte[] data, ref int pos, string path)
    {
        var end = Array.IndexOf(data, (byte)'\n', pos);
        if (end < 0) throw new InvalidDataException($"{path}: truncated at byte {pos} (no end of line)");
        var line = Encoding.UTF8.GetString(data, pos, end - pos);
        pos = end + 1;
        return line;
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
