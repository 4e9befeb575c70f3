namespace NativeGan.Nn;

/// <summary>2-D convolution (cross-correlation), weight [out, in, k, k], bias [out]; PyTorch's default init.</summary>
public sealed class Conv2d : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true,
        Device? device = null, Rng? rng = null)
    {
        var d = device ?? Device.Cpu;
        (Stride, Padding) = (stride, padding);
        Weight = RegisterParameter("weight", Tensor.Empty(d, outChannels, inChannels, kernelSize, kernelSize));
        if (bias) Bias = RegisterParameter("bias", Tensor.Empty(d, outChannels));
        Init.DefaultLinearOrConv(Weight, Bias, rng);
    }

    public override Tensor Forward(Tensor x) => x.Conv2d(Weight, Bias, Stride, Padding);
}

/// <summary>
/// Transposed 2-D convolution (the generator's upsampling layer), weight [in, out, k, k] (PyTorch's layout),
/// bias [out]; output size (H - 1) stride - 2 padding + k + outputPadding. PyTorch's default init.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int OutputPadding { get; }

    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0,
        bool bias = true, Device? device = null, Rng? rng = null)
    {
        var d = device ?? Device.Cpu;
        (Stride, Padding, OutputPadding) = (stride, padding, outputPadding);
        Weight = RegisterParameter("weight", Tensor.Empty(d, inChannels, outChannels, kernelSize, kernelSize));
        if (bias) Bias = RegisterParameter("bias", Tensor.Empty(d, outChannels));
        Init.DefaultLinearOrConv(Weight, Bias, rng);
    }

    public override Tensor Forward(Tensor x) => x.ConvTranspose2d(Weight, Bias, Stride, Padding, OutputPadding);
}
