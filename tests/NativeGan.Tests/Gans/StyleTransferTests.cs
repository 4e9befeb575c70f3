using NativeGan;
using NativeGan.Gan.Pretrained;
using NativeGan.Gan.Style;

namespace NativeGan.Tests.Gans;

/// <summary>
/// Gatys style transfer: the Gram matrix by hand (its gradients, and those of the style and total-variation losses, are
/// checked against float64 finite differences in OpGradTests), and a short run on small synthetic images with the
/// ImageNet ResNet-18 (fetched into the data cache through NuGet on first use) that must lower its losses.
/// </summary>
public class StyleTransferTests
{
    [Fact]
    public void GramMatrixByHand()
    {
        // Two channels over four positions: a = [1, 2, 0, -1], b = [0, 1, 3, 1].
        using var f = Tensor.FromArray([1, 2, 0, -1, 0, 1, 3, 1], [1, 2, 2, 2]);
        using var g = StyleLosses.Gram(f);
        Assert.Equal([1, 2, 2], g.Shape);
        // a·a = 6, a·b = 1, b·b = 11, each over 4 positions.
        Assert.Equal([1.5f, 0.25f, 0.25f, 2.75f], g.ToArray());
    }

    [Fact]
    public void ShortRunLowersTheStyleLossAndKeepsPixelsInRange()
    {
        const int side = 48;
        var content = new float[3 * side * side];
        var style = new float[3 * side * side];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                {
                    // Content: a smooth disc on a ramp; style: high-contrast diagonal stripes in two colours.
                    bool disc = (x - 24) * (x - 24) + (y - 20) * (y - 20) < 150;
                    content[(c * side + y) * side + x] = disc ? 200 - 40 * c : 30 + 3 * x;
                    style[(c * side + y) * side + x] = (x + y) / 4 % 2 == 0 ? 230 - 90 * c : 20 + 80 * c;
                }
        using var net = ResNet18.Load(Device.Cpu, log: TestContext.Current.SendDiagnosticMessage);
        var gatys = new GatysStyleTransfer(net);
        using var contentImage = Tensor.FromArray(content, [1, 3, side, side]);
        using var styleImage = Tensor.FromArray(style, [1, 3, side, side]);
        var steps = new List<GatysStep>();
        using var output = gatys.Run(contentImage, styleImage, new GatysOptions(Steps: 12, LearningRate: 8f), (s, _) => steps.Add(s));
        Assert.Equal(12, steps.Count);
        Assert.Equal([1, 3, side, side], output.Shape);
        Assert.All(output.ToArray(), v => Assert.InRange(v, 0f, 255f));
        Assert.Equal(0, steps[0].Content, 6); // the start is the content image itself
        Assert.True(steps[^1].Style < 0.7 * steps[0].Style, $"style loss {steps[0].Style:g4} -> {steps[^1].Style:g4}");
        Assert.True(steps[^1].Total < steps[0].Total, $"total loss {steps[0].Total:g4} -> {steps[^1].Total:g4}");
        TestContext.Current.SendDiagnosticMessage($"Gatys 48x48, 12 steps: total {steps[0].Total:g4} -> {steps[^1].Total:g4}, style {steps[0].Style:g4} -> {steps[^1].Style:g4}, content -> {steps[^1].Content:g4}");
    }
}
