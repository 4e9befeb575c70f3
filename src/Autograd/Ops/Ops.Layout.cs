namespace NativeGan;

// Pooling, upsampling, concatenation and permutation: all linear maps, so each backward is the adjoint
// map, and the adjoint's own backward is the original op again. Each pair is two recorded ops.
public static partial class Ops
{
    /// <summary>Average pooling over k x k windows with the given stride (default k): [N, C, H, W] to [N, C, OH, OW].</summary>
    public static Tensor AvgPool2d(this Tensor x, int kernel, int stride = 0)
    {
        var xShape = x.Shape;
        return Autograd.Record("AvgPool2d", NativeGan.AvgPool2d.Forward(x, kernel, stride), [x],
            (g, n) => [AvgPool2dBackward(g, xShape, kernel, stride)]);
    }

    /// <summary>The adjoint of <see cref="AvgPool2d"/> (each output gradient spread over its window) as an op; its gradient is AvgPool2d.</summary>
    public static Tensor AvgPool2dBackward(Tensor dy, int[] inputShape, int kernel, int stride = 0) =>
        Autograd.Record("AvgPool2dBackward", NativeGan.AvgPool2d.Backward(dy, inputShape, kernel, stride), [dy],
            (g, n) => [g.AvgPool2d(kernel, stride)]);

    /// <summary>
    /// Max pooling over k x k windows, stride s, padding p (padded positions never win): [N, C, H, W] to [N, C, OH, OW].
    /// The gradient goes to each window's first maximum (<see cref="NativeGan.MaxPool2d"/>).
    /// </summary>
    public static Tensor MaxPool2d(this Tensor x, int kernel, int stride, int padding = 0) =>
        Autograd.Record("MaxPool2d", NativeGan.MaxPool2d.Forward(x, kernel, stride, padding), [x],
            (g, n) => [MaxPool2dSpread(n.Saved[0], g, kernel, stride, padding)], save: [x]);

    /// <summary>
    /// dy summed onto the argmax of each window of <paramref name="x"/> (max pooling's backward) as an op: linear in dy,
    /// its gradient is <see cref="MaxPool2dSelect"/>; the argmax is piecewise constant, so x gets no gradient.
    /// </summary>
    public static Tensor MaxPool2dSpread(Tensor x, Tensor dy, int kernel, int stride, int padding) =>
        Autograd.Record("MaxPool2dSpread", NativeGan.MaxPool2d.Spread(x, dy, kernel, stride, padding), [x, dy],
            (g, n) => [null, n.NeedsGrad(1) ? MaxPool2dSelect(n.Saved[0], g, kernel, stride, padding) : null], save: [x]);

    /// <summary>
    /// v at the argmax of each window of <paramref name="x"/> (v shaped like x) as an op: linear in v, its gradient is
    /// <see cref="MaxPool2dSpread"/>; x gets no gradient.
    /// </summary>
    public static Tensor MaxPool2dSelect(Tensor x, Tensor v, int kernel, int stride, int padding) =>
        Autograd.Record("MaxPool2dSelect", NativeGan.MaxPool2d.Select(x, v, kernel, stride, padding), [x, v],
            (g, n) => [null, n.NeedsGrad(1) ? MaxPool2dSpread(n.Saved[0], g, kernel, stride, padding) : null], save: [x]);

    /// <summary>Nearest-neighbour 2x upsampling: [N, C, H, W] to [N, C, 2H, 2W].</summary>
    public static Tensor UpsampleNearest2x(this Tensor x) =>
        Autograd.Record("UpsampleNearest2x", Upsample2d.Nearest2x(x), [x], (g, n) => [UpsampleNearest2xBackward(g)]);

    /// <summary>Reflection padding by <paramref name="pad"/> on every side of [N, C, H, W] (see <see cref="NativeGan.ReflectionPad2d"/>);
    /// its gradient is the adjoint, <see cref="ReflectionPad2dBackward"/>.</summary>
    public static Tensor ReflectionPad2d(this Tensor x, int pad)
    {
        int h = x.Rank == 4 ? x.Dim(2) : 0, w = x.Rank == 4 ? x.Dim(3) : 0;
        return Autograd.Record("ReflectionPad2d", NativeGan.ReflectionPad2d.Forward(x, pad), [x], (g, n) => [ReflectionPad2dBackward(g, pad, h, w)]);
    }

    /// <summary>The adjoint of <see cref="ReflectionPad2d"/> (each dy pixel added into the pixel it copied) as an op, for
    /// an input of <paramref name="height"/> x <paramref name="width"/>; its gradient is the padding.</summary>
    public static Tensor ReflectionPad2dBackward(Tensor dy, int pad, int height, int width) =>
        Autograd.Record("ReflectionPad2dBackward", NativeGan.ReflectionPad2d.Backward(dy, pad, height, width), [dy], (g, n) => [g.ReflectionPad2d(pad)]);

    /// <summary>The adjoint of <see cref="UpsampleNearest2x"/> (the sum of each 2x2 block) as an op; its gradient is the upsampling.</summary>
    public static Tensor UpsampleNearest2xBackward(Tensor dy) =>
        Autograd.Record("UpsampleNearest2xBackward", Upsample2d.Nearest2xBackward(dy), [dy], (g, n) => [g.UpsampleNearest2x()]);

    /// <summary>Joins [N, C_i, ...] tensors along the channel axis; each part's gradient is its slice of g.</summary>
    public static Tensor ChannelConcat(params Tensor[] parts)
    {
        var channels = parts.Select(p => p.Dim(1)).ToArray();
        return Autograd.Record("ChannelConcat", NativeGan.ChannelConcat.Concat(parts), parts,
            (g, n) =>
            {
                var grads = new Tensor?[channels.Length];
                for (int i = 0, start = 0; i < channels.Length; start += channels[i], i++)
                    if (n.NeedsGrad(i)) grads[i] = g.ChannelSlice(start, channels[i]);
                return grads;
            });
    }

    /// <summary>Channels start .. start+count-1 of [N, C, ...] (a copy). Backward: g placed between zeros.</summary>
    public static Tensor ChannelSlice(this Tensor x, int start, int count)
    {
        var xShape = x.Shape;
        int rest = x.Dim(1) - start - count;
        var parts = NativeGan.ChannelConcat.Split(x, [start, count, rest]);
        parts[0].Dispose();
        parts[2].Dispose();
        return Autograd.Record("ChannelSlice", parts[1], [x],
            (g, n) =>
            {
                Tensor Zeros(int c) => TensorScope.Track(Tensor.Zeros(g.Device, [xShape[0], c, .. xShape[2..]]));
                return [ChannelConcat([.. start > 0 ? [Zeros(start)] : Array.Empty<Tensor>(), g, .. rest > 0 ? [Zeros(rest)] : Array.Empty<Tensor>()])];
            });
    }

    /// <summary>Output axis k is input axis perm[k] (numpy's transpose); a copy. Backward: the inverse permutation.</summary>
    public static Tensor Permute(this Tensor x, params int[] perm)
    {
        var inverse = new int[perm.Length];
        for (int k = 0; k < perm.Length; k++) inverse[perm[k]] = k;
        return Autograd.Record("Permute", Transpose.Permute(x, perm), [x], (g, n) => [g.Permute(inverse)]);
    }

    /// <summary>
    /// The slices x[0], ..., x[T-1] of x [T, ...] along axis 0, as views (no copy). Each is a recorded op of x whose
    /// backward puts its gradient at its place in zeros of x's shape: cheap for one slice, but T slices that all
    /// need a gradient cost T full-size gradients (O(T²)); <see cref="Stack"/>'s backward, the common use, records nothing.
    /// </summary>
    public static Tensor[] Unbind(this Tensor x)
    {
        if (x.Rank < 1) throw new TensorShapeException($"Unbind: needs [T, ...], got shape {Shapes.Format(x.Shape)}");
        int steps = x.Dim(0);
        var partShape = x.Shape[1..];
        var parts = new Tensor[steps];
        for (int t = 0; t < steps; t++)
        {
            int at = t;
            using var slice = x.SliceBatch(t, 1);
            parts[t] = Autograd.Record("Unbind", slice.ViewAs(partShape), [x], (g, n) => [UnbindBackward(g, at, steps)]);
        }
        return parts;
    }

    /// <summary>g [...] placed at index t of zeros [T, ...], from recorded ops (a concatenation with zero constants).</summary>
    static Tensor UnbindBackward(Tensor g, int t, int steps)
    {
        int numel = g.Length;
        Tensor Zeros(int count) => TensorScope.Track(Tensor.Zeros(g.Device, 1, count, numel));
        var row = Reshape(g, 1, 1, numel);
        var padded = ChannelConcat([.. t > 0 ? [Zeros(t)] : Array.Empty<Tensor>(), row, .. t < steps - 1 ? [Zeros(steps - 1 - t)] : Array.Empty<Tensor>()]);
        return Reshape(padded, [steps, .. g.Shape]);
    }

    /// <summary>Joins equal-shaped tensors [...] into [T, ...] along a new axis 0 (one copy); backward: <see cref="Unbind"/> of g.</summary>
    public static Tensor Stack(params Tensor[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("Stack: no tensors to stack");
        var shape = parts[0].Shape;
        foreach (var p in parts)
            if (!Shapes.Equal(p.Shape, shape))
                throw new TensorShapeException($"Stack: parts must have one shape; got {string.Join(", ", parts.Select(t => Shapes.Format(t.Shape)))}");
        int numel = Shapes.Numel(shape);
        var rows = parts.Select(p => p.ViewAs(1, 1, numel)).ToArray();
        Tensor joined;
        try { joined = NativeGan.ChannelConcat.Concat(rows); }
        finally { foreach (var r in rows) r.Dispose(); }
        var y = joined.ViewAs([parts.Length, .. shape]);
        joined.Dispose();
        return Autograd.Record("Stack", y, parts, (g, n) => g.Unbind());
    }
}
