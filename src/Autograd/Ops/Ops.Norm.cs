namespace NativeGan;

// Norms used by GAN critics and their losses.
public static partial class Ops
{
    /// <summary>
    /// The L2 norm of each sample: sqrt(sum over every axis but the first of x² + eps), shape [N] (one fused
    /// reduction launch). The epsilon sits inside the square root: at a zero gradient (a critic that is flat
    /// around x) the norm is sqrt(eps), not 0, so the derivative x / norm is 0, not 0/0 = NaN (the pitfall of
    /// torch.norm in a gradient penalty: one flat sample turns every gradient into NaN).
    /// Backward, in ops so it differentiates again: dx = x * (g / y), with g / y broadcast over each sample.
    /// </summary>
    public static Tensor PerSampleL2Norm(this Tensor x, float eps = 1e-12f)
    {
        if (x.Rank < 2) throw new TensorShapeException($"PerSampleL2Norm: needs [N, ...], got shape {Shapes.Format(x.Shape)}");
        var perSample = new int[x.Rank];
        Array.Fill(perSample, 1);
        perSample[0] = x.Dim(0);
        return Autograd.Record("PerSampleL2Norm", NativeGan.PerSampleL2Norm.Forward(x, eps), [x],
            (g, n) => [n.Saved[0].Mul(Reshape(g.Div(n.Saved[1]), perSample))],
            save: [x], saveOutput: true);
    }

    /// <summary>
    /// Instance normalisation of x [N, C, H, W]: each (sample, channel) plane to zero mean and unit variance
    /// (biased variance, eps inside the square root), then gamma [C] * y + beta [C] when given.
    /// <para>When a graph is recorded it is built from Mean, Sub, Mul and Pow (<see cref="Standardize"/>), so its
    /// gradients of every order come from those ops' rules (a critic penalised with WGAN-GP needs the second);
    /// when nothing is recorded (inference, or no input requires grad) it is the fused kernel of src/Kernels.</para>
    /// </summary>
    public static Tensor InstanceNorm2d(this Tensor x, Tensor? gamma = null, Tensor? beta = null, float eps = 1e-5f)
    {
        Check.Rank("InstanceNorm2d", "x", x, 4);
        if (!Recorded(x, gamma, beta)) return Fused(NativeGan.InstanceNorm2d.Forward(x, gamma, beta, eps));
        return ScaleShift(Standardize(x, [2, 3], eps), gamma, beta, [1, x.Dim(1), 1, 1]);
    }

    /// <summary>
    /// Layer normalisation over every axis but the batch (PyTorch's LayerNorm(x.shape[1:])), gamma and beta of
    /// shape x.shape[1:] or null. The normalisation a WGAN-GP critic may use: it mixes no samples.
    /// Composed like <see cref="InstanceNorm2d"/> when recorded, fused otherwise.
    /// </summary>
    public static Tensor LayerNorm(this Tensor x, Tensor? gamma = null, Tensor? beta = null, float eps = 1e-5f)
    {
        if (x.Rank < 2) throw new TensorShapeException($"LayerNorm: needs [N, ...], got shape {Shapes.Format(x.Shape)}");
        if (!Recorded(x, gamma, beta)) return Fused(NativeGan.LayerNorm.Forward(x, gamma, beta, eps));
        return ScaleShift(Standardize(x, [.. Enumerable.Range(1, x.Rank - 1)], eps), gamma, beta, x.Shape[1..]);
    }

    /// <summary>
    /// Batch normalisation in training mode with the batch's statistics (mean and biased variance per channel of
    /// x [N, C, H, W]), gamma, beta [C] or null. Mixes samples, so never in a critic with a per-sample gradient
    /// penalty (the pitfall: each sample's input gradient then depends on the rest of the batch, which the penalty
    /// on one sample's gradient norm assumes it does not; WGAN-GP's authors use layer norm there). When <paramref name="runningMean"/> and <paramref name="runningVar"/> are given, the same
    /// statistics pass moves them towards the batch's (unbiased variance for the running one), not recorded.
    /// <para>One node with the fused kernels of src/Kernels both ways: the forward's statistics pass and
    /// normalisation, and the textbook backward
    /// dx = invStd * (gy - mean(gy) - x̂ * mean(gy * x̂)) with gy = gamma * g, dgamma = sum(g * x̂), dbeta = sum(g).
    /// When the backward is itself recorded (createGraph) the same formula is built from recorded ops, with
    /// the statistics recomputed from x, so gradients of every order follow from those ops' rules.</para>
    /// </summary>
    public static Tensor BatchNorm2d(this Tensor x, Tensor? gamma = null, Tensor? beta = null, float eps = 1e-5f,
        Tensor? runningMean = null, Tensor? runningVar = null, float momentum = 0.1f)
    {
        Check.Rank("BatchNorm2d", "x", x, 4);
        var (y, mean, invStd) = NativeGan.BatchNorm2d.Forward(x, gamma, beta, runningMean, runningVar, training: true, momentum, eps);
        if (!Recorded(x, gamma, beta)) return Fused((y, mean, invStd));
        Tensor[] inputs = [x, .. gamma is null ? Array.Empty<Tensor>() : [gamma], .. beta is null ? Array.Empty<Tensor>() : [beta]];
        // What the rule needs besides its saved tensors, as values: it keeps no other handle on its inputs.
        int channels = x.Dim(1);
        bool hasGamma = gamma is not null, hasBeta = beta is not null;
        var result = Autograd.Record("BatchNorm2d", y, inputs, (g, n) =>
        {
            var (xs, ms, ss) = (n.Saved[0], n.Saved[1], n.Saved[2]);
            var gs = hasGamma ? n.Saved[3] : null;
            if (Autograd.IsGradEnabled) // createGraph: every tensor below is recorded and tracked by the engine's scope
            {
                var (rdx, rdgamma, rdbeta) = BatchNormBackwardRecorded(g, xs, gs, hasBeta, eps);
                return [rdx, .. hasGamma ? [rdgamma] : Array.Empty<Tensor?>(), .. hasBeta ? [rdbeta] : Array.Empty<Tensor?>()];
            }
            var (dx, dgamma, dbeta) = NativeGan.BatchNorm2d.Backward(g, xs, gs, ms, ss);
            if (!hasBeta) dbeta?.Dispose();
            else dbeta ??= Reshape(g.Sum([0, 2, 3]), channels); // a shift without a scale: the kernel sums only for affine layers
            Tensor?[] grads = [dx, .. hasGamma ? [dgamma] : Array.Empty<Tensor?>(), .. hasBeta ? [dbeta] : Array.Empty<Tensor?>()];
            foreach (var t in grads) if (t is not null) TensorScope.Track(t); // the engine's scope frees the rule's handles
            return grads;
        }, save: [x, mean, invStd, .. gamma is null ? Array.Empty<Tensor>() : [gamma]]);
        mean.Dispose();
        invStd.Dispose();
        return result;
    }

    /// <summary>
    /// Batch normalisation with given statistics (evaluation mode; ONNX's BatchNormalization):
    /// y = (x - mean) / sqrt(var + eps) * gamma + beta per channel of x [N, C, H, W]. One fused kernel forward (the
    /// evaluation path of <see cref="NativeGan.BatchNorm2d"/>). The statistics are constants, so x, gamma and beta get
    /// gradients and mean and var none: dx = g * gamma * invStd, dgamma = sum(g * x̂), dbeta = sum(g), from recorded ops
    /// (differentiable again).
    /// </summary>
    public static Tensor BatchNorm2dEval(this Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor variance, float eps = 1e-5f)
    {
        Check.Rank("BatchNorm2dEval", "x", x, 4);
        var (y, used, invStd) = NativeGan.BatchNorm2d.Forward(x, gamma, beta, mean, variance, training: false, eps: eps);
        used.Dispose();
        int[] perChannel = [1, x.Dim(1), 1, 1];
        var result = Autograd.Record("BatchNorm2dEval", y, [x, gamma, beta], (g, n) =>
        {
            var (xs, gs, ms, ss) = (n.Saved[0], n.Saved[1], n.Saved[2], n.Saved[3]);
            using var scope = new TensorScope(ownsNodes: false); // frees the intermediates; the nodes belong to the graph
            var inv = Reshape(ss, perChannel);
            Tensor? dx = null, dgamma = null, dbeta = null;
            if (n.NeedsGrad(0)) dx = scope.Keep(g.Mul(Reshape(gs, perChannel).Mul(inv)));
            if (n.NeedsGrad(1)) dgamma = scope.Keep(Reshape(g.Mul(xs.Sub(Reshape(ms, perChannel)).Mul(inv)).Sum([0, 2, 3]), perChannel[1]));
            if (n.NeedsGrad(2)) dbeta = scope.Keep(Reshape(g.Sum([0, 2, 3]), perChannel[1]));
            return [dx, dgamma, dbeta];
        }, save: [x, gamma, mean, invStd]);
        invStd.Dispose();
        return result;
    }

    /// <summary>The batch-norm backward of <see cref="BatchNorm2d"/> from recorded ops (differentiable again).</summary>
    static (Tensor Dx, Tensor? Dgamma, Tensor? Dbeta) BatchNormBackwardRecorded(Tensor g, Tensor x, Tensor? gamma, bool wantBeta, float eps)
    {
        int[] axes = [0, 2, 3], perChannel = [1, x.Dim(1), 1, 1];
        using var scope = new TensorScope(ownsNodes: false); // frees the intermediates; the nodes belong to the graph being made
        var mean = x.Mean(axes, keepDims: true);
        var centred = x.Sub(mean);
        var invStd = centred.Square().Mean(axes, keepDims: true).Add(eps).Pow(-0.5f);
        var xhat = centred.Mul(invStd);
        var gy = gamma is null ? g : g.Mul(Reshape(gamma, perChannel));
        var inner = gy.Sub(gy.Mean(axes, keepDims: true)).Sub(xhat.Mul(gy.Mul(xhat).Mean(axes, keepDims: true)));
        var dx = scope.Keep(inner.Mul(invStd));
        var dgamma = gamma is null ? null : scope.Keep(Reshape(g.Mul(xhat).Sum(axes), x.Dim(1)));
        var dbeta = wantBeta ? scope.Keep(Reshape(g.Sum(axes), x.Dim(1))) : null;
        return (dx, dgamma, dbeta);
    }

    /// <summary>
    /// Adaptive instance normalisation (StyleGAN): instance-normalised content times a per-sample, per-channel
    /// style scale [N, C], plus a style bias [N, C]. Composed from InstanceNorm2d, Mul and Add.
    /// </summary>
    public static Tensor AdaIN(this Tensor content, Tensor styleScale, Tensor styleBias, float eps = 1e-5f)
    {
        Check.Rank("AdaIN", "content", content, 4);
        if (!Recorded(content, styleScale, styleBias)) return Fused(NativeGan.AdaIN.Forward(content, styleScale, styleBias, eps));
        int[] perPlane = [content.Dim(0), content.Dim(1), 1, 1];
        using var normalised = Standardize(content, [2, 3], eps);
        using var scale = Reshape(styleScale, perPlane);
        using var bias = Reshape(styleBias, perPlane);
        using var scaled = normalised.Mul(scale);
        return scaled.Add(bias);
    }

    /// <summary>(x - mean) / sqrt(var + eps) over <paramref name="axes"/>, from recorded ops (so differentiable to any order).</summary>
    public static Tensor Standardize(this Tensor x, int[] axes, float eps)
    {
        using var mean = x.Mean(axes, keepDims: true);
        using var centred = x.Sub(mean);
        using var squares = centred.Square();
        using var variance = squares.Mean(axes, keepDims: true);
        using var shifted = variance.Add(eps);
        using var invStd = shifted.Pow(-0.5f);
        return centred.Mul(invStd);
    }

    /// <summary>y * gamma + beta with gamma, beta viewed as <paramref name="shape"/> (each optional); disposes y when it returns a new tensor.</summary>
    static Tensor ScaleShift(Tensor y, Tensor? gamma, Tensor? beta, int[] shape)
    {
        if (gamma is not null)
        {
            using var unscaled = y;
            using var gammaView = Reshape(gamma, shape);
            y = unscaled.Mul(gammaView);
        }
        if (beta is not null)
        {
            using var unshifted = y;
            using var betaView = Reshape(beta, shape);
            y = unshifted.Add(betaView);
        }
        return y;
    }

    static bool Recorded(params Tensor?[] inputs) => Autograd.IsGradEnabled && inputs.Any(t => t?.RequiresGrad ?? false);

    /// <summary>The output of a fused normalisation kernel, its statistics dropped.</summary>
    static Tensor Fused((Tensor Y, Tensor Mean, Tensor InvStd) r)
    {
        r.Mean.Dispose();
        r.InvStd.Dispose();
        return TensorScope.Track(r.Y);
    }
}
