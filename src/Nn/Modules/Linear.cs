namespace NativeGan.Nn;

/// <summary>y = x @ weight^T + bias, x [N, in], weight [out, in] (PyTorch's layout), bias [out]; PyTorch's default init.</summary>
public sealed class Linear : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public Linear(int inFeatures, int outFeatures, bool bias = true, Device? device = null, Rng? rng = null)
    {
        var d = device ?? Device.Cpu;
        Weight = RegisterParameter("weight", Tensor.Empty(d, outFeatures, inFeatures));
        if (bias) Bias = RegisterParameter("bias", Tensor.Empty(d, outFeatures));
        Init.DefaultLinearOrConv(Weight, Bias, rng);
    }

    public override Tensor Forward(Tensor x) => x.Linear(Weight, Bias);
}
