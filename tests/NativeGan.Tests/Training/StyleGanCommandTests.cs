namespace NativeGan.Tests.Training;

/// <summary>`train stylegan`, `mix`, `pictures` and `sample --seeds --psi` end to end on a tiny IDX file, and their refusals.</summary>
[Collection("Console")]
public class StyleGanCommandTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-stylegan-" + Guid.NewGuid().ToString("N"));

    public StyleGanCommandTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void A_trained_stylegan_mixes_draws_seeds_and_writes_its_pictures()
    {
        var data = TrainCommandTests.WriteIdx(Path.Combine(dir, "blobs-images-idx3-ubyte"), 12, 8, 1);
        var run = Path.Combine(dir, "run");
        var (code, output) = TrainCommandTests.Run("train", "stylegan", "--data", data, "--device", "cpu", "--image-size", "8", "--batch", "4", "--steps", "2",
            "--out", run, "--set", "latent=5", "--set", "style_dim=4", "--set", "mapping_layers=2", "--set", "widths=4,3", "--set", "growing=false");
        Assert.True(code == 0, output);
        var checkpoint = Path.Combine(run, "checkpoint.safetensors");

        var mix = Path.Combine(dir, "mix.png");
        (code, output) = TrainCommandTests.Run("mix", "--checkpoint", checkpoint, "--rows", "1-2", "--cols", "3,4,5", "--layers", "0-1", "--out", mix, "--device", "cpu");
        Assert.True(code == 0, output);
        Assert.Contains("layers 0-1 of 4", output);
        var image = StbImageSharp.ImageResult.FromMemory(File.ReadAllBytes(mix));
        Assert.Equal(2 + 4 * (2 * 8 + 2), image.Width); // 4 columns of 16-pixel images (scale 2) with 2-pixel padding
        Assert.Equal(2 + 3 * (2 * 8 + 2), image.Height);

        (code, output) = TrainCommandTests.Run("pictures", "--checkpoint", checkpoint, "--out", Path.Combine(dir, "pictures"), "--device", "cpu");
        Assert.True(code == 0, output);
        foreach (var name in new[] { "mixing-coarse", "mixing-fine", "truncation", "noise", "interpolation" })
            Assert.True(File.Exists(Path.Combine(dir, "pictures", name + ".png")), $"{name}.png missing: {output}");

        var a = Path.Combine(dir, "a.png");
        var b = Path.Combine(dir, "b.png");
        Assert.Equal(0, TrainCommandTests.Run("sample", "--checkpoint", checkpoint, "--seeds", "3,4", "--psi", "0.7", "--out", a, "--device", "cpu").Code);
        Assert.Equal(0, TrainCommandTests.Run("sample", "--checkpoint", checkpoint, "--seeds", "3-4", "--psi", "0.7", "--out", b, "--device", "cpu").Code);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));

        (code, output) = TrainCommandTests.Run("sample", "--checkpoint", checkpoint, "--seeds", "4-3", "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("'4-3' is not a seed or a range", output);
        (code, output) = TrainCommandTests.Run("mix", "--checkpoint", checkpoint, "--layers", "2-9", "--device", "cpu", "--out", mix);
        Assert.Equal(2, code);
        Assert.Contains("must lie in [0, 4)", output);
    }
}
