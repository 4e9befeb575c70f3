namespace NativeGan;

// The autograd slots of a tensor. The tape that fills them lives in src/Autograd (Autograd.cs, Ops/);
// they sit here because a tensor and its gradient travel together.
public sealed partial class Tensor
{
    bool requiresGrad;
    Tensor? leaf; // set on a Share() of a leaf: the tensor whose .Grad its gradient lands on

    /// <summary>
    /// True when gradients flow back through this tensor: set it on leaves (parameters, inputs);
    /// every result of a recorded op requires grad. Setting it false on a non-leaf is refused (use Detach()).
    /// </summary>
    public bool RequiresGrad
    {
        get => requiresGrad || GradFn is not null;
        set
        {
            if (!value && GradFn is not null)
                throw new InvalidOperationException(
                    $"RequiresGrad: this tensor {Shapes.Format(Shape)} was made by {GradFn.Name} and is part of a graph; use Detach() for a handle outside it");
            requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient of a leaf after <c>Backward()</c>; null until then (and after ZeroGrad).</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The recorded op that produced this tensor (null for leaves and for results made under no-grad).</summary>
    public GradNode? GradFn { get; set; }

    /// <summary>A leaf is a tensor no recorded op produced: inputs and parameters.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>The leaf whose <see cref="Grad"/> receives this tensor's gradient: itself, or the leaf it is a <see cref="Share"/> of.</summary>
    public Tensor GradLeaf => leaf ?? this;

    /// <summary>
    /// A second handle on the same storage with the same autograd identity (same GradFn, or the same
    /// leaf). The graph keeps such handles for the tensors a backward rule needs, so the caller may
    /// dispose its own handle: the memory goes back when the last handle is disposed.
    /// </summary>
    public Tensor Share()
    {
        ThrowIfDisposed();
        return new Tensor(Storage, Offset, Shape)
        {
            requiresGrad = requiresGrad,
            GradFn = GradFn,
            leaf = GradFn is null && requiresGrad ? GradLeaf : null,
        };
    }

    /// <summary>A new handle on the same values that is outside every graph: a constant to autograd.</summary>
    public Tensor Detach()
    {
        ThrowIfDisposed();
        return new Tensor(Storage, Offset, Shape);
    }

    /// <summary>Drops the accumulated gradient (the next backward starts from nothing).</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }
}

/// <summary>
/// One recorded op on the autograd tape: where each input came from (the node that made it, or the
/// leaf itself), the tensors its backward rule needs (held as <see cref="Tensor.Share"/> handles),
/// and the rule that turns the gradient of the output into gradients of the inputs. The rule is
/// written with recorded ops (src/Autograd/Ops), so running it while recording builds the graph of
/// the backward pass itself: that is what makes gradients of gradients work.
/// </summary>
public sealed class GradNode
{
    /// <summary>Gradient of the output in, one gradient per input out (null where <see cref="NeedsGrad"/> is false).</summary>
    public delegate Tensor?[] BackwardRule(Tensor gradOutput, GradNode node);

    BackwardRule? rule;
    Tensor[] saved;

    public GradNode(string name, Tensor[] inputs, Tensor[] saved, BackwardRule rule)
    {
        Name = name;
        InputNodes = new GradNode?[inputs.Length];
        InputLeaves = new Tensor?[inputs.Length];
        InputShapes = new int[inputs.Length][];
        for (int i = 0; i < inputs.Length; i++)
        {
            InputShapes[i] = inputs[i].Shape;
            if (inputs[i].GradFn is { } producer) InputNodes[i] = producer;
            else if (inputs[i].RequiresGrad) InputLeaves[i] = inputs[i].GradLeaf;
        }
        this.saved = saved;
        this.rule = rule;
    }

    /// <summary>The op's name, used in every error message about this node.</summary>
    public string Name { get; }

    /// <summary>Per input: the node that produced it, or null (a leaf or a constant).</summary>
    public GradNode?[] InputNodes { get; }

    /// <summary>Per input: the leaf that requires grad, or null (a non-leaf or a constant).</summary>
    public Tensor?[] InputLeaves { get; }

    /// <summary>Per input: its shape (a gradient must have it).</summary>
    public int[][] InputShapes { get; }

    /// <summary>The tensors the backward rule reads (handles the node owns).</summary>
    public IReadOnlyList<Tensor> Saved => saved;

    /// <summary>
    /// Whether input <paramref name="i"/> needs a gradient in the backward pass now running: it requires grad,
    /// and (in <c>Autograd.Grad</c>) a wanted input lies behind it. A rule skips the others, so a gradient
    /// taken only with respect to a network's input (the penalty's dD/dx) computes no weight gradients.
    /// </summary>
    public bool NeedsGrad(int i) => (InputNodes[i] is not null || InputLeaves[i] is not null) && (wantedInputs?[i] ?? true);

    bool[]? wantedInputs;

    /// <summary>Runs the backward rule with <see cref="NeedsGrad"/> limited to the inputs marked in <paramref name="wanted"/>.</summary>
    public Tensor?[] Apply(Tensor gradOutput, bool[] wanted)
    {
        wantedInputs = wanted;
        try { return Apply(gradOutput); }
        finally { wantedInputs = null; }
    }

    /// <summary>True once a backward without retainGraph (or a scope) freed this node's saved tensors.</summary>
    public bool IsReleased => rule is null;

    /// <summary>Runs the backward rule; throws when the graph was already freed.</summary>
    public Tensor?[] Apply(Tensor gradOutput)
    {
        var r = rule ?? throw new InvalidOperationException(
            $"{Name}: the graph was already freed by an earlier backward (or by the TensorScope that recorded it); " +
            "pass retainGraph: true to the first Backward/Grad to run backward through it again");
        return r(gradOutput, this);
    }

    /// <summary>Frees the graph at this node: disposes the saved handles and forgets the rule.</summary>
    public void Release()
    {
        rule = null;
        foreach (var t in saved) t.Dispose();
        saved = [];
    }

    public override string ToString() => $"{Name}Backward";
}
