namespace NativeGan.Nn;

/// <summary>Layers applied in order; child i is named "i" (so its weight is "i.weight"), as in PyTorch.</summary>
public sealed class Sequential : Module
{
    readonly Module[] layers;

    public Sequential(params Module[] layers)
    {
        this.layers = layers;
        for (int i = 0; i < layers.Length; i++) RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture), layers[i]);
    }

    public int Count => layers.Length;

    public Module this[int i] => layers[i];

    /// <summary>
    /// Each layer on the previous one's output; an intermediate is disposed as soon as the next layer has used
    /// it (the graph keeps its own handles on what backward needs). The caller owns the result.
    /// </summary>
    public override Tensor Forward(Tensor x)
    {
        Tensor current = x;
        foreach (var layer in layers)
        {
            var next = layer.Forward(current);
            if (!ReferenceEquals(current, x)) current.Dispose();
            current = next;
        }
        return ReferenceEquals(current, x) ? x.Share() : current;
    }
}
