namespace NativeGan.Nn;

/// <summary>
/// RMSProp as <c>torch.optim.RMSprop</c>: d = g + weightDecay * w; s = alpha * s + (1 - alpha) * d^2;
/// centered: a = alpha * a + (1 - alpha) * d and the denominator uses s - a^2; step = d / (sqrt(.) + eps)
/// (eps outside the square root); with momentum, b = momentum * b + step and the step is b; w -= lr * step.
/// The original WGAN trains with RMSProp, lr 5e-5 and weight clipping 0.01 (<see cref="Optimizer.ClipAfterStep"/>).
/// One fused kernel a parameter (<see cref="OptimizerUpdates.RmsProp"/>).
/// </summary>
public sealed class RmsProp : Optimizer
{
    public RmsProp(IEnumerable<Tensor> parameters, float learningRate = 0.01f, float alpha = 0.99f, float eps = 1e-8f,
        float weightDecay = 0f, float momentum = 0f, bool centered = false)
        : base(parameters, learningRate)
    {
        Alpha = alpha;
        Eps = eps;
        WeightDecay = weightDecay;
        Momentum = momentum;
        Centered = centered;
        ValidateSettings();
    }

    protected override void ValidateSettings()
    {
        if (!(Alpha >= 0 && Alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(Alpha), $"RmsProp: alpha must be in [0, 1], got {Alpha}");
        if (!(Eps >= 0 && Eps < float.PositiveInfinity)) throw new ArgumentOutOfRangeException(nameof(Eps), $"RmsProp: eps must be >= 0, got {Eps}");
        if (!(WeightDecay >= 0 && WeightDecay < float.PositiveInfinity)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), $"RmsProp: weight decay must be >= 0, got {WeightDecay}");
        if (!(Momentum >= 0 && Momentum < float.PositiveInfinity)) throw new ArgumentOutOfRangeException(nameof(Momentum), $"RmsProp: momentum must be >= 0, got {Momentum}");
    }

    public float Alpha { get; private set; }
    public float Eps { get; private set; }
    public float WeightDecay { get; private set; }
    public float Momentum { get; private set; }
    public bool Centered { get; private set; }

    protected override void Update(Tensor parameter, Tensor grad, ParameterState state)
    {
        var args = new RmsPropArgs
        {
            LearningRate = LearningRate,
            Alpha = Alpha,
            Eps = Eps,
            WeightDecay = WeightDecay,
            Momentum = Momentum,
            Centered = Centered ? 1 : 0,
            ClipEnabled = ClipValue is null ? 0 : 1,
            Clip = ClipValue ?? 0f,
        };
        OptimizerUpdates.RmsProp(parameter, grad,
            state.Buffer("square_avg", parameter),
            Centered ? state.Buffer("grad_avg", parameter) : null,
            Momentum != 0f ? state.Buffer("momentum_buffer", parameter) : null,
            args);
    }

    protected override IReadOnlyList<string> BufferNames =>
        [.. new[] { "square_avg" }, .. Centered ? ["grad_avg"] : Array.Empty<string>(), .. Momentum != 0f ? ["momentum_buffer"] : Array.Empty<string>()];

    protected override IEnumerable<(string Name, float Value)> Hyperparameters() =>
        [("alpha", Alpha), ("eps", Eps), ("weight_decay", WeightDecay), ("momentum", Momentum), ("centered", Centered ? 1f : 0f)];

    protected override bool SetHyperparameter(string name, float value)
    {
        switch (name)
        {
            case "alpha": Alpha = value; break;
            case "eps": Eps = value; break;
            case "weight_decay": WeightDecay = value; break;
            case "momentum": Momentum = value; break;
            case "centered": Centered = value != 0f; break;
            default: return false;
        }
        return true;
    }
}
