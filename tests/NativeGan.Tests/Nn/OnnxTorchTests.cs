using Google.Protobuf;
using NativeGan;
using NativeGan.Nn;
using NativeGan.Nn.Onnx;
using NativeGan.Tests.Data;
using Onnx;

namespace NativeGan.Tests.NnTests;

/// <summary>
/// The ONNX reader against PyTorch: TestData/onnx/torch-small.onnx is a small network exported by torch.onnx.export
/// (opset 13) whose graph uses Sub, Div, Conv (a batch norm folded in by the exporter), BatchNormalization (epsilon
/// 1e-3, kept because it follows a ReLU), Relu, Add, MaxPool with padding, Mul, Concat, Split, LeakyRelu, Pad (zeros),
/// AveragePool, GlobalAveragePool, Flatten, Gemm, Sigmoid, Reshape, MatMul and Tanh; torch-small.safetensors holds
/// its input, PyTorch's output and d Σy² / dx. Regenerate both with
///   /usr/bin/python3 tools/torch_onnx.py write-small tests/NativeGan.Tests/TestData/onnx
/// Then the reader's errors: an unsupported operator or attribute, a truncated or bit-flipped file.
/// </summary>
public class OnnxTorchTests
{
    public static TheoryData<string> Devices => new("cpu", "ilgpu-cpu", "cuda");

    static string TestFile(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "onnx", name);

    [Theory, MemberData(nameof(Devices))]
    public void SmallNetworkEqualsPyTorchsOutputAndInputGradient(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var (golden, metadata) = Safetensors.Load(TestFile("torch-small.safetensors"), d);
        Assert.StartsWith("torch ", metadata["written_by"]);
        using var net = OnnxModel.Load(TestFile("torch-small.onnx"), d);
        Assert.Equal(13, net.Opset);
        Assert.Equal("x", net.Inputs[0].Name);
        Assert.All(net.Parameters(), p => Assert.False(p.RequiresGrad)); // frozen by default

        using var scope = new TensorScope();
        var x = golden["x"];
        x.RequiresGrad = true;
        var y = net.Forward(x);
        Assert.Equal(golden["y"].Shape, y.Shape);
        double worst = MaxError(golden["y"].ToArray(), y.ToArray());
        TestContext.Current.SendDiagnosticMessage($"torch-small on {d.Name}: max output error {worst:g3}");
        Assert.True(worst <= 1e-5, $"output differs from PyTorch's by {worst:g3} on {d.Name}");

        var grad = Autograd.Grad([y.Square().Sum()], [x])[0];
        var expected = golden["grad.x"].ToArray();
        double scale = expected.Max(v => Math.Abs(v));
        double gradError = MaxError(expected, grad.ToArray());
        TestContext.Current.SendDiagnosticMessage($"torch-small on {d.Name}: max input-gradient error {gradError:g3} (largest {scale:g3})");
        Assert.True(gradError <= 1e-5 * Math.Max(1, scale), $"d sum(y^2)/dx differs from PyTorch's by {gradError:g3} (largest {scale:g3}) on {d.Name}");
        foreach (var t in golden.Values) t.Dispose();
    }

    static double MaxError(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]));
        return worst;
    }

    [Fact]
    public void WeightsKeepTheirOnnxNamesAsAStateDict()
    {
        using var net = OnnxModel.Load(TestFile("torch-small.onnx"));
        var state = net.StateDict();
        // PyTorch's names, split at the dots into children; a name without dots stays at the top.
        Assert.Contains("conv2.weight", state.Keys);
        Assert.Contains("bn2.running_var", state.Keys);
        Assert.Contains("fc.bias", state.Keys);
        Assert.Contains("proj", state.Keys);
        Assert.Contains("bn2.weight", net.NamedParameters().Select(p => p.Name));
        Assert.Contains("bn2.running_mean", net.NamedBuffers().Select(p => p.Name));
        Assert.Equal([4, 21], state["fc.weight"].Shape);
        Assert.Equal(1, net.OperatorCounts["BatchNormalization"]);

        // A tapped layer: the value after the first ReLU, [2, 5, 13, 11].
        var (golden, _) = Safetensors.Load(TestFile("torch-small.safetensors"));
        using var scope = new TensorScope();
        var taps = net.Run(new Dictionary<string, Tensor> { ["x"] = golden["x"] }, ["/Relu_output_0", "y"]);
        Assert.Equal([2, 5, 13, 11], taps["/Relu_output_0"].Shape);
        Assert.True(taps["/Relu_output_0"].ToArray().All(v => v >= 0));
        Assert.Contains("/Relu_output_0", net.ValueNames);
        var e = Assert.Throws<OnnxModelException>(() => net.Run(new Dictionary<string, Tensor> { ["x"] = golden["x"] }, ["no-such-layer"]));
        Assert.Contains("no-such-layer", e.Message);
        using var wrong = Tensor.Zeros(Device.Cpu, 2, 4, 13, 11);
        e = Assert.Throws<OnnxModelException>(() => net.Forward(wrong));
        Assert.Contains("[2, 4, 13, 11]", e.Message);
    }

    // ---------------------------------------------------------------- errors

    /// <summary>The small network's file with one change made to its parsed model, written to a temporary file.</summary>
    static string Edited(TempDir dir, string name, Action<ModelProto> edit)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestFile("torch-small.onnx")));
        edit(model);
        var path = dir.File(name);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    [Fact]
    public void UnsupportedOperatorsAndAttributesNameTheNodeOperatorAndFile()
    {
        using var dir = new TempDir();
        var path = Edited(dir, "softmax.onnx", m => m.Graph.Node.First(n => n.OpType == "Tanh").OpType = "Softmax");
        var e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("node '/Tanh' (Softmax)", e.Message);
        Assert.Contains("not supported", e.Message);

        path = Edited(dir, "dilated.onnx", m =>
        {
            var conv = m.Graph.Node.First(n => n.OpType == "Conv");
            conv.Attribute.First(a => a.Name == "dilations").Ints[0] = 2;
        });
        e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
        Assert.Contains("node '/conv1/Conv' (Conv)", e.Message);
        Assert.Contains("dilations [2, 1]", e.Message);

        path = Edited(dir, "unknown-attribute.onnx", m =>
            m.Graph.Node.First(n => n.OpType == "Relu").Attribute.Add(new AttributeProto { Name = "fancy", Type = AttributeProto.Types.AttributeType.Int, I = 1 }));
        e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
        Assert.Contains("attribute 'fancy'", e.Message);

        path = Edited(dir, "custom-domain.onnx", m => m.Graph.Node.First(n => n.OpType == "Relu").Domain = "com.microsoft");
        Assert.Contains("domain 'com.microsoft'", Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path)).Message);

        path = Edited(dir, "old-opset.onnx", m => m.OpsetImport[0].Version = 6);
        Assert.Contains("opset 6", Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path)).Message);

        path = Edited(dir, "short-weight.onnx", m =>
        {
            var w = m.Graph.Initializer.First(t => t.Name == "conv2.weight");
            w.RawData = ByteString.CopyFrom(w.RawData.Span[..^4]);
        });
        e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
        Assert.Contains("initializer 'conv2.weight'", e.Message);
        Assert.Contains("truncated", e.Message);

        // A corrupt shape that claims far more data than there is is refused before anything is allocated.
        path = Edited(dir, "huge-shape.onnx", m => m.Graph.Initializer.First(t => t.Name == "conv2.weight").Dims[0] = 1 << 28);
        e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
        Assert.Contains("initializer 'conv2.weight'", e.Message);
        path = Edited(dir, "huge-shape-constant.onnx", m => m.Graph.Node.First(n => n.OpType == "Constant").Attribute[0].T.Dims.Add(1 << 30));
        Assert.Contains("(Constant)", Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path)).Message);

        path = Edited(dir, "unordered.onnx", m =>
        {
            var first = m.Graph.Node.First(n => n.OpType == "Conv");
            m.Graph.Node.Remove(first);
            m.Graph.Node.Add(first);
        });
        Assert.Contains("topological", Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path)).Message);

        var missing = dir.File("missing.onnx");
        Assert.Contains(missing, Assert.Throws<OnnxModelException>(() => OnnxModel.Load(missing)).Message);
    }

    [Fact]
    public void TruncatedAndBitFlippedFilesAreRefusedOrRunNeverCrash()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(TestFile("torch-small.onnx"));
        var (golden, _) = Safetensors.Load(TestFile("torch-small.safetensors"));
        var x = golden["x"];

        // Every outcome must be a clean refusal naming the file, or a model that runs (a flip inside a weight's bytes
        // changes a number, which no format can tell). Anything else (an IndexOutOfRange, a NullReference) fails.
        int refused = 0, ran = 0;
        void Try(byte[] content, string label)
        {
            var path = dir.File("fuzz.onnx");
            File.WriteAllBytes(path, content);
            try
            {
                using var net = OnnxModel.Load(path);
                using var scope = new TensorScope();
                try { net.Forward(x); ran++; }
                catch (OnnxModelException e) { Assert.Contains(path, e.Message); refused++; }
            }
            catch (OnnxModelException e)
            {
                Assert.Contains(path, e.Message);
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{label}: {e.GetType().Name}: {e.Message}");
            }
        }

        var rng = new Random(35);
        foreach (int cut in new[] { 0, 1, 2, 10, bytes.Length / 3, bytes.Length / 2, bytes.Length - 1 }.Concat(Enumerable.Range(0, 40).Select(_ => rng.Next(bytes.Length))))
            Try(bytes[..cut], $"truncated to {cut} bytes");
        int truncatedRefused = refused;
        Assert.True(truncatedRefused >= 45, $"only {truncatedRefused} of 47 truncations were refused");

        for (int trial = 0; trial < 200; trial++)
        {
            var flipped = (byte[])bytes.Clone();
            int at = rng.Next(bytes.Length);
            flipped[at] ^= (byte)(1 << rng.Next(8));
            Try(flipped, $"bit flip at byte {at}");
        }
        TestContext.Current.SendDiagnosticMessage($"fuzz: {truncatedRefused} of 47 truncations refused; of 200 bit flips {refused - truncatedRefused} refused, {ran} ran");
        Assert.True(refused - truncatedRefused > 40, $"only {refused - truncatedRefused} of 200 bit flips were refused ({ran} ran)");
        foreach (var t in golden.Values) t.Dispose();
    }
}
