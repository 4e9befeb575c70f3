namespace NativeGan.Nn;

/// <summary>
/// The base of every layer, after <c>torch.nn.Module</c>: a module owns named parameters (tensors that
/// require grad and that an optimizer updates), named buffers (state that is saved but not trained, such
/// as BatchNorm's running statistics) and named child modules. Names join with dots, as in PyTorch's
/// <c>state_dict</c>: the bias of the second layer of a child <c>net</c> is <c>net.1.bias</c>.
/// <code>
/// var d = new Sequential(new Conv2d(3, 64, 4, 2, 1, rng: rng), new LeakyReLU(0.2f), ...);
/// var opt = new Adam(d.Parameters(), 2e-4f, 0.5f, 0.999f);
/// using (new TensorScope()) { using var loss = d.Forward(x).Mean(); loss.Backward(); opt.Step(); }
/// </code>
/// Disposing a module disposes its parameters, buffers and children.
/// </summary>
public abstract class Module : IDisposable
{
    // Insertion order is kept (List of pairs), so names come out in the order layers were built, as in PyTorch.
    readonly List<(string Name, Tensor Tensor)> parameters = [];
    readonly List<(string Name, Tensor Tensor)> buffers = [];
    readonly List<(string Name, Module Module)> children = [];

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>The layer's computation.</summary>
    public abstract Tensor Forward(Tensor x);

    /// <summary>Registers <paramref name="tensor"/> as a trained parameter (sets RequiresGrad) and returns it.</summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        tensor.RequiresGrad = true;
        parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers <paramref name="tensor"/> as a buffer (saved in the state dict, not trained) and returns it.</summary>
    protected Tensor RegisterBuffer(string name, Tensor tensor)
    {
        CheckName(name);
        buffers.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a child module under <paramref name="name"/> and returns it.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        children.Add((name, module));
        return module;
    }

    void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: a name must be non-empty and contain no '.', got '{name}'");
        if (parameters.Any(p => p.Name == name) || buffers.Any(b => b.Name == name) || children.Any(c => c.Name == name))
            throw new ArgumentException($"{GetType().Name}: the name '{name}' is already registered");
    }

    /// <summary>The direct children, by name.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => children;

    /// <summary>Every parameter of this module and its descendants with its dotted name, own parameters first.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters() => Walk(m => m.parameters, "");

    /// <summary>Every buffer of this module and its descendants with its dotted name.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> NamedBuffers() => Walk(m => m.buffers, "");

    /// <summary>The parameters, in <see cref="NamedParameters"/> order: what an optimizer takes.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor);

    IEnumerable<(string, Tensor)> Walk(Func<Module, List<(string, Tensor)>> own, string prefix)
    {
        foreach (var (name, t) in own(this)) yield return (prefix + name, t);
        foreach (var (name, child) in children)
            foreach (var item in child.Walk(own, prefix + name + "."))
                yield return item;
    }

    /// <summary>The names this module's own tensors had in checkpoints written before a layer was renamed or moved:
    /// (former, current), relative to the module. A layer that changed its state-dict names lists them here, so old
    /// checkpoints keep loading (<see cref="FormerNames"/>).</summary>
    protected virtual IEnumerable<(string Former, string Current)> OwnFormerNames => [];

    /// <summary>Every tensor's former dotted name by its current one, over this module and its descendants (empty when no
    /// layer was renamed): what <c>Checkpoint.Load</c> falls back to when a file lacks a current name.</summary>
    public IReadOnlyDictionary<string, string> FormerNames()
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        void Visit(Module m, string prefix)
        {
            foreach (var (former, current) in m.OwnFormerNames) names[prefix + current] = prefix + former;
            foreach (var (name, child) in m.children) Visit(child, prefix + name + ".");
        }
        Visit(this, "");
        return names;
    }

    /// <summary>Training mode for this module and every descendant (BatchNorm uses batch statistics).</summary>
    public Module Train(bool on = true)
    {
        Training = on;
        foreach (var (_, child) in children) child.Train(on);
        return this;
    }

    /// <summary>Evaluation mode for this module and every descendant (BatchNorm uses its running statistics).</summary>
    public Module Eval() => Train(false);

    /// <summary>Drops the gradient of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>
    /// Parameters and buffers by dotted name, in PyTorch's order per module (parameters, then buffers,
    /// then children). The tensors are the module's own (not copies): save them, do not dispose them.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in Walk(m => [.. m.parameters, .. m.buffers], "")) result[name] = t;
        return result;
    }

    /// <summary>
    /// Copies every tensor of <paramref name="state"/> into the parameter or buffer of the same name (values
    /// only: this module's tensors and devices stay; a source on another device is copied across). Everything is
    /// checked before anything is written: a missing name, an unexpected name or a wrong shape throws, naming
    /// them all, and leaves the module unchanged.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var own = StateDict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var wrongShape = own.Where(kv => state.TryGetValue(kv.Key, out var s) && !s.Shape.SequenceEqual(kv.Value.Shape))
            .Select(kv => $"{kv.Key}: expected {Shapes.Format(kv.Value.Shape)}, got {Shapes.Format(state[kv.Key].Shape)}").ToList();
        if (missing.Count + unexpected.Count + wrongShape.Count > 0)
        {
            var problems = new List<string>();
            if (missing.Count > 0) problems.Add("missing keys: " + string.Join(", ", missing));
            if (unexpected.Count > 0) problems.Add("unexpected keys: " + string.Join(", ", unexpected));
            if (wrongShape.Count > 0) problems.Add("wrong shapes: " + string.Join("; ", wrongShape));
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: {string.Join("; ", problems)}");
        }
        foreach (var (name, target) in own)
        {
            var source = state[name];
            if (source.Device == target.Device) target.CopyFrom(source);
            else { using var moved = source.To(target.Device); target.CopyFrom(moved); }
        }
    }

    public virtual void Dispose()
    {
        foreach (var (_, t) in parameters) { t.ZeroGrad(); t.Dispose(); }
        foreach (var (_, t) in buffers) t.Dispose();
        foreach (var (_, m) in children) m.Dispose();
        GC.SuppressFinalize(this);
    }
}
