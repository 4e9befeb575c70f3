namespace NativeGan;

// Reductions and shape ops. Sum and Expand (broadcast) are each other's backward: the gradient of a
// sum is the output gradient copied to every summed element, and the gradient of a copy is the sum.
// MaxOver (a maxout layer's maximum over its pieces) and LogSoftmax (a log-sum-exp along the class axis)
// reduce along an axis too.
public static partial class Ops
{
    /// <summary>The sum of every element, shape [1].</summary>
    public static Tensor Sum(this Tensor x)
    {
        var xShape = x.Shape;
        return Autograd.Record("Sum", Reduce.SumAll(x), [x], (g, n) => [Expand(g, xShape)]);
    }

    /// <summary>The mean of every element, shape [1].</summary>
    public static Tensor Mean(this Tensor x)
    {
        var xShape = x.Shape;
        float scale = 1f / Math.Max(1, x.Length);
        return Autograd.Record("Mean", Reduce.MeanAll(x), [x], (g, n) => [Expand(g.Mul(scale), xShape)]);
    }

    /// <summary>The sum over <paramref name="axes"/> (negative axes count from the end).</summary>
    public static Tensor Sum(this Tensor x, int[] axes, bool keepDims = false)
    {
        var (xShape, kept) = (x.Shape, KeptShape(x.Shape, axes));
        return Autograd.Record("Sum", Reduce.Sum(x, axes, keepDims), [x],
            (g, n) => [Expand(Reshape(g, kept), xShape)]);
    }

    /// <summary>The mean over <paramref name="axes"/>.</summary>
    public static Tensor Mean(this Tensor x, int[] axes, bool keepDims = false)
    {
        var (xShape, kept) = (x.Shape, KeptShape(x.Shape, axes));
        float scale = (float)Shapes.Numel(kept) / Math.Max(1, x.Length);
        return Autograd.Record("Mean", Reduce.Mean(x, axes, keepDims), [x],
            (g, n) => [Expand(Reshape(g, kept), xShape).Mul(scale)]);
    }

    /// <summary>
    /// The maximum over <paramref name="axis"/>, which is removed: [N, P, F] over axis 1 gives [N, F] (a maxout
    /// layer's pieces). One reduction kernel forward. Backward: each output gradient goes to the input elements
    /// that equal the maximum, shared evenly when several tie (PyTorch's <c>amax</c> rule), through the constant
    /// mask hit / count (hit = 1 at the maximum, else 0; count = the hits along the axis), one kernel
    /// (<see cref="MaxOverMask"/>). Piecewise linear: the rule is differentiable again (its second derivative is 0).
    /// </summary>
    public static Tensor MaxOver(this Tensor x, int axis)
    {
        int a = axis < 0 ? axis + x.Rank : axis;
        if (a < 0 || a >= x.Rank) throw new TensorShapeException($"MaxOver: axis {axis} is outside shape {Shapes.Format(x.Shape)}");
        var kept = (int[])x.Shape.Clone();
        kept[a] = 1;
        return Autograd.Record("MaxOver", Reduce.Max(x, [a], keepDims: false), [x],
            (g, n) =>
            {
                var mask = TensorScope.Track(MaxOverMask.Compute(n.Saved[0], n.Saved[1], a)); // a constant
                using var gKept = Reshape(g, kept);
                return [gKept.Mul(mask)];                                         // broadcast over the axis
            },
            save: [x], saveOutput: true);
    }

    /// <summary>
    /// log softmax over axis 1 of [N, K] logits: x_k - log sum_j exp(x_j), computed as
    /// (x - m) - log sum_j exp(x_j - m) with m the row maximum (held constant: the result does not depend on
    /// m, so no gradient flows through it), which keeps exp from overflowing.
    /// </summary>
    public static Tensor LogSoftmax(this Tensor x)
    {
        if (x.Rank != 2) throw new TensorShapeException($"LogSoftmax: expected [N, K] logits, got {Shapes.Format(x.Shape)}");
        using var rowMax = Reduce.Max(x, [1], keepDims: true); // a raw kernel result: a constant to autograd
        using var shifted = x.Sub(rowMax);
        using var exp = shifted.Exp();
        using var sum = exp.Sum([1], keepDims: true);
        using var lse = sum.Log();
        return shifted.Sub(lse);
    }
    /// <summary>
    /// Broadcasts <paramref name="x"/> to <paramref name="shape"/> (numpy rules: a copy per size-1 or
    /// missing axis). Backward: the sum of the copies.
    /// </summary>
    public static Tensor Expand(this Tensor x, int[] shape)
    {
        if (Shapes.Equal(x.Shape, shape)) return x;
        var xShape = x.Shape;
        var y = Tensor.Empty(x.Device, Shapes.Broadcast("Expand", shape, x.Shape));
        if (!Shapes.Equal(y.Shape, shape))
        {
            y.Dispose();
            throw new TensorShapeException($"Expand: shape {Shapes.Format(xShape)} does not broadcast to {Shapes.Format(shape)}");
        }
        Elementwise.Fill(y, 0f);
        Elementwise.BinaryInto(BinaryOp.Add, y, x, y); // y = 0 + x, broadcast
        return Autograd.Record("Expand", y, [x], (g, n) => [SumToShape(g, xShape)]);
    }

    /// <summary>
    /// Sums <paramref name="x"/> down to <paramref name="shape"/> (the reverse of a broadcast: leading axes
    /// and size-1 axes of the target are summed). Returns x itself when the shapes are equal.
    /// </summary>
    public static Tensor SumToShape(this Tensor x, int[] shape)
    {
        if (Shapes.Equal(x.Shape, shape)) return x;
        var xShape = x.Shape;
        return Autograd.Record("SumToShape", Reduce.SumToShape(x, shape), [x], (g, n) => [Expand(g, xShape)]);
    }

    /// <summary>
    /// The same elements seen with another shape (a view: no copy); one axis may be -1. Use this, not
    /// <c>Tensor.Reshape</c>, on tensors that take part in autograd: the raw view is not recorded.
    /// </summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var xShape = x.Shape;
        return Autograd.Record("Reshape", x.ViewAs(shape), [x], (g, n) => [Reshape(g, xShape)]);
    }

    /// <summary>[N, ...] to [N, rest]: the usual step between convolutions and a linear layer.</summary>
    public static Tensor Flatten(this Tensor x) => Reshape(x, x.Dim(0), -1);

    /// <summary>The shape of a reduction's result with the reduced axes kept as size 1.</summary>
    static int[] KeptShape(int[] shape, int[] axes)
    {
        var kept = (int[])shape.Clone();
        foreach (var a in axes)
        {
            int axis = a < 0 ? a + shape.Length : a;
            if (axis < 0 || axis >= shape.Length)
                throw new TensorShapeException($"Sum/Mean: axis {a} is outside shape {Shapes.Format(shape)}");
            kept[axis] = 1;
        }
        return kept;
    }
}
