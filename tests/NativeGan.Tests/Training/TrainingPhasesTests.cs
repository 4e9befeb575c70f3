using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;

namespace NativeGan.Tests.Training;

/// <summary>
/// The schedule phases read back from a loss log for the loss curve's markers, on logs written here by hand as the
/// trainer would write them (float rates, 1-based steps; the step-t rate is the schedule at 0-based t).
/// </summary>
public class TrainingPhasesTests
{
    static List<(long Step, IReadOnlyDictionary<string, float> Values)> Log(int steps, Func<int, Dictionary<string, float>> at) =>
        [.. Enumerable.Range(0, steps).Select(t => ((long)t + 1, (IReadOnlyDictionary<string, float>)at(t)))];

    // WGAN-GP's grid recipe in small: x1 until 30, x16 to 50, cooled linearly to 0 at 60 with batches of 256 from 50.
    static float Factor(int t) => t < 30 ? 1 : t <= 50 ? 16 : t < 60 ? 16f * (60 - t) / 10 : 0;

    [Fact]
    public void TheGridRecipeGivesAJumpARampWithItsBatchAndTheEnd()
    {
        var log = Log(70, t => new()
        {
            ["loss_d"] = 0.3f * t, ["batch"] = t < 50 ? 64 : 256,
            ["lr_generator"] = 1e-4f * Factor(t), ["lr_discriminator"] = 3e-4f * Factor(t),
        });
        Assert.Equal(
            [new Marker(31, "lr x16"), new Marker(51, "lr x16 to x0, batch 256"), new Marker(61, "lr x0")],
            TrainingPhases.Find(log));
    }

    [Fact]
    public void OptimizersThatChangeApartAreNamed()
    {
        // Only G's rate is raised 4x at t = 10; both then cool from t = 20 to t = 25 (to x1 and x0.25 of the start).
        var log = Log(26, t => new()
        {
            ["lr_generator"] = 2e-4f * (t < 10 ? 1 : t <= 20 ? 4 : 4 - 0.6f * (t - 20)),
            ["lr_discriminator"] = 2e-4f * (t <= 20 ? 1 : 1 - 0.15f * (t - 20)),
        });
        var markers = TrainingPhases.Find(log);
        Assert.Equal(2, markers.Count);
        Assert.Equal(new Marker(11, "generator x4"), markers[0]);
        Assert.Equal(21, markers[1].X);
        Assert.Equal("discriminator x1 to x0.25, generator x4 to x1", markers[1].Label);
    }

    [Fact]
    public void ALongRampIsOnePhaseEvenWhereNeighbouringRatesRoundAlike()
    {
        // 1e-4 falling to 0 over 60,000 steps.
        var log = Log(70_000, t => new() { ["lr_generator"] = t < 5_000 ? 1e-4f : t < 65_000 ? 1e-4f * (65_000 - t) / 60_000 : 0f });
        Assert.Equal([new Marker(5_001, "lr x1 to x0"), new Marker(65_001, "lr x0")], TrainingPhases.Find(log));

        // A ramp of 0.75 float ulp a step (2^-37 near 1e-4): about every fourth step rounds to the rate before it.
        static float Rate(int t) => t < 50 ? 1e-4f : (float)(1e-4 - 0.75 * Math.Pow(2, -37) * (Math.Min(t, 1050) - 50));
        var rounded = Log(1100, t => new() { ["lr_generator"] = Rate(t) });
        Assert.InRange(Enumerable.Range(51, 999).Count(t => Rate(t) == Rate(t - 1)), 200, 300);
        // The ramp's first move shows at t = 52: t = 51's rate, 0.75 ulp below 1e-4, still rounds to 1e-4f. So the
        // phase starts at t = 51, logged step 52.
        Assert.Equal(Rate(50), Rate(51));
        Assert.NotEqual(Rate(51), Rate(52));
        Assert.Equal([new Marker(52, "lr x1 to x1"), new Marker(1051, "lr x1")], TrainingPhases.Find(rounded));
    }

    [Fact]
    public void NoRatesNoChangesOrTooManyChangesGiveNoMarkers()
    {
        Assert.Empty(TrainingPhases.Find(Log(10, t => new() { ["loss_d"] = t }))); // an old log: no rates, no batch
        Assert.Empty(TrainingPhases.Find(Log(10, t => new() { ["lr_generator"] = 1e-3f, ["batch"] = 64 })));
        Assert.Empty(TrainingPhases.Find(Log(1, t => new() { ["lr_generator"] = 1e-3f })));
        // A rate switching every 3 steps is no schedule of phases to mark.
        Assert.Empty(TrainingPhases.Find(Log(60, t => new() { ["lr_generator"] = t / 3 % 2 == 0 ? 1e-3f : 2e-3f })));
        Assert.Equal([new Marker(7, "batch 24")], TrainingPhases.Find(Log(9, t => new() { ["lr_generator"] = 1e-3f, ["batch"] = t < 6 ? 12 : 24 })));
    }
}
