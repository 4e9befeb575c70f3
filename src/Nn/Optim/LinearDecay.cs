namespace NativeGan.Nn;

/// <summary>
/// A learning rate that falls linearly from its start value to 0 over a fixed number of steps, then stays at 0:
/// <c>lr(t) = lr0 * max(0, 1 - t / steps)</c>, t counted from 0 (the first step uses lr0). This is the schedule of
/// the WGAN-GP authors' code (<c>decay = max(0, 1 - iteration / ITERS)</c>) and what
/// <c>torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.0, total_iters=steps)</c> gives.
/// <para>Why a GAN wants it: at a constant rate Adam keeps the generator moving by about lr per step, so samples
/// stay jittered around the modes and spill onto the paths between them; a rate that shrinks towards the end lets
/// the last steps settle.</para>
/// <para>The rate is a function of the step alone (no state), so a run resumed from a checkpoint at step t sets
/// the same rate an uninterrupted one would.</para>
/// </summary>
public static class LinearDecay
{
    /// <summary>The rate at step <paramref name="step"/> (0-based) of a decay from <paramref name="start"/> to 0 over
    /// <paramref name="steps"/> steps; <paramref name="steps"/> = 0 means no decay (always <paramref name="start"/>).</summary>
    public static float Rate(float start, long step, long steps)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), $"LinearDecay: steps must be >= 0 (0: no decay), got {steps}");
        if (steps == 0 || step <= 0) return start;
        return step >= steps ? 0f : (float)(start * (1.0 - (double)step / steps));
    }

    /// <summary>Sets <paramref name="optimizer"/>'s rate for step <paramref name="step"/> (call before that step's update).</summary>
    public static void Apply(Optimizer optimizer, float start, long step, long steps) =>
        optimizer.LearningRate = Rate(start, step, steps);
}
