using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// Maxout (Goodfellow et al. 2013): <c>pieces</c> linear maps of the input, and the elementwise
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
