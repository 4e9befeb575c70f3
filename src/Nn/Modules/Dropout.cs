namespace NativeGan.Nn;

/// <summary>
/// Dropout (Srivastava et al. 2014, PyTorch's <c>nn.Dropout</c>): in training, each element is zeroed with
/// probability p and the survivors are scaled by 1 / (1 - p), so the expected output is the input; in
/// evaluation it is the identity. The mask is drawn from the constructor's <see cref="Rng"/>, the engine's counter-based
/// generator: the same seed gives the same masks, on every device, and each call advances the generator by
/// the number of elements (so consecutive calls draw fresh masks).
/// <code>
/// y = x * mask,  mask[i] = 1 / (1 - p) with probability 1 - p, else 0
/// </code>
/// The mask is a constant to autograd, so dy/dx = mask.
/// </summary>
public sealed class Dropout : Module
{
    readonly Rng rng;

    public float P { get; }

    public Dropout(float p, Rng rng)
    {
        if (!(p >= 0f && p <= 1f))
            throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: p must lie in [0, 1], got {p}");
        P = p;
        this.rng = rng ?? throw new ArgumentNullException(nameof(rng));
    }

    public override Tensor Forward(Tensor x)
    {
        // An identity that is still a recorded op (a reshape to the same shape): a new handle the caller
        // owns, which the enclosing TensorScope frees, with the gradient passing through.
        if (!Training || P == 0f) return Ops.Reshape(x, x.Shape);
        if (P == 1f) return x.Mul(0f);
        using var mask = rng.BernoulliMask(x.Device, x.Shape, 1f - P, 1f / (1f - P));
        return x.Mul(mask);
    }
}
