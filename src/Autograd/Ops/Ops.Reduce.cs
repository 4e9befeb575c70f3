namespace NativeGan;

// Reductions and shape ops. Sum and Expand (broadcast) are each other's backward: the gradient of a
// sum is the output gradient copied to every summed element, and the gradient of a copy is the sum.
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
