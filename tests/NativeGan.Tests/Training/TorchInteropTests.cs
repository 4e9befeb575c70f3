using NativeGan.Gan.Gans;
using NativeGan.Nn;

namespace NativeGan.Tests.Training;

/// <summary>
/// A DCGAN generator's state dict written by PyTorch (tools/torch_interop.py write: torch 1.13's own
/// nn.ConvTranspose2d / nn.BatchNorm2d with trained running statistics, in the safetensors layout) loads into
/// NativeGan's generator by the same names and gives PyTorch's eval-mode output for PyTorch's latents.
/// </summary>
public class TorchInteropTests
{
    [Fact]
    public void APyTorchGeneratorLoadsByNameAndGivesPyTorchsOutput()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "torch-dcgan-g.safetensors");
        var (tensors, metadata) = Safetensors.Load(path, Device.Cpu);
        try
        {
            Assert.StartsWith("torch ", metadata["written_by"]);
            using var g = Dcgan.Generator(latent: 10, channels: 1, side: 32, width: 8, Device.Cpu, new Rng(1));
            var state = tensors.Where(kv => kv.Key.StartsWith("generator.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["generator.".Length..], kv => kv.Value);
            g.LoadStateDict(state); // refuses a missing, unexpected or mis-shaped name
            g.Eval();
            using var _ = Autograd.NoGrad();
            using var y = g.Forward(tensors["z"]);
            Assert.Equal(tensors["expected"].Shape, y.Shape);
            Numerics.AssertClose(tensors["expected"].ToArray().Select(v => (double)v).ToArray(), y.ToArray(), rtol: 1e-4, atol: 1e-5);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
