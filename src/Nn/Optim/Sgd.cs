namespace NativeGan.Nn;

/// <summary>
/// Stochastic gradient descent with optional momentum, as <c>torch.optim.SGD</c>:
/// d = g + weightDecay * w; with momentum, b = momentum * b + (1 - dampening) * d (b = d on a
/// parameter's first step), then d = nesterov ? d + momentum * b : b; finally w -= lr * d.
/// One fused kernel a parameter (<see cref="OptimizerUpdates.Sgd"/>).
/// </summary>
public sealed class Sgd : Optimizer
{
    public Sgd(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, float dampening = 0f,
        bool nesterov = false, float weightDecay = 0f)
        : base(parameters, learningRate)
    {
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
        ValidateSettings();
    }

    public float Momentum { get; private set; }
    public float Dampening { get; private set; }
    public bool Nesterov { get; private set; }
    public float WeightDecay { get; private set; }

    protected override void ValidateSettings()
    {
        if (!(Momentum >= 0 && Momentum < float.PositiveInfinity)) throw new ArgumentOutOfRangeException(nameof(Momentum), $"Sgd: momentum must be >= 0, got {Momentum}");
        if (!(WeightDecay >= 0 && WeightDecay < float.PositiveInfinity)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), $"Sgd: weight decay must be >= 0, got {WeightDecay}");
        if (!(Dampening >= 0 && Dampening <= 1)) throw new ArgumentOutOfRangeException(nameof(Dampening), $"Sgd: dampening must be in [0, 1], got {Dampening}");
        if (Nesterov && (Momentum <= 0 || Dampening != 0))
            throw new ArgumentException($"Sgd: Nesterov momentum needs momentum > 0 and dampening 0 (got momentum {Momentum}, dampening {Dampening})");
    }

    protected override void Update(Tensor parameter, Tensor grad, ParameterState state)
    {
        var args = new SgdArgs
        {
            LearningRate = LearningRate,
            Momentum = Momentum,
            GradScale = state.Step == 1 ? 1f : 1f - Dampening,
            WeightDecay = WeightDecay,
            Nesterov = Nesterov ? 1 : 0,
            ClipEnabled = ClipValue is null ? 0 : 1,
            Clip = ClipValue ?? 0f,
        };
        var buffer = Momentum != 0f ? state.Buffer("momentum_buffer", parameter) : null;
        OptimizerUpdates.Sgd(parameter, grad, buffer, args);
    }

    protected override IReadOnlyList<string> BufferNames => Momentum != 0f ? ["momentum_buffer"] : [];

    protected override IEnumerable<(string Name, float Value)> Hyperparameters() =>
        [("momentum", Momentum), ("dampening", Dampening), ("nesterov", Nesterov ? 1f : 0f), ("weight_decay", WeightDecay)];

    protected override bool SetHyperparameter(string name, float value)
    {
        switch (name)
        {
            case "momentum": Momentum = value; break;
            case "dampening": Dampening = value; break;
            case "nesterov": Nesterov = value != 0f; break;
            case "weight_decay": WeightDecay = value; break;
            default: return false;
        }
        return true;
    }
}
