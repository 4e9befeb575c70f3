using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace NativeGan.Nn;

/// <summary>A checkpoint file is corrupt, truncated or does not match what it is loaded into; the message names the file and the tensor.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Checkpoints in the safetensors format (Hugging Face, https://github.com/huggingface/safetensors),
/// which PyTorch reads with <c>safetensors.torch.load_file</c> and writes with <c>save_file</c>:
/// <list type="number">
/// <item>8 bytes: N, the header's length, an unsigned 64-bit little-endian integer (at most 100,000,000);</item>
/// <item>N bytes: the header, UTF-8 JSON beginning with <c>{</c>, padded with spaces to a multiple of 8:
/// <c>{"__metadata__":{"key":"value",...},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},...}</c>
/// (metadata values are strings only; no name may appear twice);</item>
/// <item>the data: each tensor's elements, row-major, little-endian, at [begin, end) counted from the
/// start of the data. The tensors must cover the data exactly: sorted by offset, each begins where the
/// previous ended, the first at 0, the last at the end of the file (no holes, no overlaps, nothing after).</item>
/// </list>
/// Like the reference writer, <see cref="Save"/> packs the tensors sorted by name (byte order of their UTF-8)
/// and writes the header as compact JSON; it writes the metadata keys sorted too, so the same tensors always
/// give the same bytes. Tensor names are the caller's (a module's parameter names, <c>features.0.weight</c>
/// style, match PyTorch's <c>state_dict()</c> keys).
/// </summary>
public static class Safetensors
{
    /// <summary>The largest header the reference implementation accepts (its <c>MAX_HEADER_SIZE</c>).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    const string MetadataKey = "__metadata__";

    /// <summary>One tensor as the header describes it; offsets are bytes from the start of the data.</summary>
    public sealed record Entry(string Name, string Dtype, long[] Shape, long Begin, long End)
    {
        public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    }

    /// <summary>A parsed and validated header: the tensors in file order and the metadata.</summary>
    public sealed record Header(IReadOnlyList<Entry> Tensors, IReadOnlyDictionary<string, string> Metadata, long DataStart);

    /// <summary>Bits an element of each dtype the format defines takes (to validate any file); NativeGan converts the float and integer ones.</summary>
    static readonly Dictionary<string, int> DtypeBits = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 8, ["U8"] = 8, ["I8"] = 8, ["F8_E5M2"] = 8, ["F8_E4M3"] = 8, ["F8_E8M0"] = 8,
        ["F8_E4M3FNUZ"] = 8, ["F8_E5M2FNUZ"] = 8, ["F4"] = 4, ["F6_E2M3"] = 6, ["F6_E3M2"] = 6,
        ["I16"] = 16, ["U16"] = 16, ["F16"] = 16, ["BF16"] = 16,
        ["I32"] = 32, ["U32"] = 32, ["F32"] = 32, ["C64"] = 64, ["F64"] = 64, ["I64"] = 64, ["U64"] = 64,
    };

    /// <summary>The dtypes <see cref="Load(string, Device?)"/> converts to float32.</summary>
    public static readonly IReadOnlyList<string> ReadableDtypes = ["F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"];

    // ================================================================ writing

    /// <summary>
    /// Writes <paramref name="tensors"/> (as F32) and <paramref name="metadata"/> to <paramref name="path"/>
    /// atomically: everything goes to a temporary file in the same folder, which is flushed to the disk and
    /// then renamed over <paramref name="path"/>. A failure (or a crash) at any point before the rename leaves
    /// the previous file as it was; the temporary file is removed when the failure is an exception.
    /// (The folder itself is not flushed, .NET has no call for it, so right after a power loss the old file
    /// may be the one found: never a torn one.)
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        RequireLittleEndian();
        path = Path.GetFullPath(path);
        foreach (var (name, t) in tensors)
        {
            if (name.Length == 0) throw new CheckpointException($"{path}: a tensor name is empty");
            if (name == MetadataKey) throw new CheckpointException($"{path}: '{MetadataKey}' is reserved for the metadata and cannot name a tensor");
            ArgumentNullException.ThrowIfNull(t, name);
        }
        var ordered = tensors.OrderBy(kv => kv.Key, Utf8Order.Instance).ToList();
        var header = HeaderBytes(ordered.Select(kv => (kv.Key, kv.Value.Shape)), metadata);
        if (header.Length > MaxHeaderBytes)
            throw new CheckpointException($"{path}: the header would be {header.Length} bytes, more than the format's {MaxHeaderBytes}");

        var folder = Path.GetDirectoryName(path) ?? ".";
        var temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        string? writing = null;
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                file.Write(length);
                file.Write(header);
                foreach (var (name, t) in ordered)
                {
                    writing = name;
                    // The cpu device hands out its array; other devices copy to the host first.
                    ReadOnlySpan<float> values = t.Length == 0 ? [] : t.Device is CpuDevice ? t.AsSpan() : t.ToArray();
                    file.Write(MemoryMarshal.AsBytes(values));
                }
                writing = null;
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            string where = writing is null ? "" : $" while writing tensor '{writing}'";
            throw new CheckpointException($"{path}: saving failed{where} ({e.Message}); the previous file, if any, is untouched", e);
        }
    }

    /// <summary>
    /// The header exactly as the reference implementation writes it for float32 tensors in this order:
    /// compact JSON, <c>__metadata__</c> first, fields dtype, shape, data_offsets, padded with spaces to a multiple of 8.
    /// </summary>
    internal static byte[] HeaderBytes(IEnumerable<(string Name, int[] Shape)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new StringBuilder("{");
        bool first = true;
        if (metadata is { Count: > 0 })
        {
            json.Append('"').Append(MetadataKey).Append("\":{");
            foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, Utf8Order.Instance))
            {
                if (!first) json.Append(',');
                first = false;
                AppendString(json, key).Append(':');
                AppendString(json, value ?? throw new CheckpointException($"metadata '{key}' is null; values must be strings"));
            }
            json.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var (name, shape) in tensors)
        {
            if (!first) json.Append(',');
            first = false;
            long bytes = 4L * Shapes.Numel(shape);
            AppendString(json, name)
                .Append(":{\"dtype\":\"F32\",\"shape\":[").AppendJoin(',', shape)
                .Append("],\"data_offsets\":[").Append(offset).Append(',').Append(offset + bytes).Append("]}");
            offset += bytes;
        }
        json.Append('}');
        var utf8 = Encoding.UTF8.GetBytes(json.ToString());
        var padded = new byte[(utf8.Length + 7) / 8 * 8];
        utf8.CopyTo(padded, 0);
        padded.AsSpan(utf8.Length).Fill((byte)' ');
        return padded;
    }

    /// <summary>A JSON string the way serde_json (the reference) writes it: only quote, backslash and control characters escaped.</summary>
    static StringBuilder AppendString(StringBuilder json, string s)
    {
        json.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                case < ' ': json.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                default: json.Append(c); break;
            }
        }
        return json.Append('"');
    }

    // ================================================================ reading

    /// <summary>Reads and validates the header of a file (the data is not read, but its size is checked).</summary>
    public static Header ReadHeader(string path)
    {
        using var file = Open(path);
        return ReadHeader(path, file);
    }

    /// <summary>
    /// Every tensor of the file as float32 on <paramref name="device"/> (F16, BF16, F64 and integer dtypes
    /// are converted), and the metadata. Throws <see cref="CheckpointException"/> for a corrupt file.
    /// </summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path, Device? device = null)
    {
        using var file = Open(path);
        return Load(file, device, path);
    }

    /// <summary>
    /// <see cref="Load(string, Device?)"/> from a seekable stream holding exactly one safetensors file (an
    /// embedded resource, a memory buffer); <paramref name="fileName"/> stands for the file in error messages.
    /// </summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(Stream file, Device? device = null, string fileName = "(stream)")
    {
        RequireLittleEndian();
        RequireSeekable(file);
        device ??= Device.Cpu;
        string path = fileName;
        var header = ReadHeader(path, file);
        foreach (var e in header.Tensors) RequireReadable(path, e);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in header.Tensors)
            {
                var values = ReadValues(path, file, header, e);
                int[] shape = [.. e.Shape.Select(d => (int)d)];
                result[e.Name] = values.Length == 0 ? Tensor.Empty(device, shape) : Tensor.FromArray(values, shape, device);
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return (result, new Dictionary<string, string>(header.Metadata, StringComparer.Ordinal));
    }

    /// <summary>
    /// Loads the file's tensors into <paramref name="targets"/> (same names, same shapes) and returns the
    /// metadata. Every name, dtype and shape is checked and every value read before the first target is
    /// written, so a mismatch or a corrupt file changes nothing. A target missing from the file is an error;
    /// a tensor of the file no target asks for is an error unless <paramref name="allowUnexpected"/>. The
    /// file's dtype must be F32 unless <paramref name="convertDtypes"/> (then F16, BF16, F64... are converted).
    /// </summary>
    public static Dictionary<string, string> LoadInto(string path, IReadOnlyDictionary<string, Tensor> targets,
        bool allowUnexpected = false, bool convertDtypes = false)
    {
        using var file = Open(path);
        return LoadInto(file, targets, allowUnexpected, convertDtypes, path);
    }

    /// <summary><see cref="LoadInto(string, IReadOnlyDictionary{string, Tensor}, bool, bool)"/> from a seekable stream.</summary>
    public static Dictionary<string, string> LoadInto(Stream file, IReadOnlyDictionary<string, Tensor> targets,
        bool allowUnexpected = false, bool convertDtypes = false, string fileName = "(stream)")
    {
        RequireLittleEndian();
        RequireSeekable(file);
        string path = fileName;
        var header = ReadHeader(path, file);
        var byName = header.Tensors.ToDictionary(e => e.Name, StringComparer.Ordinal);

        var missing = targets.Keys.Where(k => !byName.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new CheckpointException($"{path}: tensor '{missing[0]}' is not in the file" +
                (missing.Count > 1 ? $" (nor are {missing.Count - 1} more: {string.Join(", ", missing.Skip(1).Take(10))})" : ""));
        if (!allowUnexpected)
        {
            var unexpected = header.Tensors.Select(e => e.Name).Where(n => !targets.ContainsKey(n)).ToList();
            if (unexpected.Count > 0)
                throw new CheckpointException($"{path}: tensor '{unexpected[0]}' is in the file but nothing loads it" +
                    (unexpected.Count > 1 ? $" ({unexpected.Count} such tensors)" : "") + " (pass allowUnexpected: true to skip such tensors)");
        }
        foreach (var (name, target) in targets)
        {
            var e = byName[name];
            if (e.Dtype != "F32" && !convertDtypes)
                throw new CheckpointException($"{path}: tensor '{name}' is {e.Dtype} in the file, expected F32 (pass convertDtypes: true to convert)");
            RequireReadable(path, e);
            if (!e.Shape.SequenceEqual(target.Shape.Select(d => (long)d)))
                throw new CheckpointException($"{path}: tensor '{name}' has shape [{string.Join(", ", e.Shape)}] in the file, the target has shape {Shapes.Format(target.Shape)}");
            if (target.IsDisposed) throw new CheckpointException($"{path}: the target of tensor '{name}' is disposed");
        }

        // Read everything to the host first: nothing is written until the whole file has been read.
        var staged = new List<(Tensor Target, float[] Values)>(targets.Count);
        foreach (var (name, target) in targets) staged.Add((target, ReadValues(path, file, header, byName[name])));
        foreach (var (target, values) in staged)
            if (values.Length > 0) target.Device.CopyIn(values, target.Storage, target.Offset);
        return new Dictionary<string, string>(header.Metadata, StringComparer.Ordinal);
    }

    static FileStream Open(string path)
    {
        RequireLittleEndian();
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"{path}: cannot open the checkpoint ({e.Message})", e);
        }
    }

    static Header ReadHeader(string path, Stream file)
    {
        long fileLength = file.Length;
        if (fileLength < 8)
            throw new CheckpointException($"{path}: the file is {fileLength} bytes, too short for the 8-byte header length (truncated?)");
        Span<byte> lengthBytes = stackalloc byte[8];
        file.Position = 0;
        file.ReadExactly(lengthBytes);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (n > MaxHeaderBytes)
            throw new CheckpointException($"{path}: the header length is {n} bytes, more than the format's limit of {MaxHeaderBytes} (not a safetensors file, or corrupt)");
        if (8 + (long)n > fileLength)
            throw new CheckpointException($"{path}: the header length {n} goes beyond the end of the file ({fileLength} bytes; truncated?)");
        var json = new byte[n];
        file.ReadExactly(json);
        if (n == 0 || json[0] != (byte)'{')
            throw new CheckpointException($"{path}: the header does not begin with '{{' (not a safetensors file, or corrupt)");

        var (entries, metadata) = ParseHeader(path, json);

        // The reference's validation: sorted by offsets, the tensors tile the data from 0 with no hole or
        // overlap, each exactly as long as its dtype and shape say, and the data ends where the file ends.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0, dataLength = fileLength - 8 - (long)n;
        foreach (var e in entries)
        {
            if (e.Begin != expected)
                throw new CheckpointException(e.Begin > expected
                    ? $"{path}: tensor '{e.Name}' begins at byte {e.Begin} of the data, but the previous tensor ends at {expected} (a hole)"
                    : $"{path}: tensor '{e.Name}' begins at byte {e.Begin} of the data, inside the previous tensor (which ends at {expected}): overlapping offsets");
            if (e.End < e.Begin)
                throw new CheckpointException($"{path}: tensor '{e.Name}' has data_offsets [{e.Begin}, {e.End}]: the end is before the beginning");
            long bytes = ByteSize(path, e);
            if (e.End - e.Begin != bytes)
                throw new CheckpointException($"{path}: tensor '{e.Name}' is {e.Dtype} of shape [{string.Join(", ", e.Shape)}], {bytes} bytes, but its data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin}");
            if (e.End > dataLength)
                throw new CheckpointException($"{path}: tensor '{e.Name}' ends at byte {e.End} of the data, but the file holds only {dataLength} data bytes (truncated?)");
            expected = e.End;
        }
        if (expected != dataLength)
            throw new CheckpointException($"{path}: the tensors cover {expected} bytes of data but the file holds {dataLength} after the header (extra bytes at the end)");
        return new Header(entries, metadata, 8 + (long)n);
    }

    /// <summary>Interprets the header JSON: every entry a tensor description, except the metadata.</summary>
    static (List<Entry>, Dictionary<string, string>) ParseHeader(string path, byte[] json)
    {
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException($"{path}: the header is not a JSON object");
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                string name = property.Name;
                if (!seen.Add(name)) throw new CheckpointException($"{path}: '{name}' appears twice in the header (duplicate keys are not allowed)");
                if (name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new CheckpointException($"{path}: '{MetadataKey}' is not an object of strings");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw new CheckpointException($"{path}: metadata '{m.Name}' is a {m.Value.ValueKind}, but metadata values must be strings");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                            throw new CheckpointException($"{path}: metadata '{m.Name}' appears twice");
                    }
                    continue;
                }
                entries.Add(ParseEntry(path, name, property.Value));
            }
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path}: the header is not valid JSON ({e.Message})", e);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json refuses strings it cannot decode (a lone surrogate escape, for example).
            throw new CheckpointException($"{path}: the header holds a string that cannot be read ({e.Message})", e);
        }
        return (entries, metadata);
    }

    static Entry ParseEntry(string path, string name, JsonElement info)
    {
        string Bad(string what) => $"{path}: tensor '{name}': {what}";
        if (info.ValueKind != JsonValueKind.Object) throw new CheckpointException(Bad("its description is not a JSON object"));
        string? dtype = null;
        long[]? shape = null, offsets = null;
        foreach (var field in info.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype":
                    if (dtype is not null) throw new CheckpointException(Bad("'dtype' appears twice"));
                    dtype = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString()! : throw new CheckpointException(Bad("'dtype' is not a string"));
                    break;
                case "shape":
                    if (shape is not null) throw new CheckpointException(Bad("'shape' appears twice"));
                    shape = Integers(field.Value) ?? throw new CheckpointException(Bad("'shape' is not a list of non-negative integers"));
                    break;
                case "data_offsets":
                    if (offsets is not null) throw new CheckpointException(Bad("'data_offsets' appears twice"));
                    offsets = Integers(field.Value) is { Length: 2 } o ? o : throw new CheckpointException(Bad("'data_offsets' is not a pair of non-negative integers"));
                    break;
                default:
                    break; // other fields are ignored, as the reference does
            }
        }
        if (dtype is null) throw new CheckpointException(Bad("no 'dtype'"));
        if (shape is null) throw new CheckpointException(Bad("no 'shape'"));
        if (offsets is null) throw new CheckpointException(Bad("no 'data_offsets'"));
        if (!DtypeBits.ContainsKey(dtype)) throw new CheckpointException(Bad($"unknown dtype '{dtype}'"));
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    static long[]? Integers(JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array) return null;
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0) return null;
            result[i++] = v;
        }
        return result;
    }

    /// <summary>The bytes a tensor takes, with every multiplication checked for overflow.</summary>
    static long ByteSize(string path, Entry e)
    {
        try
        {
            long bits = DtypeBits[e.Dtype];
            foreach (var d in e.Shape) bits = checked(bits * d);
            if (bits % 8 != 0) throw new CheckpointException($"{path}: tensor '{e.Name}' ({e.Dtype}) does not fill whole bytes");
            return bits / 8;
        }
        catch (OverflowException)
        {
            throw new CheckpointException($"{path}: tensor '{e.Name}' has shape [{string.Join(", ", e.Shape)}], too large to exist");
        }
    }

    static void RequireReadable(string path, Entry e)
    {
        if (!ReadableDtypes.Contains(e.Dtype))
            throw new CheckpointException($"{path}: tensor '{e.Name}' is {e.Dtype}; NativeGan reads {string.Join(", ", ReadableDtypes)}");
        if (e.ElementCount > Array.MaxLength || e.Shape.Any(d => d > int.MaxValue))
            throw new CheckpointException($"{path}: tensor '{e.Name}' has shape [{string.Join(", ", e.Shape)}], more elements than a NativeGan tensor holds");
        try
        {
            Shapes.Numel([.. e.Shape.Select(d => (int)d)]);
        }
        catch (TensorShapeException)
        {
            throw new CheckpointException($"{path}: tensor '{e.Name}' has shape [{string.Join(", ", e.Shape)}], more elements than a NativeGan tensor holds");
        }
    }

    /// <summary>Reads one tensor's data and converts it to float32.</summary>
    static float[] ReadValues(string path, Stream file, Header header, Entry e)
    {
        int count = (int)e.ElementCount;
        var values = new float[count];
        try
        {
            file.Position = header.DataStart + e.Begin;
            if (e.Dtype == "F32")
            {
                file.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
                return values;
            }
            var bytes = new byte[e.End - e.Begin];
            file.ReadExactly(bytes);
            switch (e.Dtype)
            {
                case "F16":
                    var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                    for (int i = 0; i < count; i++) values[i] = (float)halves[i];
                    break;
                case "BF16":
                    // bfloat16 is the upper half of a float32.
                    var shorts = MemoryMarshal.Cast<byte, ushort>(bytes);
                    for (int i = 0; i < count; i++) values[i] = BitConverter.Int32BitsToSingle(shorts[i] << 16);
                    break;
                case "F64":
                    var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                    for (int i = 0; i < count; i++) values[i] = (float)doubles[i];
                    break;
                case "I64":
                    var longs = MemoryMarshal.Cast<byte, long>(bytes);
                    for (int i = 0; i < count; i++) values[i] = longs[i];
                    break;
                case "I32":
                    var ints = MemoryMarshal.Cast<byte, int>(bytes);
                    for (int i = 0; i < count; i++) values[i] = ints[i];
                    break;
                case "I16":
                    var int16s = MemoryMarshal.Cast<byte, short>(bytes);
                    for (int i = 0; i < count; i++) values[i] = int16s[i];
                    break;
                case "I8":
                    for (int i = 0; i < count; i++) values[i] = (sbyte)bytes[i];
                    break;
                default: // U8, BOOL
                    for (int i = 0; i < count; i++) values[i] = bytes[i];
                    break;
            }
            return values;
        }
        catch (EndOfStreamException ex)
        {
            throw new CheckpointException($"{path}: the file ended inside tensor '{e.Name}' (truncated while being read?)", ex);
        }
    }

    static void RequireSeekable(Stream file)
    {
        if (!file.CanSeek || !file.CanRead) throw new ArgumentException("safetensors: the stream must be readable and seekable", nameof(file));
    }

    static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; NativeGan reads and writes it on little-endian machines only");
    }

    static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Orders strings by their UTF-8 bytes, as Rust orders the reference's names.</summary>
    sealed class Utf8Order : IComparer<string>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(string? a, string? b)
            => Encoding.UTF8.GetBytes(a ?? "").AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b ?? ""));
    }
}
