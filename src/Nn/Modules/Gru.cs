namespace NativeGan.Nn;

/// <summary>
/// A multi-layer GRU (PyTorch's <c>nn.GRU</c>, its parameter names, shapes and init), built as <see cref="Lstm"/> is:
/// <code>
/// xg = x_t W_ih^T + b_ih    hg = h_{t-1} W_hh^T + b_hh      [N, 3H] each, gates in the order r, z, n
/// r = σ(xg_r + hg_r)   z = σ(xg_z + hg_z)   n = tanh(xg_n + r hg_n)   h_t = (1 - z) n + z h_{t-1}
/// </code>
/// per layer and direction; the reverse direction, the joined features [H | H_reverse], dropout between layers in
/// training and batch-first as in <see cref="Lstm"/>. Per step two GEMMs and the fused cell (<see cref="Ops.GruCell"/>).
/// <para>Parameters, per layer k and direction suffix ("" or "_reverse"): <c>weight_ih_l{k}</c> [3H, in],
/// <c>weight_hh_l{k}</c> [3H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [3H]; all U(-1/sqrt(H), 1/sqrt(H)).
/// Call it inside a <see cref="TensorScope"/>.</para>
/// </summary>
public sealed class Gru : Module
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

    public Gru(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, float dropout = 0f,
        bool bidirectional = false, Device? device = null, Rng? rng = null)
    {
        if (inputSize < 1 || hiddenSize < 1 || numLayers < 1)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize),
                $"Gru: inputSize, hiddenSize and numLayers must be at least 1, got {inputSize}, {hiddenSize}, {numLayers}");
        if (!(dropout >= 0f && dropout <= 1f))
            throw new ArgumentOutOfRangeException(nameof(dropout), $"Gru: dropout must lie in [0, 1], got {dropout}");
        var d = device ?? Device.Cpu;
        (InputSize, HiddenSize, NumLayers, BatchFirst, DropoutP, Bidirectional) = (inputSize, hiddenSize, numLayers, batchFirst, dropout, bidirectional);
        this.rng = rng ?? Init.DefaultRng;
        int count = numLayers * Directions;
        weightIh = new Tensor[count];
        weightHh = new Tensor[count];
        biasIh = new Tensor?[count];
        biasHh = new Tensor?[count];
        for (int layer = 0; layer < numLayers; layer++)
            for (int dir = 0; dir < Directions; dir++)
            {
                int k = layer * Directions + dir, inputs = layer == 0 ? inputSize : hiddenSize * Directions;
                string suffix = $"_l{layer}{(dir == 1 ? "_reverse" : "")}";
                weightIh[k] = RegisterParameter("weight_ih" + suffix, Tensor.Empty(d, 3 * hiddenSize, inputs));
                weightHh[k] = RegisterParameter("weight_hh" + suffix, Tensor.Empty(d, 3 * hiddenSize, hiddenSize));
                if (bias)
                {
                    biasIh[k] = RegisterParameter("bias_ih" + suffix, Tensor.Empty(d, 3 * hiddenSize));
                    biasHh[k] = RegisterParameter("bias_hh" + suffix, Tensor.Empty(d, 3 * hiddenSize));
                }
            }
        float bound = 1f / MathF.Sqrt(hiddenSize);
        foreach (var p in Parameters()) Init.Uniform(p, -bound, bound, rng);
    }

    /// <summary>The output sequence [T, N, D·H] ([N, T, D·H] batch-first) of x [T, N, in] ([N, T, in]), from zero states.</summary>
    public override Tensor Forward(Tensor x) => Forward(x, null).Output;

    /// <summary>The output sequence and the final state hN [layers·D, N, H], from h0 of that shape (zeros when null).</summary>
    public (Tensor Output, Tensor H) Forward(Tensor x, Tensor? h0)
    {
        if (x.Rank != 3 || x.Dim(2) != InputSize)
            throw new TensorShapeException($"Gru: x must be {(BatchFirst ? "[N, T, " : "[T, N, ")}{InputSize}], got shape {Shapes.Format(x.Shape)}");
        int steps = BatchFirst ? x.Dim(1) : x.Dim(0), n = BatchFirst ? x.Dim(0) : x.Dim(1), hidden = HiddenSize;
        if (steps == 0 || n == 0) throw new TensorShapeException($"Gru: an empty sequence or batch, shape {Shapes.Format(x.Shape)}");
        if (h0 is not null && !Shapes.Equal(h0.Shape, [NumLayers * Directions, n, hidden]))
            throw new TensorShapeException($"Gru: h0 must be [{NumLayers * Directions}, {n}, {hidden}], got shape {Shapes.Format(h0.Shape)}");

        using var zeros = Tensor.Zeros(x.Device, n, hidden);
        var inputs = (BatchFirst ? x.Permute(1, 0, 2) : x).Unbind();
        var h0s = h0?.Unbind();
        var final = new Tensor[NumLayers * Directions];
        for (int layer = 0; layer < NumLayers; layer++)
        {
            if (layer > 0 && Training && DropoutP > 0f)
                inputs = inputs.Select(Drop).ToArray();
            var outputs = new Tensor[Directions][];
            for (int dir = 0; dir < Directions; dir++)
            {
                int k = layer * Directions + dir;
                var h = h0s?[k] ?? zeros;
                outputs[dir] = new Tensor[steps];
                for (int s = 0; s < steps; s++)
                {
                    int t = dir == 0 ? s : steps - 1 - s;
                    h = Ops.GruCell(inputs[t].Linear(weightIh[k], biasIh[k]), h.Linear(weightHh[k], biasHh[k]), h);
                    outputs[dir][t] = h;
                }
                final[k] = h;
            }
            inputs = Directions == 1 ? outputs[0] : Enumerable.Range(0, steps).Select(t => Ops.ChannelConcat(outputs[0][t], outputs[1][t])).ToArray();
        }
        var output = Ops.Stack(inputs);
        if (BatchFirst) output = output.Permute(1, 0, 2);
        return (output, Ops.Stack(final));
    }

    Tensor Drop(Tensor x)
    {
        if (DropoutP == 1f) return x.Mul(0f);
        using var mask = rng.BernoulliMask(x.Device, x.Shape, 1f - DropoutP, 1f / (1f - DropoutP));
        return x.Mul(mask);
    }
}
