namespace NativeGan.Nn;

/// <summary>
/// A learning rate held at its start value until step <c>from</c>, then falling linearly to 0 at step <c>to</c>, and
/// 0 after: <c>lr(t) = lr0 * clamp((to - t) / (to - from), 0, 1)</c>, t counted from 0. With <c>from</c> = 0 this is the
/// schedule of the WGAN-GP authors' code (<c>decay = max(0, 1 - iteration / ITERS)</c>), i.e.
/// <c>torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.0, total_iters=to)</c>; with <c>from</c> &gt; 0 it is like pix2pix's
/// "linear" policy (constant, then a linear decay over the last steps; pix2pix stops one step short of 0).
/// <para>Why a GAN wants it: at a constant rate Adam keeps the generator moving by about lr per step, so samples
/// stay jittered around the modes and spill onto the paths between them; a rate that shrinks towards the end lets
/// the last steps settle.</para>
/// <para>The rate is a function of the step alone (no state), so a run resumed from a checkpoint at step t sets
/// the same rate an uninterrupted one would.</para>
/// <para>The jobs apply it as <see cref="RateSchedule.LinearDecay"/>, the knots <c>from:1,to:0</c> of the general
/// piecewise-linear schedule, which gives these rates bit for bit (a test checks it).</para>
/// </summary>
public static class LinearDecay
{
    /// <summary>The rate at step <paramref name="step"/> (0-based): <paramref name="start"/> until <paramref name="from"/>,
    /// then linear to 0 at <paramref name="to"/>. <paramref name="to"/> = 0 means no decay (always <paramref name="start"/>).</summary>
    public static float Rate(float start, long step, long from, long to)
    {
        if (to == 0) return start;
        if (from < 0 || to <= from)
            throw new ArgumentOutOfRangeException(nameof(to), $"LinearDecay: the decay must start at a step >= 0 and end after it (0: no decay), got {from} to {to}");
        if (step <= from) return start;
        return step >= to ? 0f : (float)(start * ((double)(to - step) / (to - from)));
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="who"/> and the settings when the steps
    /// do not make a schedule: either both 0 (no decay) or 0 &lt;= From &lt; To. A start without an end would be ignored,
    /// so it is refused too.</summary>
    public static void Check(string who, long from, long to)
    {
        if (to == 0 && from != 0)
            throw new ArgumentException($"{who}: {StartKey} ({from}) needs {EndKey}, the step where the rate reaches 0");
        if (to != 0 && (from < 0 || to <= from))
            throw new ArgumentException($"{who}: {EndKey} ({to}) must be 0 (no decay) or a step after {StartKey} ({from}, which must be >= 0)");
    }

    /// <summary>The settings that choose the schedule in a job's config: the step where the decay starts (default 0) and
    /// the step where the rate reaches 0 (0: no decay). A resumed run may change them (cool a run down from where it is).</summary>
    public const string StartKey = "lr_decay_start", EndKey = "lr_decay_end";
}
