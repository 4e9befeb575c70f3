namespace NativeGan.Nn;

/// <summary>
/// What <see cref="Lstm"/> and <see cref="Gru"/> share (PyTorch's <c>nn.RNNBase</c>): the parameters per layer and
/// direction with PyTorch's names, shapes and init, the checks of the input and the initial states, and the walk over
/// layers, directions and steps (the reverse direction from the last step to the first, its h joined to the forward
/// one's as [H | H_reverse], dropout between layers in training, batch-first). A layer kind gives only its cell.
/// <para>Parameters, per layer k and direction suffix ("" or "_reverse"): <c>weight_ih_l{k}</c> [G·H, in],
/// <c>weight_hh_l{k}</c> [G·H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [G·H] (G gates: 4 for the LSTM, 3 for
/// the GRU); in is the input size for layer 0, H or 2H after. Every one is drawn from U(-1/sqrt(H), 1/sqrt(H)) with the
/// constructor's <c>rng</c>; the dropout masks come from its <c>dropoutRng</c> (a trainer's saved stream), else the same.</para>
/// </summary>
public abstract class RecurrentModule : Module
{
    readonly string name;
    readonly Rng rng;
    // A trainer saves its training stream's offset, not the init stream's: dropout masks drawn from the training stream
    // make a resumed run draw the masks an uninterrupted one would.
    readonly Rng dropoutRng;

    /// <summary>Per layer and direction, index layer · Directions + direction.</summary>
    protected readonly Tensor[] WeightIh, WeightHh;
    protected readonly Tensor?[] BiasIh, BiasHh;

    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; }
    public bool BatchFirst { get; }
    public float DropoutP { get; }
    public bool Bidirectional { get; }

    /// <summary>1, or 2 when bidirectional.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    protected RecurrentModule(string name, int gates, int inputSize, int hiddenSize, int numLayers, bool bias, bool batchFirst, float dropout,
        bool bidirectional, Device? device, Rng? rng, Rng? dropoutRng)
    {
        this.name = name;
        if (inputSize < 1 || hiddenSize < 1 || numLayers < 1)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize),
                $"{name}: inputSize, hiddenSize and numLayers must be at least 1, got {inputSize}, {hiddenSize}, {numLayers}");
        if (!(dropout >= 0f && dropout <= 1f))
            throw new ArgumentOutOfRangeException(nameof(dropout), $"{name}: dropout must lie in [0, 1], got {dropout}");
        var d = device ?? Device.Cpu;
        (InputSize, HiddenSize, NumLayers, BatchFirst, DropoutP, Bidirectional) = (inputSize, hiddenSize, numLayers, batchFirst, dropout, bidirectional);
        this.rng = rng ?? Init.DefaultRng;
        this.dropoutRng = dropoutRng ?? this.rng;
        int count = numLayers * Directions;
        WeightIh = new Tensor[count];
        WeightHh = new Tensor[count];
        BiasIh = new Tensor?[count];
        BiasHh = new Tensor?[count];
        for (int layer = 0; layer < numLayers; layer++)
            for (int dir = 0; dir < Directions; dir++)
            {
                int k = layer * Directions + dir, inputs = layer == 0 ? inputSize : hiddenSize * Directions;
                string suffix = $"_l{layer}{(dir == 1 ? "_reverse" : "")}";
                WeightIh[k] = RegisterParameter("weight_ih" + suffix, Tensor.Empty(d, gates * hiddenSize, inputs));
                WeightHh[k] = RegisterParameter("weight_hh" + suffix, Tensor.Empty(d, gates * hiddenSize, hiddenSize));
                if (bias)
                {
                    BiasIh[k] = RegisterParameter("bias_ih" + suffix, Tensor.Empty(d, gates * hiddenSize));
                    BiasHh[k] = RegisterParameter("bias_hh" + suffix, Tensor.Empty(d, gates * hiddenSize));
                }
            }
        float bound = 1f / MathF.Sqrt(hiddenSize);
        foreach (var p in Parameters()) Init.Uniform(p, -bound, bound, rng);
    }

    /// <summary>
    /// Runs every layer, direction and step. <paramref name="initial"/>: the initial state's parts named by
    /// <paramref name="names"/> (h0, and c0 for the LSTM), each [layers·D, N, H] or null for zeros; a direction's state
    /// starts as their concatenation [N, parts·H] (the part itself when there is one). <paramref name="step"/>(k, x_t,
    /// h, state) gives the next state, <paramref name="hOf"/> its h, the step's output. Returns the output sequence and
    /// each layer and direction's final h and final state.
    /// </summary>
    protected (Tensor Output, Tensor[] FinalH, Tensor[] FinalState) Run(Tensor x, Tensor?[] initial, Func<int, Tensor, Tensor, Tensor, Tensor> step, Func<Tensor, Tensor> hOf,
        string[]? names = null)
    {
        if (x.Rank != 3 || x.Dim(2) != InputSize)
            throw new TensorShapeException($"{name}: x must be {(BatchFirst ? "[N, T, " : "[T, N, ")}{InputSize}], got shape {Shapes.Format(x.Shape)}");
        int steps = BatchFirst ? x.Dim(1) : x.Dim(0), n = BatchFirst ? x.Dim(0) : x.Dim(1), hidden = HiddenSize;
        if (steps == 0 || n == 0) throw new TensorShapeException($"{name}: an empty sequence or batch, shape {Shapes.Format(x.Shape)}");
        for (int i = 0; i < initial.Length; i++)
            if (initial[i] is { } s && !Shapes.Equal(s.Shape, [NumLayers * Directions, n, hidden]))
                throw new TensorShapeException($"{name}: {names?[i] ?? "h0"} must be [{NumLayers * Directions}, {n}, {hidden}], got shape {Shapes.Format(s.Shape)}");

        // Every op result, per-step intermediates included, goes to the caller's TensorScope, as for any module.
        using var zeros = Tensor.Zeros(x.Device, n, hidden); // the graph keeps its own handles on what it saves
        var inputs = (BatchFirst ? x.Permute(1, 0, 2) : x).Unbind();
        var parts = initial.Select(s => s?.Unbind()).ToArray();
        var finalH = new Tensor[NumLayers * Directions];
        var finalState = new Tensor[NumLayers * Directions];
        for (int layer = 0; layer < NumLayers; layer++)
        {
            if (layer > 0 && Training && DropoutP > 0f)
                inputs = inputs.Select(Drop).ToArray();
            var outputs = new Tensor[Directions][];
            for (int dir = 0; dir < Directions; dir++)
            {
                int k = layer * Directions + dir;
                var starts = parts.Select(p => p?[k] ?? zeros).ToArray();
                var h = starts[0];
                var state = starts.Length == 1 ? h : Ops.ChannelConcat(starts);
                outputs[dir] = new Tensor[steps];
                for (int s = 0; s < steps; s++)
                {
                    int t = dir == 0 ? s : steps - 1 - s;
                    state = step(k, inputs[t], h, state);
                    h = hOf(state);
                    outputs[dir][t] = h;
                }
                (finalH[k], finalState[k]) = (h, state);
            }
            inputs = Directions == 1 ? outputs[0] : Enumerable.Range(0, steps).Select(t => Ops.ChannelConcat(outputs[0][t], outputs[1][t])).ToArray();
        }
        var output = Ops.Stack(inputs);
        if (BatchFirst) output = output.Permute(1, 0, 2);
        return (output, finalH, finalState);
    }

    /// <summary>Dropout between layers, PyTorch's: zero with probability p, survivors scaled by 1 / (1 - p).</summary>
    Tensor Drop(Tensor x)
    {
        if (DropoutP == 1f) return x.Mul(0f);
        using var mask = dropoutRng.BernoulliMask(x.Device, x.Shape, 1f - DropoutP, 1f / (1f - DropoutP));
        return x.Mul(mask);
    }
}
