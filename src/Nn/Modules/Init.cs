namespace NativeGan.Nn;

/// <summary>
/// Weight initialisation from the engine's counter-based RNG (<see cref="Rng"/>), so a seed fixes every
/// weight of a run on any device. The formulas are PyTorch's (<c>torch.nn.init</c>):
/// <list type="bullet">
/// <item>fan_in = size(1) * receptive field, fan_out = size(0) * receptive field, the receptive field being
/// the product of the dimensions after the second (1 for a Linear weight [out, in]). Like PyTorch this reads a
/// ConvTranspose2d weight [in, out, k, k] the same way, so its fan_in is out * k * k.</item>
/// <item><see cref="KaimingUniform"/>: U(-b, b), b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a²)) (leaky
/// ReLU of slope a). PyTorch's default for Linear and Conv weights uses a = sqrt(5), which gives b = 1 / sqrt(fan_in).</item>
/// <item><see cref="XavierUniform"/>: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).</item>
/// <item>The default bias: U(-1 / sqrt(fan_in), 1 / sqrt(fan_in)) with the weight's fan_in.</item>
/// <item><see cref="Normal"/>: N(mean, std²), DCGAN's N(0, 0.02²) for convolution weights.</item>
/// </list>
/// </summary>
public static class Init
{
    static Rng global = new(0);

    /// <summary>The generator layers use when given none (like torch's default generator); see <see cref="ManualSeed"/>.</summary>
    public static Rng DefaultRng => global;

    /// <summary>Restarts <see cref="DefaultRng"/> at <paramref name="seed"/> (torch.manual_seed).</summary>
    public static void ManualSeed(ulong seed) => global = new Rng(seed);

    /// <summary>(fan_in, fan_out) of a weight of rank 2 or more, PyTorch's convention (see the class summary).</summary>
    public static (int FanIn, int FanOut) Fans(Tensor weight)
    {
        if (weight.Rank < 2)
            throw new TensorShapeException($"Init.Fans: needs a weight of rank >= 2, got shape {Shapes.Format(weight.Shape)}");
        int receptive = 1;
        for (int i = 2; i < weight.Rank; i++) receptive *= weight.Dim(i);
        return (weight.Dim(1) * receptive, weight.Dim(0) * receptive);
    }

    /// <summary>Fills t with U(low, high).</summary>
    public static void Uniform(Tensor t, float low, float high, Rng? rng = null) => (rng ?? global).FillUniform(t, low, high);

    /// <summary>Fills t with N(mean, std²).</summary>
    public static void Normal(Tensor t, float mean, float std, Rng? rng = null) => (rng ?? global).FillNormal(t, mean, std);

    /// <summary>He (Kaiming) uniform, fan_in mode: U(-b, b), b = sqrt(2 / (1 + a²)) * sqrt(3 / fan_in).</summary>
    public static void KaimingUniform(Tensor t, float a = 0f, Rng? rng = null)
    {
        var (fanIn, _) = Fans(t);
        double bound = Math.Sqrt(2.0 / (1 + (double)a * a)) * Math.Sqrt(3.0 / fanIn);
        Uniform(t, (float)-bound, (float)bound, rng);
    }

    /// <summary>Glorot (Xavier) uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).</summary>
    public static void XavierUniform(Tensor t, float gain = 1f, Rng? rng = null)
    {
        var (fanIn, fanOut) = Fans(t);
        double bound = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        Uniform(t, (float)-bound, (float)bound, rng);
    }

    /// <summary>
    /// PyTorch's reset_parameters for Linear and Conv layers: weight kaiming_uniform(a = sqrt(5)), i.e.
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), then the bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Weight first, then bias.
    /// </summary>
    public static void DefaultLinearOrConv(Tensor weight, Tensor? bias, Rng? rng = null)
    {
        KaimingUniform(weight, MathF.Sqrt(5f), rng);
        if (bias is null) return;
        var (fanIn, _) = Fans(weight);
        float bound = fanIn > 0 ? 1f / MathF.Sqrt(fanIn) : 0f;
        Uniform(bias, -bound, bound, rng);
    }
}
