using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// Minibatch discrimination (Salimans et al. 2016, section 3.2): lets the discriminator compare each sample
/// with the rest of the batch. For features x [N, A] and a learned tensor T [A, B * C]:
/// M = x T seen as [N, B, C] (B kernels of C dimensions); c_b(i, j) = exp(-||M_i,b - M_j,b||_L1);
/// o(x_i)_b = sum over j != i of c_b(i, j); the output is [x, o(x)], shape [N, A + B].
/// <para>The paper's formula sums over every j including i; its code (improved-gan's MinibatchLayer) leaves
/// i out by adding 1e6 to the diagonal distance. We follow the code by default (<c>includeSelf</c>
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
