using NativeGan.Gan.Progressive;

namespace NativeGan.Tests.Gans;

/// <summary>StyleGAN's networks: the mapping's lr multiplier, truncation and style mixing on the styles themselves, noise
/// injection, and the synthesis network's shapes, determinism and gradients.</summary>
public class StyleGanNetworkTests
{
    static readonly int[] Widths = [6, 5, 4];

    [Fact]
    public void The_mapping_slows_its_layers_by_the_multiplier()
    {
        var mapping = new StyleGanMapping(5, 7, depth: 3, rng: new Rng(1));
        var state = mapping.StateDict();
        Assert.Equal(["layers.0.bias", "layers.0.weight", "layers.1.bias", "layers.1.weight", "layers.2.bias", "layers.2.weight"], state.Keys.Order(StringComparer.Ordinal));
        // Stored weights N(0, 1/0.01²); used at sqrt(2)/sqrt(fan_in) · 0.01.
        var w = state["layers.1.weight"].ToArray();
        Assert.InRange(Math.Sqrt(w.Average(v => (double)v * v)), 40, 200);
        using var scope = new TensorScope();
        var z = new Rng(2).Normal(Device.Cpu, [4, 5]);
        Assert.Equal([4, 7], mapping.Forward(z).Shape);
    }

    [Fact]
    public void Truncation_pulls_the_styles_to_the_average_up_to_the_cutoff()
    {
        using var scope = new TensorScope();
        var ws = new Rng(3).Normal(Device.Cpu, [3, 4, 2]);
        var average = Tensor.FromArray([0.5f, -1f], [2], Device.Cpu);
        var w = ws.ToArray();
        // psi 0 with cutoff 2: layers 0 and 1 of every sample are the average, layers 2 and 3 unchanged.
        var t = StyleGanMapping.Truncate(ws, average, 0f, cutoff: 2).ToArray();
        for (int n = 0; n < 3; n++)
            for (int l = 0; l < 4; l++)
                for (int c = 0; c < 2; c++)
                {
                    int i = (n * 4 + l) * 2 + c;
                    Assert.Equal(l < 2 ? (c == 0 ? 0.5f : -1f) : w[i], t[i], 6);
                }
        // psi 0.5, all layers: halfway.
        var half = StyleGanMapping.Truncate(ws, average, 0.5f).ToArray();
        for (int i = 0; i < w.Length; i++) Assert.Equal(0.5f * w[i] + 0.5f * (i % 2 == 0 ? 0.5f : -1f), half[i], 5);
        Assert.Equal(w, StyleGanMapping.Truncate(ws, average, 1f).ToArray());
    }

    [Fact]
    public void Mixing_takes_the_second_styles_from_the_crossover_on()
    {
        using var scope = new TensorScope();
        var a = new Rng(4).Normal(Device.Cpu, [2, 6, 3]);
        var b = new Rng(5).Normal(Device.Cpu, [2, 6, 3]);
        var mixed = StyleGanMapping.Mix(a, b, 4).ToArray();
        var (x, y) = (a.ToArray(), b.ToArray());
        for (int i = 0; i < mixed.Length; i++) Assert.Equal((i / 3) % 6 < 4 ? x[i] : y[i], mixed[i], 6);
        var same = StyleGanMapping.Broadcast(Tensor.FromArray([1f, 2f, 3f, 4f], [2, 2], Device.Cpu), 3);
        Assert.Equal([2, 3, 2], same.Shape);
        Assert.Equal([1f, 2f, 1f, 2f, 1f, 2f, 3f, 4f, 3f, 4f, 3f, 4f], same.ToArray());
    }

    [Fact]
    public void Synthesis_makes_images_from_styles_and_noise()
    {
        var synthesis = new StyleGanSynthesis(7, 2, Widths, rng: new Rng(6));
        Assert.Equal(6, synthesis.Layers);
        Assert.Equal(16, synthesis.Side);
        using var scope = new TensorScope();
        Tensor[] Noise(int seed) => [.. Enumerable.Range(0, 6).Select(l => new Rng((ulong)(seed * 10 + l)).Normal(Device.Cpu, [3, 1, StyleGanSynthesis.SideOfLayer(l), StyleGanSynthesis.SideOfLayer(l)]))];
        var ws = new Rng(7).Normal(Device.Cpu, [3, 6, 7]);
        var images = synthesis.Forward(ws, Noise(1));
        Assert.Equal([3, 2, 16, 16], images.Shape);
        Assert.Equal(images.ToArray(), synthesis.Forward(ws, Noise(1)).ToArray());
        // Truncation to psi 0 makes every latent the average's image (the noise strengths start at 0).
        var average = new Rng(8).Normal(Device.Cpu, [7]);
        var truncated = synthesis.Forward(StyleGanMapping.Truncate(ws, average, 0f), Noise(1)).ToArray();
        int per = 2 * 16 * 16;
        Assert.Equal(truncated.AsSpan(0, per).ToArray(), truncated.AsSpan(per, per).ToArray(), new Close());

        // The noise strengths start at 0: other noise, the same images; once a strength is set, the noise shows.
        Assert.Equal(images.ToArray(), synthesis.Forward(ws, Noise(2)).ToArray());
        var strength = synthesis.StateDict()["noises.3.weight"];
        using (var half = Tensor.Full(Device.Cpu, 0.5f, strength.Shape)) strength.CopyFrom(half);
        Assert.NotEqual(synthesis.Forward(ws, Noise(1)).ToArray(), synthesis.Forward(ws, Noise(2)).ToArray());

        Assert.Contains("[N, 6, 7]", Assert.Throws<TensorShapeException>(() => synthesis.Forward(ws.Permute(0, 2, 1), Noise(1))).Message);
    }

    [Fact]
    public void Gradients_reach_the_mapping_through_the_synthesis()
    {
        var mapping = new StyleGanMapping(4, 5, depth: 2, rng: new Rng(9));
        var synthesis = new StyleGanSynthesis(5, 1, [4, 3], rng: new Rng(10));
        using var scope = new TensorScope();
        var z = new Rng(11).Normal(Device.Cpu, [2, 4]);
        var ws = StyleGanMapping.Broadcast(mapping.Forward(z), synthesis.Layers);
        Tensor[] noise = [.. Enumerable.Range(0, synthesis.Layers).Select(l => new Rng((ulong)(20 + l)).Normal(Device.Cpu, [2, 1, StyleGanSynthesis.SideOfLayer(l), StyleGanSynthesis.SideOfLayer(l)]))];
        synthesis.Forward(ws, noise).Square().Mean().Backward();
        foreach (var (name, p) in mapping.NamedParameters().Concat(synthesis.NamedParameters()))
        {
            if (name.StartsWith("noises", StringComparison.Ordinal)) { Assert.NotNull(p.Grad); continue; }
            if (name.StartsWith("to_rgb.0", StringComparison.Ordinal)) { Assert.Null(p.Grad); continue; } // stage 1's toRGB: unused at stage 2
            Assert.True(p.Grad is not null && p.Grad.ToArray().Any(v => v != 0), $"{name} got no gradient");
        }
    }

    sealed class Close : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= 1e-5f * (1 + Math.Abs(x));
        public int GetHashCode(float obj) => 0;
    }
}
