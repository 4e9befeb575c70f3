using NativeGan.Gan.Progressive;

namespace NativeGan.Tests.Gans;

/// <summary>ProGAN's growing networks: shapes per stage, the fade-in's ends (alpha 0 is the old network on the
/// resampled images, alpha 1 the new one), a blend in between, and the critic's gradient penalty through double backward.</summary>
public class ProGanNetworkTests
{
    static readonly int[] Widths = [8, 6, 5];

    static float[] Values(Tensor t) => t.ToArray();

    [Fact]
    public void Each_stage_makes_and_takes_its_side()
    {
        var g = new ProGanGenerator(7, 1, Widths, rng: new Rng(1));
        var d = new ProGanDiscriminator(1, Widths, rng: new Rng(2));
        using var scope = new TensorScope();
        var z = new Rng(3).Normal(Device.Cpu, [3, 7]);
        for (int stage = 1; stage <= 3; stage++)
        {
            var images = g.Forward(z, stage);
            Assert.Equal([3, 1, ProGanGenerator.SideOf(stage), ProGanGenerator.SideOf(stage)], images.Shape);
            Assert.Equal([3, 1], d.Forward(images, stage).Shape);
        }
        Assert.Equal(16, ProGanGenerator.SideOf(3));
        Assert.Contains("blocks.2.conv0.weight", g.StateDict().Keys);
        Assert.Contains("to_rgb.0.weight", g.StateDict().Keys);
        Assert.Contains("from_rgb.2.weight", d.StateDict().Keys);
        Assert.Contains("blocks.1.conv1.weight", d.StateDict().Keys);
        Assert.Contains("head_out.bias", d.StateDict().Keys);
        using var wrong = Tensor.Zeros(Device.Cpu, 3, 1, 8, 8);
        Assert.Contains("[N, 1, 16, 16]", Assert.Throws<TensorShapeException>(() => d.Forward(wrong, 3)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Forward(z, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Forward(z, 2, 1.5f));
    }

    [Fact]
    public void The_fade_in_starts_at_the_old_network_and_ends_at_the_new()
    {
        var g = new ProGanGenerator(5, 2, Widths, rng: new Rng(4));
        var d = new ProGanDiscriminator(2, Widths, rng: new Rng(5));
        using var scope = new TensorScope();
        var z = new Rng(6).Normal(Device.Cpu, [4, 5]);
        for (int stage = 2; stage <= 3; stage++)
        {
            // G: alpha 0 is the previous stage's image, upsampled; alpha 1 the new stage's; alpha 0.25 the blend.
            var old = g.Forward(z, stage - 1).UpsampleNearest2x();
            var fresh = g.Forward(z, stage, 1f);
            Assert.Equal(Values(old), Values(g.Forward(z, stage, 0f)));
            var quarter = Values(g.Forward(z, stage, 0.25f));
            var o = Values(old);
            var f = Values(fresh);
            for (int i = 0; i < quarter.Length; i++) Assert.True(Math.Abs(0.75 * o[i] + 0.25 * f[i] - quarter[i]) < 1e-5, $"blend at {i}: {quarter[i]}");

            // D: alpha 0 scores the images average-pooled by the previous stage; alpha 1 the new stage's own path.
            var x = new Rng(7).Normal(Device.Cpu, [4, 2, ProGanGenerator.SideOf(stage), ProGanGenerator.SideOf(stage)]);
            Assert.Equal(Values(d.Forward(x.AvgPool2d(2), stage - 1)), Values(d.Forward(x, stage, 0f)));
            Assert.NotEqual(Values(d.Forward(x, stage, 0f)), Values(d.Forward(x, stage, 1f)));
        }
    }

    [Fact]
    public void The_critics_gradient_penalty_differentiates_through_every_stage()
    {
        // WGAN-GP's penalty on the critic, (|grad_x D(x)| - 1)^2, needs the gradient of a gradient through the equalized
        // convolutions, LeakyReLU, average pooling, the fade-in and the minibatch standard deviation.
        var d = new ProGanDiscriminator(1, Widths, rng: new Rng(8));
        using var scope = new TensorScope();
        var x = new Rng(9).Normal(Device.Cpu, [3, 1, 16, 16]);
        x.RequiresGrad = true;
        var score = d.Forward(x, 3, 0.5f);
        var grad = Autograd.Grad([score.Sum()], [x], createGraph: true)[0];
        var penalty = Ops.Reshape(grad, 3, -1).Square().Sum([1]).Sqrt().Add(-1f).Square().Mean();
        penalty.Backward();
        // Every weight on stage 3's path gets a gradient (biases before LeakyReLUs move grad_x D only through the
        // activations' kinks, so theirs is zero almost everywhere; stage 1's input layer is not on the path).
        foreach (var (name, p) in d.NamedParameters())
        {
            if (!name.EndsWith("weight", StringComparison.Ordinal) || name.StartsWith("from_rgb.0", StringComparison.Ordinal)) continue;
            Assert.True(p.Grad is not null, $"{name} has no gradient from the penalty");
            Assert.True(p.Grad!.ToArray().Any(v => v != 0), $"{name}'s penalty gradient is all zero");
        }
    }
}
