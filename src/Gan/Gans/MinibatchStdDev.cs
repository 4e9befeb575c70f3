using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

// Composed from recorded autograd ops, so its gradients (and the gradients of those gradients that WGAN-GP and R1
// need) come from the tape.

/// <summary>
/// Minibatch standard deviation (Karras et al. 2018, ProGAN, section 3): one extra feature that tells the
/// discriminator how varied the batch is, so a generator that collapses to a few outputs is easy to spot.
/// For x [N, F] or [N, C, H, W]: the standard deviation over the batch of every feature (biased, over all N
/// samples, sqrt(var + 1e-8)), averaged over the features to one number s; s is appended as one more feature
/// ([N, F + 1]) or one more constant channel ([N, C + 1, H, W]). ProGAN computes s per group of 4 samples;
/// here the group is the whole batch.
/// </summary>
public sealed class MinibatchStdDev(float eps = 1e-8f) : Module
{
    public float Eps { get; } = eps;

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 2 && x.Rank != 4)
            throw new TensorShapeException($"MinibatchStdDev: expected [N, F] or [N, C, H, W], got {Shapes.Format(x.Shape)}");
        if (x.Dim(0) < 2)
            throw new TensorShapeException($"MinibatchStdDev: the standard deviation over a batch needs at least 2 samples, got {Shapes.Format(x.Shape)}");
        using var mean = x.Mean([0], keepDims: true);
        using var centred = x.Sub(mean);
        using var squared = centred.Square();
        using var variance = squared.Mean([0], keepDims: true);
        using var shifted = variance.Add(Eps);
        using var std = shifted.Sqrt();
        using var s = std.Mean();                                   // [1]
        int[] one = x.Rank == 2 ? [1, 1] : [1, 1, 1, 1];
        int[] map = x.Rank == 2 ? [x.Dim(0), 1] : [x.Dim(0), 1, x.Dim(2), x.Dim(3)];
        using var s1 = Ops.Reshape(s, one);
        using var feature = s1.Expand(map);
        return Ops.ChannelConcat(x, feature);
    }
}
