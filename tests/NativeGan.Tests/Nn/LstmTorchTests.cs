using NativeGan;
using NativeGan.Nn;

namespace NativeGan.Tests.NnTests;

/// <summary>
/// The Lstm module equals PyTorch's nn.LSTM (and Gru nn.GRU, below): TestData/torch-lstm.safetensors holds an nn.LSTM(5, 7, num_layers=2,
/// bidirectional=True, batch_first=True) initialised by PyTorch, an input [3, 4, 5], initial states, and PyTorch's
/// output, final states and the gradients of loss = Σ output² + Σ hN² + Σ cN² for every parameter, the input and the
/// states. The weights are loaded by PyTorch's names (LoadStateDict checks every name and shape). Regenerate it
/// (Debian's python3 with torch 1.13) with
///   /usr/bin/python3 tools/torch_lstm.py write tests/NativeGan.Tests/TestData/torch-lstm.safetensors
/// <para>Tolerance 1e-5 + 1e-4 |expected| (float32 both sides, different summation orders); measured max error
/// 1.9e-6 on the cpu, 7e-7 on ilgpu-cpu (2026-12-07); the GRU 9.5e-7 and 1.9e-6.</para>
/// </summary>
public class LstmTorchTests
{
    public static TheoryData<string> Devices => new("cpu", "ilgpu-cpu", "cuda");

    [Theory, MemberData(nameof(Devices))]
    public void ForwardAndGradientsEqualPyTorchs(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var (golden, metadata) = Safetensors.Load(Path.Combine(AppContext.BaseDirectory, "TestData", "torch-lstm.safetensors"), d);
        Assert.StartsWith("torch ", metadata["written_by"]);
        using var lstm = new Lstm(int.Parse(metadata["input_size"]), int.Parse(metadata["hidden_size"]), int.Parse(metadata["num_layers"]),
            batchFirst: true, bidirectional: true, device: d);
        lstm.LoadStateDict(golden.Where(kv => kv.Key.StartsWith("lstm.")).ToDictionary(kv => kv.Key["lstm.".Length..], kv => kv.Value));

        using var scope = new TensorScope();
        var (x, h0, c0) = (golden["x"], golden["h0"], golden["c0"]);
        foreach (var t in new[] { x, h0, c0 }) t.RequiresGrad = true;
        var (output, (hN, cN)) = lstm.Forward(x, h0, c0);
        var loss = output.Square().Sum().Add(hN.Square().Sum()).Add(cN.Square().Sum());
        var names = lstm.NamedParameters().Select(p => p.Name).ToArray();
        var grads = Autograd.Grad([loss], [.. lstm.Parameters(), x, h0, c0]);

        double worst = 0;
        void Same(string name, Tensor actual)
        {
            var e = golden[name].ToArray();
            var a = actual.ToArray();
            Assert.True(e.Length == 1 || Shapes.Equal(golden[name].Shape, actual.Shape), $"{name}: shape {Shapes.Format(actual.Shape)}, PyTorch's {Shapes.Format(golden[name].Shape)}");
            Assert.Equal(e.Length, a.Length);
            for (int i = 0; i < e.Length; i++)
            {
                double err = Math.Abs(a[i] - e[i]);
                worst = Math.Max(worst, err);
                Assert.True(err <= 1e-5 + 1e-4 * Math.Abs(e[i]), $"{name} on {d.Name}: element {i} is {a[i]}, PyTorch's {e[i]} (error {err:g3})");
            }
        }
        Same("output", output);
        Same("hN", hN);
        Same("cN", cN);
        Same("loss", loss);
        for (int k = 0; k < names.Length; k++) Same("grad.lstm." + names[k], grads[k]);
        Same("grad.x", grads[^3]);
        Same("grad.h0", grads[^2]);
        Same("grad.c0", grads[^1]);
        TestContext.Current.TestOutputHelper?.WriteLine($"LSTM against PyTorch on {d.Name}: max abs error {worst:g3}");
        foreach (var t in golden.Values) t.Dispose();
    }

    /// <summary>The same for nn.GRU (TestData/torch-gru.safetensors, `tools/torch_lstm.py write-gru`; no c0, cN).</summary>
    [Theory, MemberData(nameof(Devices))]
    public void GruForwardAndGradientsEqualPyTorchs(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var (golden, metadata) = Safetensors.Load(Path.Combine(AppContext.BaseDirectory, "TestData", "torch-gru.safetensors"), d);
        Assert.StartsWith("torch ", metadata["written_by"]);
        using var gru = new Gru(int.Parse(metadata["input_size"]), int.Parse(metadata["hidden_size"]), int.Parse(metadata["num_layers"]),
            batchFirst: true, bidirectional: true, device: d);
        gru.LoadStateDict(golden.Where(kv => kv.Key.StartsWith("gru.")).ToDictionary(kv => kv.Key["gru.".Length..], kv => kv.Value));

        using var scope = new TensorScope();
        var (x, h0) = (golden["x"], golden["h0"]);
        x.RequiresGrad = h0.RequiresGrad = true;
        var (output, hN) = gru.Forward(x, h0);
        var loss = output.Square().Sum().Add(hN.Square().Sum());
        var names = gru.NamedParameters().Select(p => p.Name).ToArray();
        var grads = Autograd.Grad([loss], [.. gru.Parameters(), x, h0]);
        double worst = 0;
        Same(golden, "output", output, d, ref worst);
        Same(golden, "hN", hN, d, ref worst);
        Same(golden, "loss", loss, d, ref worst);
        for (int k = 0; k < names.Length; k++) Same(golden, "grad.gru." + names[k], grads[k], d, ref worst);
        Same(golden, "grad.x", grads[^2], d, ref worst);
        Same(golden, "grad.h0", grads[^1], d, ref worst);
        TestContext.Current.TestOutputHelper?.WriteLine($"GRU against PyTorch on {d.Name}: max abs error {worst:g3}");
        foreach (var t in golden.Values) t.Dispose();
    }

    static void Same(Dictionary<string, Tensor> golden, string name, Tensor actual, Device d, ref double worst)
    {
        var e = golden[name].ToArray();
        var a = actual.ToArray();
        Assert.True(e.Length == 1 || Shapes.Equal(golden[name].Shape, actual.Shape), $"{name}: shape {Shapes.Format(actual.Shape)}, PyTorch's {Shapes.Format(golden[name].Shape)}");
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
        {
            double err = Math.Abs(a[i] - e[i]);
            worst = Math.Max(worst, err);
            Assert.True(err <= 1e-5 + 1e-4 * Math.Abs(e[i]), $"{name} on {d.Name}: element {i} is {a[i]}, PyTorch's {e[i]} (error {err:g3})");
        }
    }
}
