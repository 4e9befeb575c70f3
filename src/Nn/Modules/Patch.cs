namespace NativeGan.Nn;

/// <summary>The axis of [N, C, H, W] a patch layer (<see cref="PatchConv"/>, <see cref="PatchConvTranspose"/>) works along.</summary>
public enum PatchAxis
{
    /// <summary>Axis 2 (H).</summary>
    Height = 2,

    /// <summary>Axis 3 (W).</summary>
    Width = 3,
}

/// <summary>
/// A convolution of [N, C, H, W] whose kernel equals its stride along one axis (k) and is 1 along the other, weight
/// [out, in, k] (a Conv3d's [out, in, kD, kH, kW] with the ones dropped), bias [out]: the windows do not overlap, so
/// it is one linear map of each window's in·k values to out values, written as permute + reshape + <see cref="Ops.MatMul"/>.
/// Every piece is a recorded op whose backward is recorded too, so gradients of every order (WGAN-GP's double backward)
/// come for free, and a 3-D network whose kernels equal their strides (MuseGAN's) needs no 3-D convolution op.
/// [N, C, H, W] -> [N, out, H/k, W] (Height) or [N, out, H, W/k] (Width); the axis must divide by k.
/// </summary>
public sealed class PatchConv : Module
{
    /// <summary>Weight [out, in, k] and bias [out] drawn as PyTorch draws a convolution's (fan-in in·k).</summary>
    public PatchConv(int inChannels, int outChannels, int kernel, PatchAxis axis, bool bias = true, Device? device = null, Rng? rng = null)
    {
        if (inChannels < 1 || outChannels < 1 || kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), $"PatchConv: channels ({inChannels}, {outChannels}) and kernel ({kernel}) must be at least 1");
        var d = device ?? Device.Cpu;
        (Kernel, Axis) = (kernel, axis);
        Weight = RegisterParameter("weight", Tensor.Empty(d, outChannels, inChannels, kernel));
        if (bias) Bias = RegisterParameter("bias", Tensor.Empty(d, outChannels));
        Init.DefaultLinearOrConv(Weight, Bias, rng);
    }

    /// <summary>[out, in, k].</summary>
    public Tensor Weight { get; }

    /// <summary>[out], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Kernel = stride along <see cref="Axis"/>.</summary>
    public int Kernel { get; }

    /// <summary>The axis the windows lie along.</summary>
    public PatchAxis Axis { get; }

    public override Tensor Forward(Tensor x)
    {
        int inChannels = Weight.Dim(1), outChannels = Weight.Dim(0), k = Kernel;
        if (x.Rank != 4 || x.Dim(1) != inChannels || x.Dim((int)Axis) % k != 0)
            throw new TensorShapeException($"PatchConv: expected [N, {inChannels}, H, W] with {(Axis == PatchAxis.Height ? "H" : "W")} a multiple of {k}, got {Shapes.Format(x.Shape)}");
        int n = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
        // Split the axis into (windows, k) and bring each window's (channel, offset) values to the end of a row.
        bool height = Axis == PatchAxis.Height;
        int a = height ? h / k : h, b = height ? w : w / k;
        using var split = height ? Ops.Reshape(x, n, inChannels, a, k, w) : Ops.Reshape(x, n, inChannels, h, b, k);
        using var windows = height ? split.Permute(0, 2, 4, 1, 3) : split.Permute(0, 2, 3, 1, 4); // [N, A, B, C, k]
        using var rows = Ops.Reshape(windows, n * a * b, inChannels * k);
        using var weight = Ops.Reshape(Weight, outChannels, inChannels * k);
        using var product = rows.MatMul(weight, transB: true);                                      // [N·A·B, out]
        using var biased = Bias is null ? null : product.Add(Bias);
        using var grid = Ops.Reshape(biased ?? product, n, a, b, outChannels);
        return grid.Permute(0, 3, 1, 2);
    }
}

/// <summary>
/// The transposed <see cref="PatchConv"/> (a ConvTranspose3d whose kernel equals its stride along one axis), weight
/// [in, out, k] (PyTorch's transposed layout), bias [out]: each input position becomes k output positions along the
/// axis by one linear map of its in values to out·k values. [N, C, H, W] -> [N, out, H·k, W] (Height) or [N, out, H, W·k]
/// (Width). Recorded ops only (permute, reshape, MatMul), so its gradients of every order exist.
/// </summary>
public sealed class PatchConvTranspose : Module
{
    /// <summary>Weight [in, out, k] and bias [out] drawn as PyTorch draws a transposed convolution's (fan-in out·k).</summary>
    public PatchConvTranspose(int inChannels, int outChannels, int kernel, PatchAxis axis, bool bias = true, Device? device = null, Rng? rng = null)
    {
        if (inChannels < 1 || outChannels < 1 || kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), $"PatchConvTranspose: channels ({inChannels}, {outChannels}) and kernel ({kernel}) must be at least 1");
        var d = device ?? Device.Cpu;
        (Kernel, Axis) = (kernel, axis);
        Weight = RegisterParameter("weight", Tensor.Empty(d, inChannels, outChannels, kernel));
        if (bias) Bias = RegisterParameter("bias", Tensor.Empty(d, outChannels));
        Init.DefaultLinearOrConv(Weight, Bias, rng);
    }

    /// <summary>[in, out, k].</summary>
    public Tensor Weight { get; }

    /// <summary>[out], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Kernel = stride along <see cref="Axis"/>.</summary>
    public int Kernel { get; }

    /// <summary>The axis that grows k-fold.</summary>
    public PatchAxis Axis { get; }

    public override Tensor Forward(Tensor x)
    {
        int inChannels = Weight.Dim(0), outChannels = Weight.Dim(1), k = Kernel;
        if (x.Rank != 4 || x.Dim(1) != inChannels)
            throw new TensorShapeException($"PatchConvTranspose: expected [N, {inChannels}, H, W], got {Shapes.Format(x.Shape)}");
        int n = x.Dim(0), h = x.Dim(2), w = x.Dim(3);
        using var channelsLast = x.Permute(0, 2, 3, 1);                                            // [N, H, W, C]
        using var rows = Ops.Reshape(channelsLast, n * h * w, inChannels);
        using var weight = Ops.Reshape(Weight, inChannels, outChannels * k);
        using var product = rows.MatMul(weight);                                                   // [N·H·W, out·k]
        using var cells = Ops.Reshape(product, n, h, w, outChannels, k);
        bool height = Axis == PatchAxis.Height;
        using var placed = height ? cells.Permute(0, 3, 1, 4, 2) : cells.Permute(0, 3, 1, 2, 4);  // [N, out, H, k, W] or [N, out, H, W, k]
        var y = height ? Ops.Reshape(placed, n, outChannels, h * k, w) : Ops.Reshape(placed, n, outChannels, h, w * k);
        if (Bias is null) return y;
        using (y)
        using (var bias = Ops.Reshape(Bias, 1, outChannels, 1, 1))
            return y.Add(bias);
    }
}
