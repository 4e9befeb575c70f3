using NativeGan.Nn;

namespace NativeGan.Gan.Models;

// Layers the GAN family adds to a discriminator or generator, each composed from recorded autograd ops
// (so their gradients, and the gradients of those gradients that WGAN-GP needs, come from the tape).

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

/// <summary>
/// Minibatch discrimination (Salimans et al. 2016, section 3.2): lets the discriminator compare each sample
/// with the rest of the batch. For features x [N, A] and a learned tensor T [A, B * C]:
/// M = x T seen as [N, B, C] (B kernels of C dimensions); c_b(i, j) = exp(-||M_i,b - M_j,b||_L1);
/// o(x_i)_b = sum over j != i of c_b(i, j); the output is [x, o(x)], shape [N, A + B].
/// <para>The paper's formula sums over every j including i; its code (improved-gan's MinibatchLayer) leaves
/// i out by adding 1e6 to the diagonal distance. We follow the code by default (<paramref name="includeSelf"/>
/// false); the self term is exactly exp(0) = 1 per kernel, so the two differ by a constant 1.</para>
/// <para>T starts N(0, 0.05²), as in the authors' code. Cost: an [N, N, B, C] intermediate (N = 100, B = 100,
/// C = 5: 5M floats).</para>
/// </summary>
public sealed class MinibatchDiscrimination : Module
{
    public Tensor T { get; }
    public int InFeatures { get; }
    public int Kernels { get; }
    public int KernelDim { get; }
    public bool IncludeSelf { get; }

    public MinibatchDiscrimination(int inFeatures, int kernels = 100, int kernelDim = 5, bool includeSelf = false,
        Device? device = null, Rng? rng = null)
    {
        (InFeatures, Kernels, KernelDim, IncludeSelf) = (inFeatures, kernels, kernelDim, includeSelf);
        T = RegisterParameter("T", Tensor.Empty(device ?? Device.Cpu, inFeatures, kernels * kernelDim));
        Init.Normal(T, 0f, 0.05f, rng);
    }

    /// <summary>[N, A] to [N, A + B]; or feature maps [N, C, H, W] (A = C H W, flattened for the distances) to
    /// [N, C + B, H, W], each o_b appended as a constant map (how a convolutional critic takes it before its last layer).</summary>
    public override Tensor Forward(Tensor x)
    {
        int features = x.Rank >= 2 ? x.Length / Math.Max(1, x.Dim(0)) : -1;
        if ((x.Rank != 2 && x.Rank != 4) || features != InFeatures)
            throw new TensorShapeException($"MinibatchDiscrimination: expected [N, {InFeatures}] or [N, C, H, W] with C H W = {InFeatures}, got {Shapes.Format(x.Shape)}");
        if (x.Rank == 2) return Apply(x, T, Kernels, KernelDim, IncludeSelf);
        using var flat = x.Flatten();
        using var o = Closeness(flat, T, Kernels, KernelDim, IncludeSelf);
        using var o4 = Ops.Reshape(o, x.Dim(0), Kernels, 1, 1);
        using var maps = o4.Expand([x.Dim(0), Kernels, x.Dim(2), x.Dim(3)]);
        return Ops.ChannelConcat(x, maps);
    }

    /// <summary>The layer as a function of its input x [N, A] and tensor t [A, kernels * kernelDim]: [x, o(x)].</summary>
    public static Tensor Apply(Tensor x, Tensor t, int kernels, int kernelDim, bool includeSelf = false)
    {
        using var o = Closeness(x, t, kernels, kernelDim, includeSelf);
        return Ops.ChannelConcat(x, o);
    }

    /// <summary>o(x) [N, B]: for each sample and kernel, the summed closeness exp(-L1) to the other samples (<see cref="Ops.MinibatchCloseness"/>).</summary>
    public static Tensor Closeness(Tensor x, Tensor t, int kernels, int kernelDim, bool includeSelf = false)
    {
        using var m = x.MatMul(t);                                          // [N, B*C]
        using var rows = Ops.Reshape(m, x.Dim(0), kernels, kernelDim);      // [N, B, C]
        return rows.MinibatchCloseness(includeSelf);
    }
}

/// <summary>
/// Maxout (Goodfellow et al. 2013): <paramref name="pieces"/> linear maps of the input, and the elementwise
/// maximum of them: y_j = max_k (W_k x + b_k)_j. One Linear layer of out * pieces units computes every piece
/// (unit k * out + j is piece k of output j); <see cref="Ops.MaxOver"/> takes the maximum over the pieces in one
/// reduction (its backward routes each gradient to the winning piece).
/// The PacGAN discriminator uses 3 maxout layers of 200 units with 5 pieces.
/// </summary>
public sealed class Maxout : Module
{
    public Linear Linear { get; }
    public int OutFeatures { get; }
    public int Pieces { get; }

    public Maxout(int inFeatures, int outFeatures, int pieces, Device? device = null, Rng? rng = null)
    {
        if (pieces < 1) throw new ArgumentOutOfRangeException(nameof(pieces), $"Maxout: pieces must be >= 1, got {pieces}");
        (OutFeatures, Pieces) = (outFeatures, pieces);
        Linear = RegisterModule("linear", new Linear(inFeatures, outFeatures * pieces, device: device, rng: rng));
    }

    public override Tensor Forward(Tensor x) => Apply(x, Linear.Weight, Linear.Bias, OutFeatures, Pieces);

    /// <summary>Maxout as a function: weight [out * pieces, in], bias [out * pieces] (unit k * out + j is piece k of output j).</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, int outFeatures, int pieces)
    {
        using var all = x.Linear(weight, bias);                        // [N, pieces * out]
        using var byPiece = Ops.Reshape(all, x.Dim(0), pieces, outFeatures);
        return byPiece.MaxOver(1);                                     // [N, out]
    }
}

/// <summary>
/// Batch normalisation of [N, F] features (PyTorch's BatchNorm1d without the [N, C, L] form): the features
/// seen as [N, F, 1, 1] through <see cref="NativeGan.Nn.BatchNorm2d"/>, so the same fused kernel, running statistics and
/// state names (under "norm.") serve.
/// </summary>
public sealed class BatchNorm1d : Module
{
    public NativeGan.Nn.BatchNorm2d Norm { get; }

    public BatchNorm1d(int features, float momentum = 0.1f, float eps = 1e-5f, Device? device = null) =>
        Norm = RegisterModule("norm", new NativeGan.Nn.BatchNorm2d(features, momentum, eps, device));

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 2) throw new TensorShapeException($"BatchNorm1d: expected [N, F], got {Shapes.Format(x.Shape)}");
        using var x4 = Ops.Reshape(x, x.Dim(0), x.Dim(1), 1, 1);
        using var y4 = Norm.Forward(x4);
        return Ops.Reshape(y4, x.Dim(0), x.Dim(1));
    }
}

/// <summary>[N, F] to [N, ...shape] (recorded), the step from an MLP generator's last layer to images.</summary>
public sealed class Unflatten(params int[] shape) : Module
{
    public int[] SampleShape { get; } = shape;

    public override Tensor Forward(Tensor x) => Ops.Reshape(x, [x.Dim(0), .. SampleShape]);
}
