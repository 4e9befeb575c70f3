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

/// <summary>
/// Modules held in a list (PyTorch's <c>nn.ModuleList</c>): child i is named "i", so a parameter of the list registered
/// as "blocks" is "blocks.2.weight". It has no forward of its own; its owner calls the modules.
/// </summary>
public sealed class ModuleList<T> : Module where T : Module
{
    readonly List<T> modules = [];

    /// <summary>A list of <paramref name="modules"/>, in order.</summary>
    public ModuleList(IEnumerable<T> modules)
    {
        foreach (var m in modules) Add(m);
    }

    /// <summary>Appends <paramref name="module"/> as the next child.</summary>
    public T Add(T module)
    {
        RegisterModule(modules.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        modules.Add(module);
        return module;
    }

    public int Count => modules.Count;

    public T this[int i] => modules[i];

    /// <summary>Not available: a list's owner calls its modules.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("ModuleList has no forward: call its modules");
}
