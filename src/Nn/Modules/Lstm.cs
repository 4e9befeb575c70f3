namespace NativeGan.Nn;

/// <summary>
/// A multi-layer LSTM (PyTorch's <c>nn.LSTM</c>, its parameter names, shapes and init): each layer and direction runs
/// <code>
/// a = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      [N, 4H], gates in the order i, f, g, o
/// c_t = σ(a_f) c_{t-1} + σ(a_i) tanh(a_g)            h_t = σ(a_o) tanh(c_t)
/// </code>
/// over the sequence; a reverse direction (<c>bidirectional</c>) runs from the last step to the first and its
/// h is joined to the forward one's (features [H | H_reverse]); a layer's output is the next layer's input, with
/// dropout between layers in training. Per step: two GEMMs (<see cref="Ops.Linear"/>) and the fused cell
/// (<see cref="Ops.LstmCell"/>); backpropagation through time is the tape's.
/// <para>Parameters, per layer k and direction suffix ("" or "_reverse"): <c>weight_ih_l{k}</c> [4H, in],
/// <c>weight_hh_l{k}</c> [4H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [4H]; in is the input size for layer 0,
/// H or 2H after. Every one is drawn from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch.</para>
/// <para>Call it inside a <see cref="TensorScope"/> (a training step): the per-step intermediates are op results,
/// which the scope frees. The input x_t of each step is a view of the input (<see cref="Ops.Unbind"/>): when the input itself
/// requires grad its gradient costs one full-size tensor per step.</para>
/// </summary>
public sealed class Lstm : Module
{
    readonly Tensor[] weightIh, weightHh;
    readonly Tensor?[] biasIh, biasHh;
    readonly Rng rng;

    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; }
    public bool BatchFirst { get; }
    public float DropoutP { get; }
    public bool Bidirectional { get; }

    /// <summary>1, or 2 when bidirectional.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    public Lstm(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, float dropout = 0f,
        bool bidirectional = false, Device? device = null, Rng? rng = null)
    {
        if (inputSize < 1 || hiddenSize < 1 || numLayers < 1)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize),
                $"Lstm: inputSize, hiddenSize and numLayers must be at least 1, got {inputSize}, {hiddenSize}, {numLayers}");
        if (!(dropout >= 0f && dropout <= 1f))
            throw new ArgumentOutOfRangeException(nameof(dropout), $"Lstm: dropout must lie in [0, 1], got {dropout}");
        var d = device ?? Device.Cpu;
        (InputSize, HiddenSize, NumLayers, BatchFirst, DropoutP, Bidirectional) = (inputSize, hiddenSize, numLayers, batchFirst, dropout, bidirectional);
        this.rng = rng ?? Init.DefaultRng;
        int count = numLayers * Directions;
        weightIh = new Tensor[count];
        weightHh = new Tensor[count];
        biasIh = new Tensor?[count];
        biasHh = new Tensor?[count];
        float bound = 1f / MathF.Sqrt(hiddenSize);
        for (int layer = 0; layer < numLayers; layer++)
            for (int dir = 0; dir < Directions; dir++)
            {
                int k = layer * Directions + dir, inputs = layer == 0 ? inputSize : hiddenSize * Directions;
                string suffix = $"_l{layer}{(dir == 1 ? "_reverse" : "")}";
                weightIh[k] = RegisterParameter("weight_ih" + suffix, Tensor.Empty(d, 4 * hiddenSize, inputs));
                weightHh[k] = RegisterParameter("weight_hh" + suffix, Tensor.Empty(d, 4 * hiddenSize, hiddenSize));
                if (bias)
                {
                    biasIh[k] = RegisterParameter("bias_ih" + suffix, Tensor.Empty(d, 4 * hiddenSize));
                    biasHh[k] = RegisterParameter("bias_hh" + suffix, Tensor.Empty(d, 4 * hiddenSize));
                }
            }
        foreach (var p in Parameters()) Init.Uniform(p, -bound, bound, rng);
    }

    /// <summary>The output sequence [T, N, D·H] ([N, T, D·H] batch-first) of x [T, N, in] ([N, T, in]), from zero states.</summary>
    public override Tensor Forward(Tensor x) => Forward(x, null, null).Output;

    /// <summary>
    /// The output sequence and the final states hN, cN [layers·D, N, H] (PyTorch's order: layer by layer, the
    /// forward direction first), from the initial states h0, c0 of that shape (zeros when null).
    /// </summary>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor x, Tensor? h0, Tensor? c0)
    {
        if (x.Rank != 3 || x.Dim(2) != InputSize)
            throw new TensorShapeException($"Lstm: x must be {(BatchFirst ? "[N, T, " : "[T, N, ")}{InputSize}], got shape {Shapes.Format(x.Shape)}");
        int steps = BatchFirst ? x.Dim(1) : x.Dim(0), n = BatchFirst ? x.Dim(0) : x.Dim(1), hidden = HiddenSize;
        if (steps == 0 || n == 0) throw new TensorShapeException($"Lstm: an empty sequence or batch, shape {Shapes.Format(x.Shape)}");
        foreach (var (s, name) in new[] { (h0, "h0"), (c0, "c0") })
            if (s is not null && !Shapes.Equal(s.Shape, [NumLayers * Directions, n, hidden]))
                throw new TensorShapeException($"Lstm: {name} must be [{NumLayers * Directions}, {n}, {hidden}], got shape {Shapes.Format(s.Shape)}");

        // Every op result, per-step intermediates included, goes to the caller's TensorScope, as for any module.
        using var zeros = Tensor.Zeros(x.Device, n, hidden); // the graph keeps its own handles on what it saves
        var timeMajor = BatchFirst ? x.Permute(1, 0, 2) : x;
        var inputs = timeMajor.Unbind();
        var h0s = h0?.Unbind();
        var c0s = c0?.Unbind();
        var finalH = new Tensor[NumLayers * Directions];
        var finalC = new Tensor[NumLayers * Directions];
        for (int layer = 0; layer < NumLayers; layer++)
        {
            if (layer > 0 && Training && DropoutP > 0f)
                inputs = inputs.Select(Drop).ToArray();
            var outputs = new Tensor[Directions][];
            for (int dir = 0; dir < Directions; dir++)
            {
                int k = layer * Directions + dir;
                var h = h0s?[k] ?? zeros;
                var c = c0s?[k] ?? zeros;
                var state = Ops.ChannelConcat(h, c);
                outputs[dir] = new Tensor[steps];
                for (int s = 0; s < steps; s++)
                {
                    int t = dir == 0 ? s : steps - 1 - s;
                    var gates = inputs[t].Linear(weightIh[k], biasIh[k]).Add(h.Linear(weightHh[k], biasHh[k]));
                    state = gates.LstmCell(state);
                    h = state.ChannelSlice(0, hidden);
                    outputs[dir][t] = h;
                }
                finalH[k] = h;
                finalC[k] = state.ChannelSlice(hidden, hidden);
            }
            inputs = Directions == 1 ? outputs[0] : Enumerable.Range(0, steps).Select(t => Ops.ChannelConcat(outputs[0][t], outputs[1][t])).ToArray();
        }
        var output = Ops.Stack(inputs);
        if (BatchFirst) output = output.Permute(1, 0, 2);
        return (output, (Ops.Stack(finalH), Ops.Stack(finalC)));
    }

    /// <summary>Dropout between layers, PyTorch's: zero with probability p, survivors scaled by 1 / (1 - p).</summary>
    Tensor Drop(Tensor x)
    {
        if (DropoutP == 1f) return x.Mul(0f);
        using var mask = rng.BernoulliMask(x.Device, x.Shape, 1f - DropoutP, 1f / (1f - DropoutP));
        return x.Mul(mask);
    }
}
