namespace NativeGan.Nn;

// Layers without parameters: each is one op of src/Autograd, wrapped so it can sit in a Sequential.

/// <summary>max(x, 0).</summary>
public sealed class ReLU : Module
{
    public override Tensor Forward(Tensor x) => x.Relu();
}

/// <summary>x for x > 0, slope * x otherwise (DCGAN's discriminator uses slope 0.2).</summary>
public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module
{
    public float NegativeSlope { get; } = negativeSlope;

    public override Tensor Forward(Tensor x) => x.LeakyRelu(NegativeSlope);
}

/// <summary>tanh x (the generator's last layer, images in [-1, 1]).</summary>
public sealed class Tanh : Module
{
    public override Tensor Forward(Tensor x) => x.Tanh();
}

/// <summary>1 / (1 + e^-x).</summary>
public sealed class Sigmoid : Module
{
    public override Tensor Forward(Tensor x) => x.Sigmoid();
}

/// <summary>[N, ...] to [N, rest] (recorded, so gradients pass).</summary>
public sealed class Flatten : Module
{
    public override Tensor Forward(Tensor x) => x.Flatten();
}

/// <summary>Nearest-neighbour 2x upsampling, [N, C, H, W] to [N, C, 2H, 2W].</summary>
public sealed class Upsample : Module
{
    public override Tensor Forward(Tensor x) => x.UpsampleNearest2x();
}

/// <summary>Reflection padding by <c>padding</c> pixels on every side, [N, C, H, W] to [N, C, H + 2p, W + 2p] (PyTorch's
/// ReflectionPad2d with one size): a convolution after it sees the image's own pixels at the border, not zeros.</summary>
public sealed class ReflectionPad2d(int padding) : Module
{
    public int Padding { get; } = padding;

    public override Tensor Forward(Tensor x) => x.ReflectionPad2d(Padding);
}

/// <summary>Average pooling over k x k windows with the given stride (default k).</summary>
public sealed class AvgPool2d(int kernelSize, int stride = 0) : Module
{
    public int KernelSize { get; } = kernelSize;
    public int Stride { get; } = stride;

    public override Tensor Forward(Tensor x) => x.AvgPool2d(KernelSize, Stride);
}

/// <summary>Max pooling over k x k windows with the given stride and padding (PyTorch's MaxPool2d, floor mode).</summary>
public sealed class MaxPool2d(int kernelSize, int stride, int padding = 0) : Module
{
    public int KernelSize { get; } = kernelSize;
    public int Stride { get; } = stride;
    public int Padding { get; } = padding;

    public override Tensor Forward(Tensor x) => x.MaxPool2d(KernelSize, Stride, Padding);
}

/// <summary>
/// [N, ...] to [N, shape...]: every sample is given <paramref name="shape"/> (the batch axis is kept; one entry
/// may be -1). The step from a Linear to convolutions in a generator, <c>new Reshape(256, 4, 4)</c>, as
/// PyTorch's <c>nn.Unflatten(1, (256, 4, 4))</c>. A view, recorded, so gradients pass.
/// </summary>
public sealed class Reshape(params int[] shape) : Module
{
    public IReadOnlyList<int> Shape { get; } = shape.ToArray();

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank < 1) throw new TensorShapeException($"Reshape: needs a batch axis, got {Shapes.Format(x.Shape)}");
        return Ops.Reshape(x, [x.Dim(0), .. Shape]);
    }
}
