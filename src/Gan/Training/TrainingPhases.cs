using System.Globalization;
using NativeGan.Gan.Pictures;

namespace NativeGan.Gan.Training;

/// <summary>
/// Where a run's recipe changed, read back from its loss log, to mark on the loss curve: each optimizer's
/// learning rate (<c>lr_NAME</c>) and the batch size (<c>batch</c>) per step.
///
/// A rate's log is cut into phases of two kinds. A schedule's constant phase repeats the same float bit for bit
/// (the same base times the same factor), and a linear phase moves every step, so the step-to-step change tells
/// them apart: zero in a constant phase, non-zero on a ramp. A jump (<c>lr_schedule=30000:1,30000:16</c>) is one
/// change more than four times the larger of its neighbours'. Each phase after the first gets a marker at its
/// first step, labelled with the rate as a factor of the run's first logged rate: <c>lr x16</c> for a constant
/// phase, <c>lr x16 to x0</c> for a ramp. Optimizers that change together share one label; otherwise each is named
/// (<c>generator x4</c>). Two ramps of different slopes that meet without a jump or a pause read as one.
/// </summary>
public static class TrainingPhases
{
    /// <summary>At most this many markers: more means the log is not a schedule of a few phases (a plot stays legible).</summary>
    public const int MaxMarkers = 12;

    public static IReadOnlyList<Marker> Find(IReadOnlyList<(long Step, IReadOnlyDictionary<string, float> Values)> history)
    {
        if (history.Count < 2) return [];
        var steps = history.Select(h => h.Step).ToArray();
        var byStep = new SortedDictionary<long, List<(string Optimizer, string Label)>>();

        var rateNames = history.SelectMany(h => h.Values.Keys).Distinct().Where(k => k.StartsWith("lr_", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        foreach (var name in rateNames)
        {
            var rates = history.Select(h => h.Values.TryGetValue(name, out var v) ? (double)v : double.NaN).ToArray();
            if (rates.Any(r => !double.IsFinite(r)) || rates[0] == 0) continue; // an old log without rates, or no base to scale by
            foreach (var (start, label) in RatePhases(rates))
                Add(byStep, steps[start], name["lr_".Length..], label);
        }
        var merged = new List<Marker>();
        foreach (var (step, changes) in byStep)
        {
            // One label for a change every optimizer made alike, the optimizer's name where they differ.
            var labels = changes.GroupBy(c => c.Label)
                .Select(g => g.Count() == rateNames.Count ? $"lr {g.Key}" : string.Join(", ", g.Select(c => $"{c.Optimizer} {c.Label}")))
                .ToList();
            merged.Add(new Marker(step, string.Join(", ", labels)));
        }

        // Batch size: a marker wherever it differs from the step before.
        for (int i = 1; i < history.Count; i++)
            if (history[i].Values.TryGetValue("batch", out var b) && history[i - 1].Values.TryGetValue("batch", out var before) && b != before)
            {
                string label = $"batch {b.ToString(CultureInfo.InvariantCulture)}";
                int at = merged.FindIndex(m => m.X == steps[i]);
                if (at >= 0) merged[at] = merged[at] with { Label = $"{merged[at].Label}, {label}" };
                else merged.Add(new Marker(steps[i], label));
            }
        return merged.Count > MaxMarkers ? [] : [.. merged.OrderBy(m => m.X)];
    }

    static void Add(SortedDictionary<long, List<(string, string)>> byStep, long step, string optimizer, string label)
    {
        if (!byStep.TryGetValue(step, out var list)) byStep[step] = list = [];
        list.Add((optimizer, label));
    }

    enum Change { Flat, Ramp, Jump }

    /// <summary>The phases of one rate after the first: (index of the phase's first step, its label).</summary>
    static List<(int Start, string Label)> RatePhases(double[] rates)
    {
        int n = rates.Length;
        var delta = new double[n]; // delta[i] = rates[i] - rates[i - 1]; delta[0] unused
        for (int i = 1; i < n; i++) delta[i] = rates[i] - rates[i - 1];
        var kind = new Change[n];
        for (int i = 1; i < n; i++)
        {
            double neighbours = Math.Max(i > 1 ? Math.Abs(delta[i - 1]) : 0, i + 1 < n ? Math.Abs(delta[i + 1]) : 0);
            kind[i] = delta[i] == 0 ? Change.Flat : Math.Abs(delta[i]) > 4 * neighbours ? Change.Jump : Change.Ramp;
        }
        // A single unchanged step inside a slow ramp (two rates rounding to the same float) is still the ramp.
        for (int i = 2; i + 1 < n; i++)
            if (kind[i] == Change.Flat && kind[i - 1] == Change.Ramp && kind[i + 1] == Change.Ramp) kind[i] = Change.Ramp;

        // Phases as (first index, last index, moving?): a jump starts a phase at its step; a switch between flat and
        // ramp starts one at the step before (the ramp's first point is the last rate of the flat phase, and a flat
        // phase after a ramp starts at the ramp's last point).
        var phases = new List<(int First, int Last, bool? Moving)> { (0, 0, null) };
        for (int i = 1; i < n; i++)
        {
            var current = phases[^1];
            if (kind[i] == Change.Jump) { phases.Add((i, i, null)); continue; }
            bool moving = kind[i] == Change.Ramp;
            if (current.Moving is null || current.Moving == moving) phases[^1] = (current.First, i, moving);
            else phases.Add((i - 1, i, moving));
        }
        string Factor(int i) => "x" + (rates[i] / rates[0]).ToString("G3", CultureInfo.InvariantCulture);
        return [.. phases.Skip(1).Select(p => (p.First, p.Moving == true ? $"{Factor(p.First)} to {Factor(p.Last)}" : Factor(p.First)))];
    }
}
