using NativeGan.Cli;
using NativeGan.Tests.Training;
using Spectre.Console;

namespace NativeGan.Tests.Kernels;

/// <summary>
/// <c>nativegan lab OP --variant N|all</c>: every op's every cpu variant checked against float64 (on the lab's odd sizes)
/// and timed at a tiny size; a bad op or variant is one line listing the valid ones and exit code 2; a failed check is loud.
/// </summary>
public class LabCommandTests
{
    static (int ExitCode, string Output, List<Lab.Outcome> Outcomes) Run(string? op, string? variant, Device? device = null,
        IReadOnlyList<Lab.Entry>? entries = null)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 100_000; // one line stays one line
        int rc = Lab.Run(console, device ?? Device.Cpu, op, variant, size: 2, repeats: 1, out var outcomes, entries);
        return (rc, writer.ToString(), outcomes);
    }

    static string OneLine(string output) => Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static TheoryData<string> Ops => new(Lab.Entries.Select(e => e.Name));

    [Theory, MemberData(nameof(Ops))]
    public void EveryVariantOfEveryOpPassesItsCheckOnTheCpu(string op)
    {
        var (rc, output, outcomes) = Run(op, "all");
        Assert.True(rc == 0, output);
        var variants = Lab.Entries.Single(e => e.Name == op).Variants(Device.Cpu);
        Assert.Equal(variants.Select(v => v.Number), outcomes.Select(o => o.Variant));
        Assert.All(outcomes, o =>
        {
            Assert.True(o.Passed, $"{o.Op} {o.VariantName}: {o.Error ?? $"{o.Worst}x the tolerance"}");
            Assert.NotNull(o.Timing);
            Assert.True(o.Timing!.Seconds > 0, $"{o.Op} {o.VariantName} timed {o.Timing.Seconds} s");
        });
        Assert.DoesNotContain("FAILED", output);
        foreach (var v in variants) Assert.Contains($"v{v.Number} {v.Name}", output);
    }

    [Fact]
    public void WithoutVariantTheDefaultRunsAndSaysWhichItIs()
    {
        var (rc, output, outcomes) = Run("batchnorm", null);
        Assert.Equal(0, rc);
        var only = Assert.Single(outcomes);
        Assert.Equal(0, only.Variant);
        Assert.Equal("default = v2 [N, C] columns, vectorised", only.VariantName);
        Assert.Contains("ok (", output);
    }

    [Fact]
    public void OneVariantByNumber()
    {
        var (rc, _, outcomes) = Run("im2col", "2");
        Assert.Equal(0, rc);
        Assert.Equal("v2 v1 on refs", Assert.Single(outcomes).VariantName);
    }

    [Fact]
    public void APrefixSelectsSeveralOps()
    {
        var (rc, _, outcomes) = Run("elementwise", "all");
        Assert.Equal(0, rc);
        Assert.Equal(["elementwise.add", "elementwise.tanh"], outcomes.Select(o => o.Op));
    }

    [Fact]
    public void AnUnknownVariantIsOneLineListingTheValidOnes()
    {
        var (rc, output, outcomes) = Run("gemm", "7");
        Assert.Equal(Lab.UsageError, rc);
        Assert.Empty(outcomes);
        string line = OneLine(output);
        Assert.StartsWith("error: gemm has no variant 7 on cpu; its variants: 1 (naive triple loop), 2 (packed, 6x16 Vector256), 3 (packed, 6x32 Vector512", line);
        Assert.EndsWith("0 (the default) or all", line);
    }

    [Fact]
    public void AVariantThatIsNotANumberIsOneLine()
    {
        var (rc, output, _) = Run("maxover.mask", "fast");
        Assert.Equal(Lab.UsageError, rc);
        Assert.Equal("error: --variant must be a number or all, got 'fast'; maxover.mask on cpu has 1 (five general kernels), 2 (one kernel), 0 (the default) or all",
            OneLine(output));
    }

    [Fact]
    public void AnUnknownOpIsOneLineListingTheOps()
    {
        var (rc, output, _) = Run("fft", "all");
        Assert.Equal(Lab.UsageError, rc);
        Assert.Equal($"error: unknown op 'fft'; the ops are: {string.Join(", ", Lab.Entries.Select(e => e.Name))}", OneLine(output));
    }

    [Fact]
    public void AFailedCheckIsLoudAndTheExitCodeSaysSo()
    {
        var fake = new Lab.Entry("fake", _ => [new(1, "right"), new(2, "wrong"), new(3, "throws")], _ => 1,
            (_, v) => v switch { 1 => 0.5, 2 => 12.5, _ => throw new InvalidOperationException("kernel fell over") },
            (_, _, n) => new Lab.Timing(1e-3, n, "GB/s", $"[{n}]"), 8, 1);
        var (rc, output, outcomes) = Run("fake", "all", entries: [fake]);
        Assert.Equal(Lab.CheckFailed, rc);
        Assert.Equal([true, false, false], outcomes.Select(o => o.Passed));
        Assert.Null(outcomes[1].Timing); // a variant that fails is not timed
        Assert.Contains("FAILED: fake v2 wrong on cpu: differs from float64 by 12.5x the tolerance", output);
        Assert.Contains("FAILED: fake v3 throws on cpu: InvalidOperationException: kernel fell over", output);
    }
}

/// <summary>The lab through the command line: the op argument and the --variant, --device, --size options.</summary>
[Collection("Console")]
public class LabCommandLineTests
{
    [Fact]
    public void VariantAllOnTheCpu()
    {
        var (code, output) = TrainCommandTests.Run("lab", "maxover.mask", "--variant", "all", "--device", "cpu", "--size", "2", "--repeats", "1");
        Assert.True(code == 0, output);
        Assert.Contains("v1 five general kernels", output);
        Assert.Contains("v2 one kernel (default)", output);
    }

    [Fact]
    public void ABadVariantIsExitCodeTwo()
    {
        var (code, output) = TrainCommandTests.Run("lab", "conv2d", "--variant", "4", "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("error: conv2d has no variant 4 on cpu; its variants: 1 (", output);
    }
}
