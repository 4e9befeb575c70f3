namespace NativeGan.Tests.CommandLine;

/// <summary><c>bench dcgan</c> with the main job's settings and both cpu schedulers side by side (the figures are not
/// checked: speed is measured in benchmarks, not asserted in tests; what it prints and refuses is).</summary>
[Collection("Console")]
public class BenchCommandTests
{
    [Fact]
    public void CompareTimesBothSchedulersOnTheNetworkTheSettingsDescribe()
    {
        var (code, output) = RedirectedOutputTests.RunRedirected("bench", "dcgan", "--device", "cpu", "--batch", "4", "--steps", "2", "--warmup", "1",
            "--set", "g_width=4", "--set", "d_width=4", "--scheduler", "compare");
        Assert.True(code == 0, output);
        Assert.Contains("scheduler Workers", output);
        Assert.Contains("scheduler TaskParallel", output);
        Assert.Matches(@"Workers / TaskParallel: [0-9.]+x", output);
        // g_width 4: the generator is far smaller than the paper's 3.6 million parameters.
        var parameters = System.Text.RegularExpressions.Regex.Match(output, @"([0-9,]+) generator parameters");
        Assert.True(parameters.Success, output);
        Assert.True(int.Parse(parameters.Groups[1].Value.Replace(",", "")) < 100_000, output);
        Assert.Equal(CpuScheduler.Workers, Device.Cpu.Scheduler); // put back as it was
    }

    [Fact]
    public void ABadSettingIsRefusedNamingIt()
    {
        var (code, output) = RedirectedOutputTests.RunRedirected("bench", "dcgan", "--device", "cpu", "--set", "g_width");
        Assert.Equal(2, code);
        Assert.Contains("--set expects key=value, got 'g_width'", output);
        (code, output) = RedirectedOutputTests.RunRedirected("bench", "dcgan", "--device", "cpu", "--set", "no_such_setting=3", "--steps", "1", "--warmup", "0");
        Assert.Equal(2, code);
        Assert.Contains("no_such_setting", output);
    }
}
