namespace NativeGan;

/// <summary>
/// Nearest-neighbour 2x upsampling of NCHW tensors: y[n, c, h, w] = x[n, c, h / 2, w / 2], the generator's
/// upsampling layer (DCGAN-style generators without transposed convolutions, ProGAN).
///
/// <para>Upsampling copies each input element into a 2x2 block, so its backward sums each 2x2 block of dy.
/// These are exactly the two directions of 2x2 <i>sum</i> pooling (average pooling with scale 1 instead of
/// 1/4): the backward here is sum pooling and the forward is sum pooling's backward. Both run the
/// <see cref="AvgPool2d"/> kernels with scale 1, so this file has no kernels of its own.</para>
/// </summary>
public static class Upsample2d
{
    // ================================================================ float64 reference

    public static class Reference
    {
        public static double[] Nearest2x(double[] x, int[] shape)
        {
            int planes = shape[0] * shape[1], h = shape[2], w = shape[3];
            var y = new double[planes * 4 * h * w];
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < 2 * h; i++)
                    for (int j = 0; j < 2 * w; j++)
                        y[(p * 2 * h + i) * 2 * w + j] = x[(p * h + i / 2) * w + j / 2];
            return y;
        }

        public static double[] Nearest2xBackward(double[] dy, int[] outputShape)
        {
            int planes = outputShape[0] * outputShape[1], h = outputShape[2] / 2, w = outputShape[3] / 2;
            var dx = new double[planes * h * w];
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < 2 * h; i++)
                    for (int j = 0; j < 2 * w; j++)
                        dx[(p * h + i / 2) * w + j / 2] += dy[(p * 2 * h + i) * 2 * w + j];
            return dx;
        }
    }

    // ================================================================ entry points

    /// <summary>[N, C, H, W] to [N, C, 2H, 2W], each element repeated in a 2x2 block.</summary>
    public static Tensor Nearest2x(Tensor x)
    {
        Check.Rank("Upsample2d.Nearest2x", "x", x, 4);
        var y = Tensor.Empty(x.Device, x.Dim(0), x.Dim(1), 2 * x.Dim(2), 2 * x.Dim(3));
        Nearest2xInto(x, y);
        return y;
    }

    public static void Nearest2xInto(Tensor x, Tensor y)
    {
        const string op = "Upsample2d.Nearest2x";
        Check.Rank(op, "x", x, 4);
        Check.SameDevice(op, x, y);
        Check.Shape(op, "y", y, x.Dim(0), x.Dim(1), 2 * x.Dim(2), 2 * x.Dim(3));
        AvgPool2d.WindowSpread(x, y, kernel: 2, stride: 2, scale: 1f);
    }

    /// <summary>[N, C, 2H, 2W] to [N, C, H, W]: the sum of each 2x2 block of dy.</summary>
    public static Tensor Nearest2xBackward(Tensor dy)
    {
        CheckGradient("Upsample2d.Nearest2xBackward", dy);
        var dx = Tensor.Empty(dy.Device, dy.Dim(0), dy.Dim(1), dy.Dim(2) / 2, dy.Dim(3) / 2);
        Nearest2xBackwardInto(dy, dx);
        return dx;
    }

    public static void Nearest2xBackwardInto(Tensor dy, Tensor dx)
    {
        const string op = "Upsample2d.Nearest2xBackward";
        CheckGradient(op, dy);
        Check.SameDevice(op, dy, dx);
        Check.Shape(op, "dx", dx, dy.Dim(0), dy.Dim(1), dy.Dim(2) / 2, dy.Dim(3) / 2);
        AvgPool2d.WindowSum(dy, dx, kernel: 2, stride: 2, scale: 1f);
    }

    static void CheckGradient(string op, Tensor dy)
    {
        Check.Rank(op, "dy", dy, 4);
        if (dy.Dim(2) % 2 != 0 || dy.Dim(3) % 2 != 0)
            throw new TensorShapeException($"{op}: dy {Shapes.Format(dy.Shape)} must have even height and width (it is a 2x upsampled gradient)");
    }
}
