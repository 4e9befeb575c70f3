namespace NativeGan;

/// <summary>
/// Frees, deterministically, everything the ops made while it was open: every tensor an op in
/// <see cref="Ops"/> returned (forward results, gradients from <see cref="Autograd.Grad"/>) and
/// every graph node recorded (their saved tensors). GPU memory then goes back to the pool at once,
/// not when the garbage collector gets round to it. A training step is one scope:
/// <code>
/// using (new TensorScope())
/// {
///     var loss = critic.Forward(x).Mean();
///     loss.Backward();
///     optimizer.Step();
/// }   // activations, gradients of activations and the graph are freed here; parameters and .Grad stay
/// </code>
/// Scopes nest (thread-local); <see cref="Keep"/> hands a tensor to the enclosing scope (or to the
/// caller when there is none). Tensors made with <c>Tensor.FromArray</c> / <c>Empty</c>, parameters and
/// <c>.Grad</c> are never tracked. A graph recorded in a scope cannot be backpropagated after it closes.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] static TensorScope? current;

    readonly TensorScope? outer;
    readonly bool ownsNodes;
    readonly List<Tensor> tensors = [];
    readonly List<GradNode> nodes = [];
    bool disposed;

    public TensorScope() : this(ownsNodes: true) { }

    /// <summary>
    /// <paramref name="ownsNodes"/> false: the scope frees tensors only and passes recorded nodes on to
    /// the enclosing scope (the backward engine's scope around one rule, whose new nodes belong to the
    /// graph being created).
    /// </summary>
    internal TensorScope(bool ownsNodes)
    {
        this.ownsNodes = ownsNodes;
        outer = current;
        current = this;
    }

    /// <summary>The innermost open scope on this thread, if any.</summary>
    public static TensorScope? Current => current;

    /// <summary>Number of tensors the scope will dispose.</summary>
    public int Count => tensors.Count;

    internal static Tensor Track(Tensor t)
    {
        current?.tensors.Add(t);
        return t;
    }

    /// <summary>Takes <paramref name="t"/> out of the current scope (it has another owner).</summary>
    internal static void Untrack(Tensor t)
    {
        if (current is { } s && s.tensors.LastIndexOf(t) is var i and >= 0) s.tensors.RemoveAt(i);
    }

    internal static void Track(GradNode node)
    {
        for (var s = current; s is not null; s = s.outer)
            if (s.ownsNodes) { s.nodes.Add(node); return; }
    }

    /// <summary>Takes <paramref name="t"/> out of this scope and hands it to the enclosing one (if any).</summary>
    public Tensor Keep(Tensor t)
    {
        int i = tensors.LastIndexOf(t);
        if (i >= 0)
        {
            tensors.RemoveAt(i);
            outer?.tensors.Add(t);
        }
        return t;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (current != this)
            throw new InvalidOperationException("TensorScope: scopes must be disposed innermost first (use `using`)");
        current = outer;
        foreach (var t in tensors) t.Dispose();
        foreach (var n in nodes) n.Release();
        tensors.Clear();
        nodes.Clear();
    }
}
