using NativeGan.Gan.Pictures;
using NativeGan.Tests.Data;
using NativeGan.Tests.Training;

namespace NativeGan.Tests.NnTests;

/// <summary>`nativegan onnx FILE`: what the reader sees in a file, and a refusal as one line naming the node.</summary>
[Collection("Console")]
public class OnnxCommandTests
{
    static string TestFile(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "onnx", name);

    [Fact]
    public void DescribesTheFileAndListsTheValuesToTap()
    {
        var (code, output) = TrainCommandTests.Run("onnx", TestFile("torch-small.onnx"), "--values");
        Assert.True(code == 0, output);
        Assert.Contains("opset 13", output);
        Assert.Contains("inputs: x [2, 3, 13, 11]; outputs: y [2, 6]", output);
        Assert.Contains("BatchNormalization 1", output);
        Assert.Contains("/Relu_output_0", output);

        (code, output) = TrainCommandTests.Run("onnx", TestFile("torch-small.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("not a readable ONNX model", output);
    }

    /// <summary>`stylize --encoder FILE.onnx`: a user's network (here the small PyTorch export) with the layers to tap.</summary>
    [Fact]
    public void StylizesWithAUsersOnnxEncoder()
    {
        using var dir = new TempDir();
        string Picture(string name, Func<int, int, int, byte> pixel)
        {
            var bytes = new byte[40 * 40 * 3];
            for (int y = 0; y < 40; y++)
                for (int x = 0; x < 40; x++)
                    for (int c = 0; c < 3; c++) bytes[(y * 40 + x) * 3 + c] = pixel(x, y, c);
            var path = dir.File(name);
            Png.Save(path, bytes, 40, 40, 3);
            return path;
        }
        var content = Picture("content.png", (x, y, c) => (byte)(x * 6 + c * 20));
        var style = Picture("style.png", (x, y, c) => (byte)((x + y) / 3 % 2 == 0 ? 220 - 60 * c : 30));
        var output = dir.File("out.png");
        var (code, text) = TrainCommandTests.Run("stylize", "--content", content, "--style", style, "--size", "32", "--steps", "4", "--every", "2",
            "--encoder", TestFile("torch-small.onnx"), "--content-layer", "/Relu_output_0", "--style-layers", "/Relu_output_0,/LeakyRelu_output_0",
            "--out", output, "--device", "cpu");
        Assert.True(code == 0, text);
        Assert.True(File.Exists(output));
        Assert.True(File.Exists(dir.File("out-losses.png")));
        Assert.True(File.Exists(Path.Combine(dir.File("out-steps"), "step_00002.png")));

        (code, text) = TrainCommandTests.Run("stylize", "--content", content, "--style", style, "--size", "32", "--steps", "1",
            "--encoder", TestFile("torch-small.onnx"), "--content-layer", "relu9", "--style-layers", "/Relu_output_0", "--out", output, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("computes no value 'relu9'", text);
        (code, text) = TrainCommandTests.Run("stylize", "--content", content, "--style", style, "--encoder", TestFile("torch-small.onnx"), "--out", output, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("--encoder needs --content-layer and --style-layers", text);
    }
}
