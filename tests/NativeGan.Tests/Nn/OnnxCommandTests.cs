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
}
