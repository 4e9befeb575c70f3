using NativeGan.Nn;

namespace NativeGan.Gan.Autoencoders;

/// <summary>
/// A deterministic encoder h = f(x) = a(W body(x) + b): a body (flatten and hidden layers, or strided
/// convolutions), the code layer <see cref="Code"/> (a Linear to k units) and the code activation a.
/// With an empty MLP body and a sigmoid activation this is Rifai et al.'s one-layer contractive encoder,
/// whose Jacobian has a closed form (<see cref="AutoencoderLosses.ContractiveClosedForm"/>).
/// </summary>
public sealed class DeterministicEncoder : Module
{
    public DeterministicEncoder(Module body, Linear code, CodeActivation activation)
    {
        Body = RegisterModule("body", body);
        Code = RegisterModule("code", code);
        Activation = activation;
    }

    public Module Body { get; }

    /// <summary>The code layer: weight [k, features], bias [k].</summary>
    public Linear Code { get; }

    public CodeActivation Activation { get; }

    public override Tensor Forward(Tensor x)
    {
        using var features = Body.Forward(x);
        var pre = Code.Forward(features);
        if (Activation == CodeActivation.Linear) return pre;
        using (pre)
            return Activation switch
            {
                CodeActivation.Sigmoid => pre.Sigmoid(),
                CodeActivation.Relu => pre.Relu(),
                _ => pre.Tanh(),
            };
    }
}

/// <summary>
/// The VAE's Gaussian encoder q(h | x) = N(mu(x), diag(exp(logVar(x)))): a body and two linear heads.
/// <see cref="Forward"/> returns the mean (the deterministic code used for reconstructions and scatters).
/// </summary>
public sealed class GaussianEncoder : Module
{
    public GaussianEncoder(Module body, Linear mu, Linear logVar)
    {
        Body = RegisterModule("body", body);
        Mu = RegisterModule("mu", mu);
        LogVar = RegisterModule("log_var", logVar);
    }

    public Module Body { get; }
    public Linear Mu { get; }
    public Linear LogVar { get; }

    /// <summary>The mean and log-variance of q(h | x), each [N, k].</summary>
    public (Tensor Mu, Tensor LogVar) Encode(Tensor x)
    {
        using var features = Body.Forward(x);
        return (Mu.Forward(features), LogVar.Forward(features));
    }

    public override Tensor Forward(Tensor x)
    {
        var (mu, logVar) = Encode(x);
        logVar.Dispose();
        return mu;
    }
}

/// <summary>
/// The encoder and decoder networks of every kind, built from <see cref="AutoencoderOptions"/>:
/// <list type="bullet">
/// <item>mlp: x [N, ...] flattened to [N, D], Linear + ReLU per hidden width, Linear to the code; the decoder
/// mirrors it (Linear + ReLU per hidden width in reverse, Linear to D) and unflattens to the sample shape.</item>
/// <item>conv (images c x h x w, h and w divisible by 4): Conv2d(c, w, 4, 2, 1) + LeakyReLU(0.2),
/// Conv2d(w, 2w, 4, 2, 1) + LeakyReLU(0.2), flatten, Linear to the code; the decoder is Linear + ReLU to
/// [2w, h/4, w/4], ConvTranspose2d(2w, w, 4, 2, 1) + ReLU, ConvTranspose2d(w, c, 4, 2, 1).</item>
/// </list>
/// The decoder's last layer gives logits (BCE, Bernoulli VAE: no activation), values in [-1, 1] (MSE with
/// output tanh, Gaussian VAE: a Tanh) or unbounded values (MSE with output linear).
/// </summary>
public static class Networks
{
    /// <summary>The part of the encoder before the code layer, and the number of features it outputs.</summary>
    public static (Module Body, int Features) EncoderBody(AutoencoderOptions o, Device device, Rng rng)
    {
        if (o.Arch == AutoencoderOptions.Architecture.Conv)
        {
            int c = o.DataShape[0], h = o.DataShape[1], w = o.DataShape[2], cw = o.ConvWidth;
            var body = new Sequential(
                new Nn.Conv2d(c, cw, 4, 2, 1, device: device, rng: rng), new LeakyReLU(0.2f),
                new Nn.Conv2d(cw, 2 * cw, 4, 2, 1, device: device, rng: rng), new LeakyReLU(0.2f),
                new Nn.Flatten());
            return (body, 2 * cw * (h / 4) * (w / 4));
        }
        var layers = new List<Module> { new Nn.Flatten() };
        int width = o.SampleSize;
        foreach (var hidden in o.Hidden)
        {
            layers.Add(new Linear(width, hidden, device: device, rng: rng));
            layers.Add(new ReLU());
            width = hidden;
        }
        return (new Sequential([.. layers]), width);
    }

    /// <summary>The deterministic encoder x -> h [N, k].</summary>
    public static DeterministicEncoder Encoder(AutoencoderOptions o, Device device, Rng rng)
    {
        var (body, features) = EncoderBody(o, device, rng);
        return new DeterministicEncoder(body, new Linear(features, o.Code, device: device, rng: rng), o.CodeActivation);
    }

    /// <summary>The VAE's encoder x -> (mu, logVar), each [N, k].</summary>
    public static GaussianEncoder VariationalEncoder(AutoencoderOptions o, Device device, Rng rng)
    {
        var (body, features) = EncoderBody(o, device, rng);
        return new GaussianEncoder(body, new Linear(features, o.Code, device: device, rng: rng),
            new Linear(features, o.Code, device: device, rng: rng));
    }

    /// <summary>True when the decoder ends in a Tanh (its output is a value in [-1, 1]).</summary>
    public static bool DecoderEndsInTanh(AutoencoderOptions o) => o.Kind == AutoencoderKind.Vae
        ? o.Decoder == DecoderDistribution.Gaussian
        : o.Recon == ReconstructionLoss.Mse && o.Output == AutoencoderOptions.OutputKind.Tanh;

    /// <summary>The decoder h [N, k] -> [N, ...shape] (logits or values, see the class summary).</summary>
    public static Sequential Decoder(AutoencoderOptions o, Device device, Rng rng)
    {
        var layers = new List<Module>();
        if (o.Arch == AutoencoderOptions.Architecture.Conv)
        {
            int c = o.DataShape[0], h = o.DataShape[1], w = o.DataShape[2], cw = o.ConvWidth;
            layers.Add(new Linear(o.Code, 2 * cw * (h / 4) * (w / 4), device: device, rng: rng));
            layers.Add(new ReLU());
            layers.Add(new Reshape(2 * cw, h / 4, w / 4));
            layers.Add(new Nn.ConvTranspose2d(2 * cw, cw, 4, 2, 1, device: device, rng: rng));
            layers.Add(new ReLU());
            layers.Add(new Nn.ConvTranspose2d(cw, c, 4, 2, 1, device: device, rng: rng));
        }
        else
        {
            int width = o.Code;
            foreach (var hidden in o.Hidden.Reverse())
            {
                layers.Add(new Linear(width, hidden, device: device, rng: rng));
                layers.Add(new ReLU());
                width = hidden;
            }
            layers.Add(new Linear(width, o.SampleSize, device: device, rng: rng));
            layers.Add(new Reshape(o.DataShape));
        }
        if (DecoderEndsInTanh(o)) layers.Add(new Nn.Tanh());
        return new Sequential([.. layers]);
    }
}
