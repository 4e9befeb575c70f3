using System.Globalization;

namespace NativeGan.Nn;

/// <summary>
/// A learning rate as its start value times a factor that is piecewise linear in the step: the factor passes
/// through the knots (step, factor), is linear between neighbouring knots, and holds the first knot's factor
/// before it and the last knot's after it. Two knots at the same step make a jump: the second one's factor holds
/// from that step on. Written <c>STEP:FACTOR,STEP:FACTOR,...</c>, the setting <c>lr_schedule</c>; PyTorch users
/// know it as a <c>LambdaLR</c> with a piecewise-linear lambda.
/// <para>Why: one run can then do what took several resumed runs, e.g. the grid's recipe
/// <c>30000:1,30000:16,50000:16,60000:0</c> (the start rate for 30,000 steps, 16 times it for 20,000 more, then
/// linearly down to 0 at 60,000). <see cref="LinearDecay"/>'s constant-then-linear-to-0 is the two knots
/// <c>from:1,to:0</c> and gives the same rates bit for bit.</para>
/// <para>The factor is a function of the step alone, so a run resumed at step t sets the rate an uninterrupted
/// one would.</para>
/// </summary>
public sealed class RateSchedule
{
    readonly (long Step, double Factor)[] knots;

    /// <summary>The schedule through <paramref name="knots"/>: at least one, steps >= 0 and never decreasing, at most two
    /// at one step, factors finite and >= 0.</summary>
    public RateSchedule(IReadOnlyList<(long Step, double Factor)> knots)
    {
        if (knots.Count == 0) throw new ArgumentException("RateSchedule: give at least one STEP:FACTOR knot");
        for (int i = 0; i < knots.Count; i++)
        {
            var (s, f) = knots[i];
            if (s < 0) throw new ArgumentException($"RateSchedule: knot {i + 1} ({Format(knots[i])}): the step must be >= 0");
            if (!double.IsFinite(f) || f < 0) throw new ArgumentException($"RateSchedule: knot {i + 1} ({Format(knots[i])}): the factor must be a finite number >= 0");
            if (i > 0 && s < knots[i - 1].Step)
                throw new ArgumentException($"RateSchedule: knot {i + 1} ({Format(knots[i])}) comes before knot {i} ({Format(knots[i - 1])}): steps must not decrease");
            if (i > 1 && s == knots[i - 2].Step)
                throw new ArgumentException($"RateSchedule: three knots at step {s}: at most two (a jump)");
        }
        this.knots = [.. knots];
    }

    /// <summary>LinearDecay's schedule as knots: 1 until <paramref name="from"/>, linear to 0 at <paramref name="to"/>.</summary>
    public static RateSchedule LinearDecay(long from, long to) => new([(from, 1.0), (to, 0.0)]);

    /// <summary>The constant factor 1.</summary>
    public static RateSchedule Constant { get; } = new([(0, 1.0)]);

    public IReadOnlyList<(long Step, double Factor)> Knots => knots;

    /// <summary>The factor at step <paramref name="step"/> (0-based: the update about to be made).</summary>
    public double Factor(long step)
    {
        int last = -1; // the last knot at or before the step
        while (last + 1 < knots.Length && knots[last + 1].Step <= step) last++;
        if (last < 0) return knots[0].Factor;
        if (last == knots.Length - 1) return knots[last].Factor;
        var (s0, f0) = knots[last];
        var (s1, f1) = knots[last + 1];
        // Weights written so that from:1,to:0 computes (to - t) / (to - from) exactly as LinearDecay does.
        double w = (double)(s1 - step) / (s1 - s0);
        return f0 * w + f1 * (1 - w);
    }

    /// <summary>The rate at step <paramref name="step"/>: <paramref name="start"/> times the factor.</summary>
    public float Rate(float start, long step) => (float)(start * Factor(step));

    /// <summary>Sets <paramref name="optimizer"/>'s rate for step <paramref name="step"/> (call before that step's update).</summary>
    public void Apply(Optimizer optimizer, float start, long step) => optimizer.LearningRate = Rate(start, step);

    /// <summary>True when every step from <paramref name="step"/> on has factor 0 (nothing would train).</summary>
    public bool ZeroFrom(long step) => Factor(step) == 0 && knots.All(k => k.Step <= step || k.Factor == 0);

    /// <summary>Reads <c>STEP:FACTOR,STEP:FACTOR,...</c> ("30000:1,30000:16,50000:16,60000:0"); the error names
    /// <paramref name="who"/> and the text.</summary>
    public static RateSchedule Parse(string who, string text)
    {
        var knots = new List<(long, double)>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            int colon = part.IndexOf(':');
            if (colon <= 0
                || !long.TryParse(part[..colon], NumberStyles.Integer, CultureInfo.InvariantCulture, out long step)
                || !double.TryParse(part[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double factor))
                throw new ArgumentException($"{who}: {Key} '{text}': '{part}' is not STEP:FACTOR (e.g. 30000:1,30000:16,50000:16,60000:0)");
            knots.Add((step, factor));
        }
        try { return new RateSchedule(knots); }
        catch (ArgumentException e) { throw new ArgumentException($"{who}: {Key} '{text}': {e.Message["RateSchedule: ".Length..]}"); }
    }

    public override string ToString() => string.Join(",", knots.Select(Format));

    static string Format((long Step, double Factor) k) =>
        $"{k.Step.ToString(CultureInfo.InvariantCulture)}:{k.Factor.ToString("R", CultureInfo.InvariantCulture)}";

    /// <summary>The config key of a job's schedule ("": none; then lr_decay_start and lr_decay_end choose it).</summary>
    public const string Key = "lr_schedule";
}
