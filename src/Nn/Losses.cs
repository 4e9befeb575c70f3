namespace NativeGan.Nn;

/// <summary>
/// The losses of the course's generative models, each a few recorded ops so the tape differentiates
/// them (and, for the penalties, differentiates through a gradient). Every loss returns a scalar tensor
/// (shape [1], what Mean() returns) that is the mean over the batch unless its summary says otherwise.
/// Call them inside a <see cref="TensorScope"/> (a training step): their intermediates, and the penalties'
/// interpolated points and input gradients, are freed when it closes.
/// <code>
/// // DCGAN discriminator step, non-saturating generator step
/// var dLoss = Losses.BceWithLogits(d.Forward(real), 1f).Add(Losses.BceWithLogits(d.Forward(fake.Detach()), 0f));
/// var gLoss = Losses.BceWithLogits(d.Forward(fake), 1f);
/// </code>
/// </summary>
public static class Losses
{
    // ------------------------------------------------------------------ reconstruction

    /// <summary>Mean squared error, mean over every element: mean((x - y)^2).</summary>
    public static Tensor Mse(Tensor prediction, Tensor target)
    {
        CheckSameShape("Mse", prediction, target);
        return prediction.Sub(target).Square().Mean();
    }

    /// <summary>Mean absolute error, mean over every element: mean(|x - y|).</summary>
    public static Tensor L1(Tensor prediction, Tensor target)
    {
        CheckSameShape("L1", prediction, target);
        return prediction.Sub(target).Abs().Mean();
    }

    // ------------------------------------------------------------------ binary cross-entropy

    /// <summary>
    /// Binary cross-entropy of sigmoid(logits) against targets in [0, 1], mean over every element, written on
    /// the logits so it never takes log(0): -[y log s(x) + (1-y) log(1 - s(x))] = softplus(x) - y x, and
    /// softplus(x) = max(x, 0) + log(1 + exp(-|x|)) is exact for any x (what PyTorch's BCEWithLogitsLoss does).
    /// </summary>
    public static Tensor BceWithLogits(Tensor logits, Tensor targets)
    {
        CheckSameShape("BceWithLogits", logits, targets);
        return logits.Softplus().Sub(logits.Mul(targets)).Mean();
    }

    /// <summary>
    /// <see cref="BceWithLogits(Tensor, Tensor)"/> with every target equal to <paramref name="target"/>
    /// (1 for "real", 0 for "fake"; a value such as 0.9 gives one-sided label smoothing).
    /// </summary>
    public static Tensor BceWithLogits(Tensor logits, float target)
    {
        if (target < 0f || target > 1f)
            throw new ArgumentOutOfRangeException(nameof(target), $"BceWithLogits: a target must lie in [0, 1], got {target}");
        // target 0: softplus(x); target 1: softplus(x) - x = softplus(-x); otherwise the general form.
        if (target == 0f) return logits.Softplus().Mean();
        if (target == 1f) return logits.Neg().Softplus().Mean();
        return logits.Softplus().Sub(logits.Mul(target)).Mean();
    }

    /// <summary>Mean cross-entropy of logits [N, K] against class labels: -mean_n log softmax(logits_n)[y_n] (PyTorch's
    /// <c>F.cross_entropy</c>); a label outside 0..K-1 is refused naming it.</summary>
    public static Tensor CrossEntropy(Tensor logits, int[] labels)
    {
        Check.Rank("CrossEntropy", "logits", logits, 2);
        int k = logits.Dim(1);
        if (labels.Length != logits.Dim(0))
            throw new TensorShapeException($"CrossEntropy: {labels.Length} labels for logits of shape {Shapes.Format(logits.Shape)}");
        var onehot = new float[labels.Length * k];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= k) throw new ArgumentException($"CrossEntropy: label {labels[i]} (sample {i}) is outside 0..{k - 1}");
            onehot[i * k + labels[i]] = 1f;
        }
        using var target = Tensor.FromArray(onehot, [labels.Length, k], logits.Device);
        using var logp = logits.LogSoftmax();
        using var picked = logp.Mul(target);
        using var sum = picked.Sum();
        return sum.Mul(-1f / labels.Length);
    }

    /// <summary>
    /// The original GAN's saturating generator loss, mean(log(1 - D(G(z)))) with D = sigmoid(logits), to be
    /// minimised: log(1 - s(x)) = -softplus(x). Its gradient vanishes when the discriminator rejects the fakes
    /// confidently (large negative logits): the saturation problem the non-saturating loss
    /// <c>BceWithLogits(logits, 1)</c> = -mean(log D(G(z))) avoids.
    /// </summary>
    public static Tensor SaturatingGeneratorLoss(Tensor fakeLogits) => fakeLogits.Softplus().Neg().Mean();

    // ------------------------------------------------------------------ Wasserstein and hinge

    /// <summary>WGAN critic loss, mean(D(fake)) - mean(D(real)): minimising it widens the critic's gap.</summary>
    public static Tensor WassersteinCritic(Tensor realScores, Tensor fakeScores) =>
        fakeScores.Mean().Sub(realScores.Mean());

    /// <summary>WGAN generator loss, -mean(D(fake)).</summary>
    public static Tensor WassersteinGenerator(Tensor fakeScores) => fakeScores.Mean().Neg();

    /// <summary>Hinge discriminator loss: mean(relu(1 - D(real))) + mean(relu(1 + D(fake))).</summary>
    public static Tensor HingeDiscriminator(Tensor realScores, Tensor fakeScores) =>
        realScores.Neg().Add(1f).Relu().Mean().Add(fakeScores.Add(1f).Relu().Mean());

    /// <summary>Hinge generator loss, -mean(D(fake)) (the same as the Wasserstein generator loss).</summary>
    public static Tensor HingeGenerator(Tensor fakeScores) => fakeScores.Mean().Neg();

    // ------------------------------------------------------------------ VAE

    /// <summary>
    /// KL(N(mu, diag(exp(logVar))) || N(0, I)) for a diagonal Gaussian encoder, summed over the code
    /// dimensions and averaged over the batch (axis 0): -0.5 * sum(1 + logVar - mu^2 - exp(logVar)).
    /// Closed form (Kingma and Welling 2014, appendix B); zero when mu = 0 and logVar = 0 (up to float
    /// rounding: the cpu device's vectorised exp gives exp(0) one ulp above 1).
    /// </summary>
    public static Tensor GaussianKl(Tensor mu, Tensor logVar)
    {
        CheckSameShape("GaussianKl", mu, logVar);
        if (mu.Rank < 2) throw new TensorShapeException($"GaussianKl: mu must be [batch, ...], got {Shapes.Format(mu.Shape)}");
        var perElement = logVar.Add(1f).Sub(mu.Square()).Sub(logVar.Exp());
        return perElement.Sum().Mul(-0.5f / mu.Dim(0));
    }

    // ------------------------------------------------------------------ gradient penalties

    /// <summary>
    /// WGAN-GP's penalty (Gulrajani et al. 2017): lambda * mean_n (||dD(x^)/dx^||_2 - 1)^2 at random points
    /// x^ = real + e (fake - real) on the lines between paired real and fake samples, e ~ U(0, 1) per sample
    /// (drawn from <paramref name="rng"/>). The inner gradient is taken with createGraph so the penalty's own
    /// gradient reaches the critic's weights (a gradient of a gradient). <paramref name="fake"/> is detached:
    /// the penalty trains the critic only.
    /// </summary>
    public static Tensor GradientPenalty(Func<Tensor, Tensor> critic, Tensor real, Tensor fake, Rng rng, float lambda = 10f)
    {
        CheckSameShape("GradientPenalty", real, fake);
        CheckBatched("GradientPenalty", real);
        var eShape = new int[real.Rank];
        Array.Fill(eShape, 1);
        eShape[0] = real.Dim(0);
        Tensor interpolated;
        using (Autograd.NoGrad())
        {
            using var e = rng.Uniform(real.Device, eShape);
            using var fakeData = fake.Detach();
            using var realData = real.Detach();
            using var delta = fakeData.Sub(realData);
            using var step = delta.Mul(e);
            interpolated = realData.Add(step); // made by an op: the enclosing TensorScope frees it
        }
        return PenaltyAt(critic, interpolated, lambda, r1: false);
    }

    /// <summary>
    /// R1 (Mescheder et al. 2018): (gamma / 2) * mean_n ||dD(x)/dx||^2 at the real samples, pushing the
    /// critic's gradient to zero on the data. Needs no interpolation and no target norm.
    /// </summary>
    public static Tensor R1(Func<Tensor, Tensor> critic, Tensor real, float gamma = 10f)
    {
        CheckBatched("R1", real);
        Tensor x;
        using (Autograd.NoGrad())
        {
            using var realData = real.Detach();
            x = realData.Mul(1f); // a copy made by an op (so the enclosing TensorScope frees it), outside every graph
        }
        return PenaltyAt(critic, x, gamma / 2f, r1: true);
    }

    /// <summary>
    /// The penalty at the points <paramref name="points"/> (a constant to autograd). Call it inside a
    /// <see cref="TensorScope"/>, as every loss: the scope frees the points, the input gradient and the graph.
    /// </summary>
    static Tensor PenaltyAt(Func<Tensor, Tensor> critic, Tensor points, float weight, bool r1)
    {
        var x = PenaltyInput(points);
        var scores = critic(x);
        // d(sum of scores)/dx gives every sample's own input gradient: sample n's score depends only on x_n
        // (true for critics without batch statistics: WGAN-GP's critic has no batch norm for this reason).
        var dx = Autograd.Grad([scores.Sum()], [x], createGraph: true)[0];
        var perSample = r1
            ? dx.Square().Sum(Enumerable.Range(1, dx.Rank - 1).ToArray())
            : dx.PerSampleL2Norm().Sub(1f).Square();
        return perSample.Mean().Mul(weight);
    }

    /// <summary>
    /// The points as a tensor the tape can differentiate with respect to, whose own gradient goes nowhere.
    /// A plain leaf with RequiresGrad would do for <see cref="Autograd.Grad"/>, but the penalty's later
    /// <c>Backward()</c> would then also fill that leaf's <c>.Grad</c>, a tensor no scope frees (GPU memory
    /// lost until the garbage collector runs). So the leaf feeds a recorded identity whose backward rule
    /// returns no gradient: <c>Grad</c> is taken with respect to the identity's output, and backward stops there.
    /// </summary>
    static Tensor PenaltyInput(Tensor points)
    {
        points.RequiresGrad = true;
        return Autograd.Record("PenaltyInput", points.Detach(), [points], (g, n) => [null]);
    }

    static void CheckBatched(string op, Tensor x)
    {
        if (x.Rank < 2)
            throw new TensorShapeException($"{op}: the samples must be [batch, ...] with at least one feature axis, got {Shapes.Format(x.Shape)}");
    }

    static void CheckSameShape(string op, Tensor a, Tensor b)
    {
        if (!a.Shape.SequenceEqual(b.Shape))
            throw new TensorShapeException($"{op}: the two inputs must have the same shape, got {Shapes.Format(a.Shape)} and {Shapes.Format(b.Shape)}");
        if (a.Device != b.Device)
            throw new ArgumentException($"{op}: inputs are on different devices ({a.Device.Name} and {b.Device.Name})");
    }
}
