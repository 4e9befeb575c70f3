namespace NativeGan.Nn.Onnx;

/// <summary>One compiled node: the float values it reads at run time, the values it writes, and how.</summary>
/// <param name="Where">"FILE: node 'NAME' (OP)", for errors at run time.</param>
/// <param name="Inputs">The names of the float values passed to <paramref name="Compute"/>, in order.</param>
/// <param name="Outputs">The names of the values it returns, in order.</param>
/// <param name="Compute">The node's computation with the engine's recorded ops (so gradients pass).</param>
sealed record OnnxStep(string Where, string[] Inputs, string[] Outputs, Func<Tensor[], Tensor[]> Compute);

/// <summary>
/// Each supported ONNX operator translated to the engine's ops (src/Autograd), with its attributes checked once, at
/// load time. The translation follows the operator's definition in the ONNX specification (onnx/docs/Operators.md);
/// where the engine's op is narrower (one stride and one padding for both axes, no dilation or groups), any other
/// attribute value is refused with a message that says which, never approximated.
/// </summary>
static class OnnxOperators
{
    /// <summary>The operators this reader translates (the default ONNX domain).</summary>
    public static readonly IReadOnlyList<string> Supported =
    [
        "Add", "AveragePool", "BatchNormalization", "Concat", "Constant", "Conv", "Div", "Dropout", "Flatten", "Gemm",
        "GlobalAveragePool", "Identity", "LeakyRelu", "MatMul", "MaxPool", "Mul", "Pad", "Relu", "Reshape", "Sigmoid", "Split",
        "Sub", "Tanh", "Transpose",
    ];

    /// <summary>The step of <paramref name="node"/> (any operator but Constant, which the loader folds into constants).</summary>
    public static OnnxStep Compile(OnnxNode node)
    {
        var step = node.OpType switch
        {
            "Conv" => Conv(node),
            "BatchNormalization" => BatchNormalization(node),
            "Relu" => Unary(node, x => x.Relu()),
            "Sigmoid" => Unary(node, x => x.Sigmoid()),
            "Tanh" => Unary(node, x => x.Tanh()),
            "LeakyRelu" => LeakyRelu(node),
            "MaxPool" => MaxPool(node),
            "AveragePool" => AveragePool(node),
            "GlobalAveragePool" => Unary(node, x => GlobalAveragePool(node, x)),
            "Add" => Binary(node, (a, b) => a.Add(b)),
            "Sub" => Binary(node, (a, b) => a.Sub(b)),
            "Mul" => Binary(node, (a, b) => a.Mul(b)),
            "Div" => Binary(node, (a, b) => a.Div(b)),
            "Gemm" => Gemm(node),
            "MatMul" => MatMul(node),
            "Flatten" => Flatten(node),
            "Reshape" => Reshape(node),
            "Concat" => Concat(node),
            "Split" => Split(node),
            "Transpose" => Transpose(node),
            "Identity" => Unary(node, x => Ops.Reshape(x, x.Shape)),
            "Dropout" => Dropout(node),
            "Pad" => Pad(node),
            _ => throw node.Error($"operator {node.OpType} is not supported by this reader (supported: {string.Join(", ", Supported)})"),
        };
        node.RefuseUnread();
        return step;
    }

    // ================================================================ helpers

    static OnnxStep Step(OnnxNode node, string[] inputs, Func<Tensor[], Tensor> compute)
    {
        node.AtMostOutputs(1);
        if (node.Outputs.Count < 1 || node.Outputs[0].Length == 0) throw node.Error("has no output");
        return new(node.Where, inputs, [node.Outputs[0]], x => [compute(x)]);
    }

    static OnnxStep Unary(OnnxNode node, Func<Tensor, Tensor> f) => Step(node, [node.Input(0)], x => f(x[0]));

    static OnnxStep Binary(OnnxNode node, Func<Tensor, Tensor, Tensor> f)
    {
        // Before opset 7 these operators broadcast only when told, along a given axis: numpy's rules came after.
        if (node.Int("broadcast", 0) != 0 || node.Int("axis", long.MinValue) != long.MinValue)
            throw node.Error("the legacy 'broadcast'/'axis' attributes (opset < 7) are not supported; re-export with opset 7 or later");
        return Step(node, [node.Input(0), node.Input(1)], x => f(x[0], x[1]));
    }

    static int Axis(OnnxNode node, long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw node.Error($"axis {axis} is outside a tensor of rank {rank}");
        return (int)a;
    }

    static void RequireRank(OnnxNode node, Tensor x, int rank, string what = "input")
    {
        if (x.Rank != rank) throw node.Error($"expects a rank-{rank} {what}, got {Shapes.Format(x.Shape)}");
    }

    static void NoAutoPad(OnnxNode node)
    {
        var autoPad = node.Text("auto_pad") ?? "NOTSET";
        if (autoPad is not ("NOTSET" or "VALID" or ""))
            throw node.Error($"auto_pad {autoPad} is not supported (give explicit pads)");
    }

    static void OnlyOnes(OnnxNode node, string attribute)
    {
        if (node.Ints(attribute) is { } values && values.Any(v => v != 1))
            throw node.Error($"{attribute} [{string.Join(", ", values)}] are not supported (only 1)");
    }

    /// <summary>The one stride of a 2-D window (the engine's ops take one stride for both axes).</summary>
    static int Stride(OnnxNode node)
    {
        var strides = node.Ints("strides") ?? [1, 1];
        if (strides.Length != 2 || strides[0] != strides[1] || strides[0] < 1 || strides[0] > 1 << 20)
            throw node.Error($"strides [{string.Join(", ", strides)}] are not supported (two equal positive strides)");
        return (int)strides[0];
    }

    /// <summary>Pads [begin H, begin W, end H, end W] (all 0 when absent), checked to be small non-negative numbers.</summary>
    static long[] Pads(OnnxNode node)
    {
        var pads = node.Ints("pads") ?? [0, 0, 0, 0];
        if (pads.Length != 4 || pads.Any(p => p < 0 || p > 1 << 20))
            throw node.Error($"pads [{string.Join(", ", pads)}] are not 4 non-negative values (2-D: begin H, begin W, end H, end W)");
        return pads;
    }

    /// <summary>
    /// The one symmetric padding that gives the same result as ONNX's pads [bH, bW, eH, eW] on an input of
    /// <paramref name="h"/> x <paramref name="w"/>: the begin pads, when they agree across the axes, and each end pad is
    /// at most its begin pad with the same output size (then the last window ends inside the padding either way,
    /// which is zeros or never wins). CNTK writes ResNet's strided layers so ([3, 3, 2, 2] for a 7x7 stride-2 layer
    /// on 224, the same 112 outputs as padding 3).
    /// </summary>
    static int SymmetricPadding(OnnxNode node, long[] pads, int h, int w, int kernelH, int kernelW, int stride)
    {
        if (pads[0] == pads[2] && pads[1] == pads[3] && pads[0] == pads[1]) return (int)pads[0];
        static int Out(long size, long begin, long end, int k, int s) => (int)((size + begin + end - k) / s + 1);
        bool same = pads[0] == pads[1]
            && pads[2] <= pads[0] && pads[3] <= pads[1]
            && Out(h, pads[0], pads[2], kernelH, stride) == Out(h, pads[0], pads[0], kernelH, stride)
            && Out(w, pads[1], pads[3], kernelW, stride) == Out(w, pads[1], pads[1], kernelW, stride);
        if (!same)
            throw node.Error($"pads [{string.Join(", ", pads)}] on a {h}x{w} input are not supported: only pads equal to a symmetric padding's result (the begin pads equal, each end pad no larger with the same output size)");
        return (int)pads[0];
    }

    // ================================================================ operators

    static OnnxStep Conv(OnnxNode node)
    {
        NoAutoPad(node);
        OnlyOnes(node, "dilations");
        if (node.Int("group", 1) != 1) throw node.Error($"group {node.Int("group", 1)} is not supported (only 1)");
        int stride = Stride(node);
        var pads = Pads(node);
        var kernelShape = node.Ints("kernel_shape");
        var bias = node.OptionalInput(2);
        string[] inputs = bias is null ? [node.Input(0), node.Input(1)] : [node.Input(0), node.Input(1), bias];
        return Step(node, inputs, x =>
        {
            var (input, weight) = (x[0], x[1]);
            RequireRank(node, input, 4);
            RequireRank(node, weight, 4, "weight");
            if (kernelShape is not null && (kernelShape.Length != 2 || kernelShape[0] != weight.Dim(2) || kernelShape[1] != weight.Dim(3)))
                throw node.Error($"kernel_shape [{string.Join(", ", kernelShape)}] disagrees with the weight {Shapes.Format(weight.Shape)}");
            int padding = SymmetricPadding(node, pads, input.Dim(2), input.Dim(3), weight.Dim(2), weight.Dim(3), stride);
            return input.Conv2d(weight, bias is null ? null : x[2], stride, padding);
        });
    }

    static OnnxStep BatchNormalization(OnnxNode node)
    {
        float eps = node.Float("epsilon", 1e-5f);
        node.Float("momentum", 0.9f); // used in training only
        if (node.Int("spatial", 1) != 1) throw node.Error("spatial 0 (per-activation statistics, opset < 9) is not supported");
        if (node.Int("training_mode", 0) != 0) throw node.Error("training_mode 1 is not supported (inference only)");
        node.Int("is_test", 1); // opset < 7: inference either way here
        node.Ints("consumed_inputs"); // opset < 6 bookkeeping, no effect on the result
        if (!(eps > 0)) throw node.Error($"epsilon {eps} must be positive");
        return Step(node, [node.Input(0), node.Input(1), node.Input(2), node.Input(3), node.Input(4)], x =>
        {
            var input = x[0];
            if (input.Rank is not (2 or 4)) throw node.Error($"expects [N, C] or [N, C, H, W], got {Shapes.Format(input.Shape)}");
            foreach (var p in x[1..])
                if (p.Length != input.Dim(1)) throw node.Error($"a statistics or affine input of shape {Shapes.Format(p.Shape)} does not have {input.Dim(1)} channels");
            using var flatParams = new DisposableList(x[1..].Select(p => p.Rank == 1 ? null : Ops.Reshape(p, p.Length)));
            Tensor Param(int i) => flatParams[i - 1] ?? x[i];
            if (input.Rank == 4) return input.BatchNorm2dEval(Param(1), Param(2), Param(3), Param(4), eps);
            using var as4 = Ops.Reshape(input, input.Dim(0), input.Dim(1), 1, 1);
            using var y4 = as4.BatchNorm2dEval(Param(1), Param(2), Param(3), Param(4), eps);
            return Ops.Reshape(y4, input.Shape);
        });
    }

    static OnnxStep LeakyRelu(OnnxNode node)
    {
        float alpha = node.Float("alpha", 0.01f);
        return Unary(node, x => x.LeakyRelu(alpha));
    }

    static OnnxStep MaxPool(OnnxNode node)
    {
        NoAutoPad(node);
        OnlyOnes(node, "dilations");
        if (node.Int("ceil_mode", 0) != 0) throw node.Error("ceil_mode 1 is not supported (floor only)");
        if (node.Int("storage_order", 0) != 0) throw node.Error("storage_order 1 is not supported");
        int kernel = SquareKernel(node);
        int stride = Stride(node);
        var pads = Pads(node);
        return Step(node, [node.Input(0)], x =>
        {
            RequireRank(node, x[0], 4);
            int padding = SymmetricPadding(node, pads, x[0].Dim(2), x[0].Dim(3), kernel, kernel, stride);
            return x[0].MaxPool2d(kernel, stride, padding);
        });
    }

    static int SquareKernel(OnnxNode node)
    {
        var k = node.Ints("kernel_shape") ?? throw node.Error("has no kernel_shape");
        if (k.Length != 2 || k[0] != k[1] || k[0] < 1 || k[0] > 1 << 16)
            throw node.Error($"kernel_shape [{string.Join(", ", k)}] is not supported (a square 2-D window)");
        return (int)k[0];
    }

    static OnnxStep AveragePool(OnnxNode node)
    {
        NoAutoPad(node);
        OnlyOnes(node, "dilations");
        if (node.Int("ceil_mode", 0) != 0) throw node.Error("ceil_mode 1 is not supported (floor only)");
        node.Int("count_include_pad", 0); // no effect without padding, which is all this translation accepts
        int kernel = SquareKernel(node);
        int stride = Stride(node);
        var pads = Pads(node);
        if (pads.Any(p => p != 0)) throw node.Error($"pads [{string.Join(", ", pads)}] are not supported (average pooling without padding only)");
        return Step(node, [node.Input(0)], x =>
        {
            RequireRank(node, x[0], 4);
            return x[0].AvgPool2d(kernel, stride);
        });
    }

    static Tensor GlobalAveragePool(OnnxNode node, Tensor x)
    {
        RequireRank(node, x, 4);
        return x.Mean([2, 3], keepDims: true);
    }

    static OnnxStep Gemm(OnnxNode node)
    {
        float alpha = node.Float("alpha", 1f), beta = node.Float("beta", 1f);
        bool transA = node.Int("transA", 0) != 0, transB = node.Int("transB", 0) != 0;
        node.Int("broadcast", 1); // opset < 7: C broadcast when set; numpy broadcasting covers both
        var c = node.OptionalInput(2);
        string[] inputs = c is null ? [node.Input(0), node.Input(1)] : [node.Input(0), node.Input(1), c];
        return Step(node, inputs, x =>
        {
            RequireRank(node, x[0], 2, "A");
            RequireRank(node, x[1], 2, "B");
            var product = x[0].MatMul(x[1], transA, transB);
            if (alpha != 1f) { var scaled = product.Mul(alpha); product.Dispose(); product = scaled; }
            if (c is null || beta == 0f) return product;
            using var addend = beta == 1f ? Ops.Reshape(x[2], x[2].Shape) : x[2].Mul(beta);
            using (product) return product.Add(addend);
        });
    }

    static OnnxStep MatMul(OnnxNode node) => Step(node, [node.Input(0), node.Input(1)], x =>
    {
        if (x[0].Rank != 2 || x[1].Rank != 2)
            throw node.Error($"only 2-D operands are supported, got {Shapes.Format(x[0].Shape)} and {Shapes.Format(x[1].Shape)}");
        return x[0].MatMul(x[1]);
    });

    static OnnxStep Flatten(OnnxNode node)
    {
        long axis = node.Int("axis", 1);
        return Step(node, [node.Input(0)], x =>
        {
            int a = axis == x[0].Rank ? x[0].Rank : Axis(node, axis, x[0].Rank);
            int outer = 1;
            for (int i = 0; i < a; i++) outer *= x[0].Dim(i);
            return Ops.Reshape(x[0], outer, x[0].Length / Math.Max(1, outer));
        });
    }

    static OnnxStep Reshape(OnnxNode node)
    {
        if (node.Int("allowzero", 0) != 0) throw node.Error("allowzero 1 is not supported");
        var shape = node.ConstantIntegers(1);
        return Step(node, [node.Input(0)], x =>
        {
            var target = new int[shape.Length];
            for (int i = 0; i < shape.Length; i++)
            {
                long s = shape[i];
                if (s == 0 && i < x[0].Rank) target[i] = x[0].Dim(i); // 0 copies the input's dimension
                else if (s >= -1 && s <= int.MaxValue) target[i] = (int)s;
                else throw node.Error($"shape [{string.Join(", ", shape)}] has an invalid entry {s}");
            }
            return Ops.Reshape(x[0], target);
        });
    }

    static OnnxStep Concat(OnnxNode node)
    {
        long axis = node.Int("axis", long.MinValue);
        if (axis == long.MinValue) throw node.Error("has no axis");
        var inputs = Enumerable.Range(0, node.Inputs.Count).Select(node.Input).ToArray();
        return Step(node, inputs, x =>
        {
            if (Axis(node, axis, x[0].Rank) != 1)
                throw node.Error($"concatenation along axis {axis} of {Shapes.Format(x[0].Shape)} is not supported (the channel axis 1 only)");
            return Ops.ChannelConcat(x);
        });
    }

    static OnnxStep Split(OnnxNode node)
    {
        long axis = node.Int("axis", 0);
        long[]? sizes = node.Ints("split") ?? (node.OptionalInput(1) is null ? null : node.ConstantIntegers(1));
        var outputs = node.Outputs.ToArray();
        if (outputs.Length == 0 || outputs.Any(o => o.Length == 0)) throw node.Error("has an empty output name");
        if (sizes is not null && (sizes.Length != outputs.Length || sizes.Any(s => s < 0 || s > int.MaxValue)))
            throw node.Error($"split [{string.Join(", ", sizes)}] does not give {outputs.Length} non-negative sizes");
        return new(node.Where, [node.Input(0)], outputs, x =>
        {
            if (Axis(node, axis, x[0].Rank) != 1)
                throw node.Error($"splitting along axis {axis} of {Shapes.Format(x[0].Shape)} is not supported (the channel axis 1 only)");
            int channels = x[0].Dim(1);
            var counts = sizes?.Select(s => (int)s).ToArray()
                ?? (channels % outputs.Length == 0 ? Enumerable.Repeat(channels / outputs.Length, outputs.Length).ToArray()
                    : throw node.Error($"{channels} channels do not split into {outputs.Length} equal parts"));
            if (counts.Sum(c => (long)c) != channels) throw node.Error($"split [{string.Join(", ", counts)}] does not add up to the {channels} channels");
            var parts = new Tensor[counts.Length];
            for (int i = 0, start = 0; i < counts.Length; start += counts[i], i++) parts[i] = x[0].ChannelSlice(start, counts[i]);
            return parts;
        });
    }

    static OnnxStep Transpose(OnnxNode node)
    {
        var perm = node.Ints("perm");
        return Step(node, [node.Input(0)], x =>
        {
            var p = perm?.Select(v => (int)Math.Clamp(v, -1, int.MaxValue)).ToArray() ?? Enumerable.Range(0, x[0].Rank).Reverse().ToArray();
            if (p.Length != x[0].Rank || p.Order().Where((v, i) => v != i).Any())
                throw node.Error($"perm [{string.Join(", ", p)}] is not a permutation of the axes of {Shapes.Format(x[0].Shape)}");
            return x[0].Permute(p);
        });
    }

    static OnnxStep Dropout(OnnxNode node)
    {
        node.Float("ratio", 0.5f); // inference: the identity whatever the ratio
        node.Int("is_test", 1);
        node.Int("seed", 0);
        if (node.OptionalInput(2) is not null) throw node.Error("the training_mode input is not supported (inference only)");
        return Unary(node, x => Ops.Reshape(x, x.Shape)); // a second output (the mask) is refused by Step
    }

    /// <summary>
    /// Pad with zero pads only, the identity: PyTorch writes one before every AveragePool it exports (opset 11 and
    /// later), with pads all 0 unless the pooling itself pads. Padding by a non-zero amount is refused.
    /// </summary>
    static OnnxStep Pad(OnnxNode node)
    {
        var mode = node.Text("mode") ?? "constant";
        var pads = node.Ints("pads") ?? (node.OptionalInput(1) is null ? [] : node.ConstantIntegers(1));
        node.Float("value", 0f);
        if (node.OptionalInput(3) is not null) throw node.Error("the axes input is not supported");
        if (pads.Any(p => p != 0))
            throw node.Error($"pads [{string.Join(", ", pads)}] ({mode}) are not supported: only a Pad of zeros (the identity) is");
        return Unary(node, x => Ops.Reshape(x, x.Shape));
    }

    /// <summary>A list of optional tensors disposed together (the per-call reshaped views of a node's inputs).</summary>
    sealed class DisposableList(IEnumerable<Tensor?> items) : IDisposable
    {
        readonly Tensor?[] items = items.ToArray();

        public Tensor? this[int i] => items[i];

        public void Dispose()
        {
            foreach (var t in items) t?.Dispose();
        }
    }
}
