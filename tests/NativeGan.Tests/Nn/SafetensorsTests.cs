using System.Buffers.Binary;
using System.Text;
using NativeGan;
using NativeGan.Nn;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Nn;

/// <summary>Safetensors checkpoints: the exact layout, round trips, every kind of bad file, atomic saves.</summary>
public sealed class SafetensorsTests : IDisposable
{
    public static TheoryData<string> Devices => TestDevices.All;

    readonly string folder = Directory.CreateTempSubdirectory("nativegan-safetensors-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string PathOf(string name) => Path.Combine(folder, name);

    /// <summary>A file from its parts: the 8-byte little-endian header length, the header as given, the data.</summary>
    static byte[] Build(string header, params byte[][] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Sum(d => d.Length)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        int at = 8 + json.Length;
        foreach (var d in data) { d.CopyTo(bytes, at); at += d.Length; }
        return bytes;
    }

    static byte[] F32(params float[] v)
    {
        var b = new byte[4 * v.Length];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), v[i]);
        return b;
    }

    string Write(string name, byte[] bytes)
    {
        var p = PathOf(name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    CheckpointException Refused(byte[] file, string expected)
    {
        var p = Write("bad.safetensors", file);
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Load(p));
        Assert.Contains(expected, e.Message);
        Assert.Contains(p, e.Message);
        return e;
    }

    // ---------------------------------------------------------------- the exact layout

    /// <summary>
    /// tests/NativeGan.Tests/TestData/small.safetensors was written by <see cref="Safetensors.Save"/>; its bytes are
    /// checked here against what the reference writer produces for the same tensors, written out by hand: names
    /// sorted, compact JSON with the metadata first, dtype/shape/data_offsets, spaces up to a multiple of 8, data
    /// packed in the same order, little-endian.
    /// </summary>
    [Fact]
    public void CommittedFileHasTheReferenceLayout()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "small.safetensors");
        var bytes = File.ReadAllBytes(path);
        const string json =
            "{\"__metadata__\":{\"kind\":\"nativegan-test\",\"step\":\"7\"}," +
            "\"bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}," +
            "\"scale\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[12,16]}," +
            "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[16,40]}}";
        Assert.Equal(230, json.Length);
        // 230 bytes of JSON padded with two spaces to 232 = 0xE8.
        Assert.Equal(new byte[] { 0xE8, 0, 0, 0, 0, 0, 0, 0 }, bytes[..8]);
        Assert.Equal(json + "  ", Encoding.UTF8.GetString(bytes, 8, 232));
        Assert.Equal(F32(0.5f, -1f, 2f, 0.75f, 1f, -2f, 3.5f, 0.25f, -0.125f, 1e-3f), bytes[240..]);
        Assert.Equal(280, bytes.Length);

        var header = Safetensors.ReadHeader(path);
        Assert.Equal(240, header.DataStart);
        Assert.Equal(["bias", "scale", "weight"], header.Tensors.Select(e => e.Name));
        Assert.Equal((16L, 40L, "F32"), (header.Tensors[2].Begin, header.Tensors[2].End, header.Tensors[2].Dtype));

        var (tensors, metadata) = Safetensors.Load(path);
        Assert.Equal(["bias", "scale", "weight"], tensors.Keys.Order());
        Assert.Equal([2, 3], tensors["weight"].Shape);
        Assert.Equal([1f, -2f, 3.5f, 0.25f, -0.125f, 1e-3f], tensors["weight"].ToArray());
        Assert.Equal([], tensors["scale"].Shape);
        Assert.Equal(0.75f, tensors["scale"].ToArray()[0]);
        Assert.Equal("7", metadata["step"]);

        // Saving the same tensors again gives the same bytes.
        var again = PathOf("again.safetensors");
        Safetensors.Save(again, tensors, metadata);
        Assert.Equal(bytes, File.ReadAllBytes(again));
    }

    /// <summary>The bytes the reference implementation's own tests expect (safetensors/src/tensor.rs, test_serialization and test_empty).</summary>
    [Fact]
    public void SameBytesAsTheReferenceImplementationsTests()
    {
        var p = PathOf("attn.safetensors");
        using var attn = Tensor.FromArray([0f, 1f, 2f, 3f, 4f, 5f], [1, 2, 3]);
        Safetensors.Save(p, new Dictionary<string, Tensor> { ["attn.0"] = attn });
        Assert.Equal(Build("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", F32(0, 1, 2, 3, 4, 5)), File.ReadAllBytes(p));
        Assert.Equal(64, BitConverter.ToInt64(File.ReadAllBytes(p), 0));

        Safetensors.Save(p, new Dictionary<string, Tensor>());
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32 }, File.ReadAllBytes(p));
        Safetensors.Save(p, new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["framework"] = "pt" });
        Assert.Equal(Build("{\"__metadata__\":{\"framework\":\"pt\"}}     "), File.ReadAllBytes(p));
    }

    // ---------------------------------------------------------------- round trips

    [Theory, MemberData(nameof(Devices))]
    public void RandomTensorsRoundTripExactly(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(7);
        int[][] shapes = [[37], [3, 5, 7], [1], [], [0, 4], [2, 1, 3, 3]];
        var tensors = new Dictionary<string, Tensor>();
        for (int i = 0; i < shapes.Length; i++)
            tensors[$"layer.{i}.weight"] = Shapes.Numel(shapes[i]) == 0
                ? Tensor.Empty(d, shapes[i]) // (FromArray of no values fails on ILGPU devices: an empty copy)
                : Tensor.FromArray(Random(rng, Shapes.Numel(shapes[i]), -1e3f, 1e3f), shapes[i], d);
        tensors["special"] = Tensor.FromArray([float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue], [6], d);
        tensors["é \"quoted\" \\ \n\t\u0001 名前 😀"] = Tensor.FromArray([1f, 2f], [2], d);
        var metadata = new Dictionary<string, string>
        {
            ["config"] = "{\"nz\": 100, \"note\": \"tab\\there\"}",
            ["rng"] = "12345678901234567890",
            ["odd"] = "line\nbreak \u0000 \u001f \u007f ünïcødé 🎲",
        };
        var path = PathOf("round.safetensors");
        Safetensors.Save(path, tensors, metadata);

        var (loaded, meta) = Safetensors.Load(path, d);
        Assert.Equal(metadata, meta);
        Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), loaded.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.Shape, loaded[name].Shape);
            Assert.Equal(d, loaded[name].Device);
            var (expected, got) = (Values(t), Values(loaded[name]));
            Assert.True(MemoryMarshalBytes(expected).SequenceEqual(MemoryMarshalBytes(got)), $"tensor '{name}' changed in the round trip");
        }

        // LoadInto fills existing tensors (poisoned first) with the same values.
        var targets = tensors.ToDictionary(kv => kv.Key, kv => Poisoned(d, kv.Value.Shape));
        Assert.Equal(metadata, Safetensors.LoadInto(path, targets));
        foreach (var (name, t) in tensors)
            Assert.True(MemoryMarshalBytes(Values(t)).SequenceEqual(MemoryMarshalBytes(Values(targets[name]))), name);
    }

    static float[] Values(Tensor t) => t.Length == 0 ? [] : t.ToArray(); // (an empty copy fails on ILGPU devices)

    static byte[] MemoryMarshalBytes(float[] a) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()).ToArray();

    [Fact]
    public void OtherDtypesAreConvertedToFloat32()
    {
        var half = new byte[6];
        BinaryPrimitives.WriteHalfLittleEndian(half, (Half)1.5f);
        BinaryPrimitives.WriteHalfLittleEndian(half.AsSpan(2), (Half)(-2f));
        BinaryPrimitives.WriteHalfLittleEndian(half.AsSpan(4), (Half)65504f);
        var bf16 = new byte[] { 0xC0, 0x3F, 0x80, 0xBF }; // 1.5, -1 (the upper halves of their float32 bits)
        var f64 = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(f64, Math.PI);
        BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(8), -1e-3);
        var i64 = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(i64, -42);
        // Listed out of offset order: allowed, the offsets decide the layout.
        var p = Write("mixed.safetensors", Build(
            "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[10,26]},\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}," +
            "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[6,10]},\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[26,34]}}",
            half, bf16, f64, i64));
        var (t, _) = Safetensors.Load(p);
        Assert.Equal([1.5f, -2f, 65504f], t["h"].ToArray());
        Assert.Equal([1.5f, -1f], t["b"].ToArray());
        Assert.Equal([(float)Math.PI, -1e-3f], t["d"].ToArray());
        Assert.Equal([-42f], t["n"].ToArray());

        using var target = Tensor.Zeros(Device.Cpu, 3);
        var e = Assert.Throws<CheckpointException>(() => Safetensors.LoadInto(p, new Dictionary<string, Tensor> { ["h"] = target }, allowUnexpected: true));
        Assert.Contains("tensor 'h' is F16 in the file, expected F32", e.Message);
        Safetensors.LoadInto(p, new Dictionary<string, Tensor> { ["h"] = target }, allowUnexpected: true, convertDtypes: true);
        Assert.Equal([1.5f, -2f, 65504f], target.ToArray());
    }

    // ---------------------------------------------------------------- mismatches in LoadInto

    [Fact]
    public void LoadIntoChecksEverythingBeforeWritingAnything()
    {
        var p = PathOf("model.safetensors");
        using var w = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], [2, 3]);
        using var b = Tensor.FromArray([7f, 8f], [2]);
        Safetensors.Save(p, new Dictionary<string, Tensor> { ["fc.weight"] = w, ["fc.bias"] = b });

        using var tw = Tensor.Full(Device.Cpu, -1f, 2, 3);
        using var tb = Tensor.Full(Device.Cpu, -1f, 2);
        using var wrongShape = Tensor.Full(Device.Cpu, -1f, 3, 2);
        using var extra = Tensor.Full(Device.Cpu, -1f, 4);

        string Fails(Dictionary<string, Tensor> targets, bool allowUnexpected = false)
        {
            var e = Assert.Throws<CheckpointException>(() => Safetensors.LoadInto(p, targets, allowUnexpected));
            Assert.Contains(p, e.Message);
            // Nothing was written into any target.
            foreach (var t in targets.Values) Assert.All(t.ToArray(), x => Assert.Equal(-1f, x));
            return e.Message;
        }

        Assert.Contains("tensor 'fc.weight' has shape [2, 3] in the file, the target has shape [3, 2]",
            Fails(new() { ["fc.bias"] = tb, ["fc.weight"] = wrongShape }));
        Assert.Contains("tensor 'head.bias' is not in the file", Fails(new() { ["fc.bias"] = tb, ["fc.weight"] = tw, ["head.bias"] = extra }));
        Assert.Contains("tensor 'fc.bias' is in the file but nothing loads it", Fails(new() { ["fc.weight"] = tw }));

        Safetensors.LoadInto(p, new Dictionary<string, Tensor> { ["fc.weight"] = tw }, allowUnexpected: true);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], tw.ToArray());
        Assert.Equal([-1f, -1f], tb.ToArray());
    }

    // ---------------------------------------------------------------- malformed files

    const string Good = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";

    [Fact]
    public void MalformedFilesGiveClearErrors()
    {
        var data = F32(1, 2, 3);
        Assert.Equal(2, Safetensors.Load(Write("good.safetensors", Build(Good, data))).Tensors.Count);

        Refused([1, 2, 3], "too short for the 8-byte header length");
        Refused(Build(Good, data)[..100], "goes beyond the end of the file");
        Refused(Build(Good, data)[..^1], "tensor 'b' ends at byte 12 of the data, but the file holds only 11");
        Refused(Build(Good, data, [0]), "extra bytes at the end");
        var huge = Build(Good, data);
        BinaryPrimitives.WriteUInt64LittleEndian(huge, 200_000_000);
        Refused(huge, "more than the format's limit");
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        Refused(huge, "more than the format's limit");
        Refused(Build(" " + Good, data), "does not begin with '{'");
        Refused(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", data), "not valid JSON");
        Refused(Build("[1]", data), "does not begin with '{'");
        Refused(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[12,12]}}", data), "'a' appears twice");
        Refused(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", data), "tensor 'b' begins at byte 4 of the data, inside the previous tensor");
        Refused(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", data), "tensor 'b' begins at byte 8 of the data, but the previous tensor ends at 4 (a hole)");
        Refused(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", data), "tensor 'a' is F32 of shape [3], 12 bytes, but its data_offsets [0, 8] span 8");
        Refused(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[12,0]}}", data), "tensor 'a' begins at byte 12");
        Refused(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,-12]}}", data), "'data_offsets' is not a pair of non-negative integers");
        Refused(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5,2],\"data_offsets\":[0,12]}}", data), "'shape' is not a list of non-negative integers");
        Refused(Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,12]}}", data), "too large to exist");
        Refused(Build("{\"a\":{\"dtype\":\"Q7\",\"shape\":[3],\"data_offsets\":[0,12]}}", data), "unknown dtype 'Q7'");
        Refused(Build("{\"a\":{\"shape\":[3],\"data_offsets\":[0,12]}}", data), "tensor 'a': no 'dtype'");
        Refused(Build("{\"a\":[1,2]}", data), "tensor 'a': its description is not a JSON object");
        Refused(Build("{\"__metadata__\":{\"step\":7},\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", data), "metadata 'step' is a Number, but metadata values must be strings");
        Refused(Build("{\"a\":{\"dtype\":\"U32\",\"shape\":[3],\"data_offsets\":[0,12]}}", data), "tensor 'a' is U32; NativeGan reads");
        Refused(Build("{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", data), "header");
        Refused(Build(new string('[', 100) + new string(']', 100), data), "does not begin with '{'");
        Refused(Build("{\"a\":" + new string('[', 100) + new string(']', 100) + "}", data), "not valid JSON");
        Assert.Throws<CheckpointException>(() => Safetensors.Load(PathOf("does-not-exist.safetensors")));
    }

    /// <summary>Every truncation of a file fails cleanly: its data must end exactly where the file ends.</summary>
    [Fact]
    public void EveryTruncationIsACleanError()
    {
        var full = MakeSmallFile();
        const string p = "cut.safetensors";
        using var t0 = Tensor.Zeros(Device.Cpu, 3, 5);
        using var t1 = Tensor.Zeros(Device.Cpu, 7);
        using var t2 = Tensor.Zeros(Device.Cpu, 1);
        var targets = new Dictionary<string, Tensor> { ["conv.weight"] = t0, ["conv.bias"] = t1, ["gain"] = t2 };
        for (int length = 0; length < full.Length; length++)
        {
            // In memory (the same code as files, without the disk).
            Assert.Contains(p, Assert.Throws<CheckpointException>(() => Safetensors.Load(new MemoryStream(full[..length]), fileName: p)).Message);
            Assert.Throws<CheckpointException>(() => Safetensors.LoadInto(new MemoryStream(full[..length]), targets, fileName: p));
            Assert.All(t0.ToArray(), x => Assert.Equal(0f, x));
        }
        Safetensors.LoadInto(new MemoryStream(full), targets);
    }

    /// <summary>
    /// Single-bit flips anywhere in the length and the header (every one), and at random places in the data,
    /// give either a clean load or a <see cref="CheckpointException"/>: never another exception, never a hang.
    /// </summary>
    [Fact]
    public void BitFlipsLoadOrFailCleanly()
    {
        var full = MakeSmallFile();
        int headerEnd = 8 + (int)BitConverter.ToUInt64(full, 0);
        var rng = new Random(99);
        var positions = Enumerable.Range(0, headerEnd * 8).Concat(Enumerable.Range(0, 200).Select(_ => rng.Next(headerEnd * 8, full.Length * 8)));
        const string p = "flip.safetensors";
        int loaded = 0, refused = 0;
        foreach (int bit in positions)
        {
            var bytes = (byte[])full.Clone();
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                var (tensors, _) = Safetensors.Load(new MemoryStream(bytes), fileName: p);
                foreach (var t in tensors.Values) t.Dispose();
                loaded++;
            }
            catch (CheckpointException e)
            {
                Assert.Contains(p, e.Message);
                refused++;
            }
        }
        Assert.True(refused > 500, $"{refused} flips refused, {loaded} loaded");
        Assert.True(loaded >= 200, $"{refused} flips refused, {loaded} loaded"); // data flips at least load
    }

    byte[] MakeSmallFile()
    {
        var p = PathOf("small.safetensors");
        var rng = new Random(4);
        using var w = Tensor.FromArray(Random(rng, 15), [3, 5]);
        using var b = Tensor.FromArray(Random(rng, 7), [7]);
        using var g = Tensor.FromArray([1.5f], [1]);
        Safetensors.Save(p, new Dictionary<string, Tensor> { ["conv.weight"] = w, ["conv.bias"] = b, ["gain"] = g },
            new Dictionary<string, string> { ["step"] = "3" });
        return File.ReadAllBytes(p);
    }

    // ---------------------------------------------------------------- atomic saves

    [Fact]
    public void AFailedSaveLeavesThePreviousFileIntact()
    {
        var p = PathOf("ckpt.safetensors");
        using var a = Tensor.FromArray([1f, 2f, 3f], [3]);
        Safetensors.Save(p, new Dictionary<string, Tensor> { ["a"] = a }, new Dictionary<string, string> { ["step"] = "1" });
        var before = File.ReadAllBytes(p);

        // 'z' is written last; its copy throws (it was disposed) after 'a' and 'm' are already in the temporary file.
        var big = Tensor.FromArray(Random(new Random(1), 100_000), [100_000]);
        var z = Tensor.FromArray([4f], [1]);
        z.Dispose();
        var e = Assert.Throws<CheckpointException>(() =>
            Safetensors.Save(p, new Dictionary<string, Tensor> { ["a"] = a, ["m"] = big, ["z"] = z }, new Dictionary<string, string> { ["step"] = "2" }));
        Assert.Contains("while writing tensor 'z'", e.Message);
        Assert.Contains("previous file", e.Message);
        Assert.IsType<ObjectDisposedException>(e.InnerException);
        big.Dispose();

        Assert.Equal(before, File.ReadAllBytes(p));
        Assert.Equal(["ckpt.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName)); // no temporary file left
        Assert.Equal("1", Safetensors.Load(p).Metadata["step"]);

        // A folder that does not exist: a clean error too.
        Assert.Throws<CheckpointException>(() => Safetensors.Save(Path.Combine(folder, "missing", "x.safetensors"), new Dictionary<string, Tensor> { ["a"] = a }));
        Assert.Contains("reserved", Assert.Throws<CheckpointException>(() => Safetensors.Save(p, new Dictionary<string, Tensor> { ["__metadata__"] = a })).Message);
    }

    // ---------------------------------------------------------------- optimizer state through a checkpoint

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.Adam")]
    public void OptimizerStateSurvivesACheckpoint(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(8);
        int n = TestDevices.IsSlow(d) ? 11 : 301;
        using var w = Tensor.FromArray(Random(rng, n), [n], d);
        var adam = new Adam([w], 0.01f, 0f, 0.9f);
        void Step(Tensor p, Optimizer opt, int t)
        {
            p.Grad = Tensor.FromArray(Random(new Random(t), n), [n], d);
            opt.Step();
            opt.ZeroGrad();
        }
        for (int t = 0; t < 3; t++) Step(w, adam, t);

        var path = PathOf("gan.safetensors");
        var sd = adam.StateDict().WithPrefix("optimizer_d.");
        var tensors = new Dictionary<string, Tensor>(sd.Tensors) { ["critic.weight"] = w };
        var metadata = new Dictionary<string, string>(sd.Scalars) { ["step"] = "3" };
        Safetensors.Save(path, tensors, metadata);

        var (loaded, meta) = Safetensors.Load(path, d);
        using var w2 = loaded["critic.weight"];
        var adam2 = new Adam([w2]);
        adam2.LoadStateDict(OptimizerStateDict.FromCheckpoint(loaded, meta, "optimizer_d."));
        for (int t = 3; t < 6; t++) { Step(w, adam, t); Step(w2, adam2, t); }
        Assert.Equal(w.ToArray(), w2.ToArray());
    }
}
