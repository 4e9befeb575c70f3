namespace NativeGan.Nn;

/// <summary>
/// Adam as <c>torch.optim.Adam</c>: d = g + weightDecay * w (L2 style); m = beta1 * m + (1 - beta1) * d;
/// v = beta2 * v + (1 - beta2) * d^2; w -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps), with
/// t the parameter's step number and eps added after the square root. beta1 may be 0: the WGAN-GP paper's
/// Algorithm 1 uses betas (0, 0.9) (its public code uses (0.5, 0.9)); ProGAN uses (0, 0.99). The defaults
/// here are PyTorch's (0.9, 0.999). One fused kernel a parameter (<see cref="OptimizerUpdates.Adam"/>), and on a GPU
/// one launch for up to 16 parameters (<see cref="OptimizerUpdates.AdamMany"/>).
/// </summary>
public class Adam : Optimizer
{
    public Adam(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float eps = 1e-8f, float weightDecay = 0f)
        : this(parameters, learningRate, beta1, beta2, eps, weightDecay, decoupled: false) { }

    protected Adam(IEnumerable<Tensor> parameters, float learningRate, float beta1, float beta2, float eps, float weightDecay, bool decoupled)
        : base(parameters, learningRate)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        Decoupled = decoupled;
        ValidateSettings();
    }

    protected override void ValidateSettings()
    {
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), $"{Kind}: beta1 must be in [0, 1), got {Beta1}");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta2), $"{Kind}: beta2 must be in [0, 1), got {Beta2}");
        if (!(Eps >= 0 && Eps < float.PositiveInfinity)) throw new ArgumentOutOfRangeException(nameof(Eps), $"{Kind}: eps must be >= 0, got {Eps}");
        if (!(WeightDecay >= 0 && WeightDecay < float.PositiveInfinity)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), $"{Kind}: weight decay must be >= 0, got {WeightDecay}");
    }

    public float Beta1 { get; private set; }
    public float Beta2 { get; private set; }
    public float Eps { get; private set; }
    public float WeightDecay { get; private set; }

    /// <summary>True for AdamW: weight decay applied to the weight directly, not through the gradient.</summary>
    public bool Decoupled { get; }

    protected override void Update(Tensor parameter, Tensor grad, ParameterState state)
    {
        var args = AdamArgs.Create(LearningRate, Beta1, Beta2, Eps, WeightDecay, Decoupled, state.Step, ClipValue);
        OptimizerUpdates.Adam(parameter, grad, state.Buffer("exp_avg", parameter), state.Buffer("exp_avg_sq", parameter), args);
    }

    /// <summary>
    /// The parameters that share a step number (all of them, in a training loop) as one
    /// <see cref="OptimizerUpdates.AdamMany"/>: on a GPU one launch for each 16 parameter tensors instead of one each;
    /// the same arithmetic on every element, so the same results.
    /// </summary>
    protected override void UpdateAll(IReadOnlyList<ParameterUpdate> updates)
    {
        foreach (var sameStep in updates.GroupBy(u => u.State.Step))
        {
            var group = sameStep.ToList();
            var args = AdamArgs.Create(LearningRate, Beta1, Beta2, Eps, WeightDecay, Decoupled, sameStep.Key, ClipValue);
            OptimizerUpdates.AdamMany(group.Select(u => u.Parameter).ToList(), group.Select(u => u.Grad).ToList(),
                group.Select(u => u.State.Buffer("exp_avg", u.Parameter)).ToList(),
                group.Select(u => u.State.Buffer("exp_avg_sq", u.Parameter)).ToList(), args);
        }
    }

    protected override IReadOnlyList<string> BufferNames => ["exp_avg", "exp_avg_sq"];

    protected override IEnumerable<(string Name, float Value)> Hyperparameters() =>
        [("beta1", Beta1), ("beta2", Beta2), ("eps", Eps), ("weight_decay", WeightDecay)];

    protected override bool SetHyperparameter(string name, float value)
    {
        switch (name)
        {
            case "beta1": Beta1 = value; break;
            case "beta2": Beta2 = value; break;
            case "eps": Eps = value; break;
            case "weight_decay": WeightDecay = value; break;
            default: return false;
        }
        return true;
    }
}

/// <summary>
/// AdamW as <c>torch.optim.AdamW</c> (Loshchilov and Hutter): Adam whose weight decay is decoupled,
/// w *= 1 - lr * weightDecay before the Adam step, instead of entering the moments through the gradient.
/// PyTorch's default weight decay for AdamW is 0.01.
/// </summary>
public sealed class AdamW(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
    float eps = 1e-8f, float weightDecay = 0.01f)
    : Adam(parameters, learningRate, beta1, beta2, eps, weightDecay, decoupled: true);
