namespace NativeGan;

/// <summary>
/// The tape: reverse-mode automatic differentiation over a graph recorded as ops run (define by run).
///
/// <para>Recording. Every op in <see cref="Ops"/> computes its result with the raw kernels of src/Kernels
/// and then calls <see cref="Record"/>: when gradients are enabled and some input requires grad, the
/// result gets a <see cref="GradNode"/> that points at the inputs' nodes (or leaves), keeps handles on
/// the tensors its backward rule needs, and holds the rule.</para>
///
/// <para>Backward. <see cref="Backward"/> and <see cref="Grad"/> order the nodes so each runs only after
/// every consumer of its output has handed back a gradient (Kahn's algorithm with an explicit queue: no
/// recursion, so deep graphs cannot overflow the stack), then run the rules from the output back to the
/// leaves, summing gradients where a tensor was used twice. The rules are written with the same recorded
/// ops, so with <c>createGraph: true</c> the backward pass is itself recorded and can be differentiated
/// again (the gradient penalty of WGAN-GP, R1).</para>
///
/// <para>Memory. Each tensor handle has one owner who disposes it: the caller (or a <see cref="TensorScope"/>)
/// for op results, the node for the handles it saved, the engine for the gradients in flight. Freeing the
/// graph (after a backward without retainGraph) disposes the nodes' handles, so the storage goes back
/// as soon as the caller's handles are gone too.</para>
/// </summary>
public static class Autograd
{
    [ThreadStatic] static int noGradDepth;

    /// <summary>True when ops record graph nodes on this thread (not inside <see cref="NoGrad"/>).</summary>
    public static bool IsGradEnabled => noGradDepth == 0;

    /// <summary>Within <c>using (Autograd.NoGrad()) { ... }</c> no op records a node (evaluation, optimizer updates).</summary>
    public static IDisposable NoGrad() => new GradMode(enable: false);

    /// <summary>Sets recording on or off for a block (the engine uses it: recording iff createGraph).</summary>
    internal static IDisposable SetGradEnabled(bool enable) => new GradMode(enable);

    sealed class GradMode : IDisposable
    {
        readonly int saved;
        public GradMode(bool enable)
        {
            saved = noGradDepth;
            noGradDepth = enable ? 0 : noGradDepth + 1;
        }
        public void Dispose() => noGradDepth = saved;
    }

    // ================================================================ recording

    /// <summary>
    /// Records <paramref name="output"/> as the result of op <paramref name="name"/> on <paramref name="inputs"/>
    /// when recording is on and an input requires grad; <paramref name="save"/> are the tensors the rule will
    /// read (as <c>node.Saved[i]</c>, in this order, followed by the output when <paramref name="saveOutput"/>).
    /// The output is handed to the current <see cref="TensorScope"/> either way. Returns <paramref name="output"/>.
    /// </summary>
    public static Tensor Record(string name, Tensor output, Tensor[] inputs, GradNode.BackwardRule backward,
        Tensor[]? save = null, bool saveOutput = false)
    {
        TensorScope.Track(output);
        if (!IsGradEnabled || !inputs.Any(t => t.RequiresGrad)) return output;
        save ??= [];
        var saved = new Tensor[save.Length + (saveOutput ? 1 : 0)];
        for (int i = 0; i < save.Length; i++) saved[i] = save[i].Share();
        var node = new GradNode(name, inputs, saved, backward);
        output.GradFn = node;
        if (saveOutput) saved[^1] = output.Share(); // after GradFn is set: the handle is the output, node and all
        TensorScope.Track(node);
        return output;
    }

    // ================================================================ backward

    /// <summary>
    /// Accumulates d(this)/d(leaf) into <c>leaf.Grad</c> for every leaf that requires grad.
    /// <paramref name="gradOutput"/> is the gradient of a non-scalar output (ones for a scalar when null).
    /// The graph is freed afterwards unless <paramref name="retainGraph"/>; with <paramref name="createGraph"/>
    /// the gradients are themselves recorded (and the graph kept).
    /// </summary>
    public static void Backward(this Tensor output, Tensor? gradOutput = null, bool retainGraph = false, bool createGraph = false)
    {
        var grads = Run("Backward", [output], gradOutput is null ? null : [gradOutput], inputs: null, createGraph, retainGraph || createGraph);
        foreach (var (leaf, g) in grads) AccumulateIntoGrad(leaf, g, createGraph);
    }

    /// <summary>
    /// The gradients of the sum of <paramref name="outputs"/> (weighted by <paramref name="gradOutputs"/>) with
    /// respect to <paramref name="inputs"/>, returned without touching any <c>.Grad</c>; like torch.autograd.grad.
    /// With <paramref name="createGraph"/> the results are recorded, so a loss built from them can be
    /// differentiated again. <paramref name="retainGraph"/> defaults to <paramref name="createGraph"/> (as in
    /// PyTorch): the second backward of a penalty goes back through the first graph. An input the outputs
    /// do not depend on is an error, or, with <paramref name="allowUnused"/>, gets a gradient of zeros.
    /// </summary>
    public static Tensor[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor[]? gradOutputs = null,
        bool createGraph = false, bool? retainGraph = null, bool allowUnused = false)
    {
        foreach (var t in inputs)
            if (!t.RequiresGrad)
                throw new InvalidOperationException($"Grad: input {Shapes.Format(t.Shape)} does not require grad; set RequiresGrad = true before the forward pass");
        var grads = Run("Grad", outputs, gradOutputs, inputs, createGraph, retainGraph ?? createGraph);
        var result = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!grads.TryGetValue(Key(inputs[i]), out var g))
            {
                if (allowUnused) { result[i] = TensorScope.Track(Tensor.Zeros(inputs[i].Device, inputs[i].Shape)); continue; }
                throw new InvalidOperationException($"Grad: input {i} {Shapes.Format(inputs[i].Shape)} was not used to compute the outputs (pass allowUnused: true for zeros)");
            }
            result[i] = TensorScope.Track(i > 0 && Array.IndexOf(result, g, 0, i) >= 0 ? g.Share() : g);
        }
        return result;
    }

    /// <summary>What a gradient is keyed by: the node that made a tensor, or the leaf it stands for.</summary>
    static object Key(Tensor t) => (object?)t.GradFn ?? t.GradLeaf;

    static void AccumulateIntoGrad(object key, Tensor g, bool createGraph)
    {
        var leaf = (Tensor)key;
        if (leaf.Grad is null)
        {
            // The engine's handle may share storage with another gradient (add passes its gradient to
            // both inputs); a leaf gets memory of its own so an optimizer may update .Grad in place.
            leaf.Grad = createGraph ? g : g.Clone();
            if (!createGraph) g.Dispose();
        }
        else if (createGraph || leaf.Grad.GradFn is not null)
        {
            var old = leaf.Grad;
            using (SetGradEnabled(createGraph)) leaf.Grad = AddOwned(old, g);
            old.Dispose();
            g.Dispose();
        }
        else
        {
            Elementwise.BinaryInto(BinaryOp.Add, leaf.Grad, g, leaf.Grad); // accumulate in place
            g.Dispose();
        }
    }

    /// <summary>
    /// The engine. Returns the total gradient per wanted key: per leaf (for Backward: every leaf reached),
    /// or per input (its node or leaf). The returned handles belong to the caller.
    /// </summary>
    static Dictionary<object, Tensor> Run(string op, Tensor[] outputs, Tensor[]? gradOutputs, Tensor[]? inputs,
        bool createGraph, bool retainGraph)
    {
        // ---- check the arguments
        if (outputs.Length == 0) throw new ArgumentException($"{op}: no outputs given");
        if (gradOutputs is not null && gradOutputs.Length != outputs.Length)
            throw new ArgumentException($"{op}: {outputs.Length} outputs but {gradOutputs.Length} gradOutputs");
        for (int i = 0; i < outputs.Length; i++)
        {
            var y = outputs[i];
            if (!y.RequiresGrad)
                throw new InvalidOperationException(
                    $"{op}: the output {Shapes.Format(y.Shape)} does not require grad: no op on a tensor that requires grad " +
                    "recorded it (were its inputs' RequiresGrad false, or was it computed inside Autograd.NoGrad()?)");
            var g = gradOutputs?[i];
            if (g is null && y.Length != 1)
                throw new InvalidOperationException(
                    $"{op}: the output of {y.GradFn?.Name ?? "a leaf"} has shape {Shapes.Format(y.Shape)}; a gradOutput is needed for a non-scalar output");
            if (g is not null)
            {
                Check.SameDevice($"{op} of {y.GradFn?.Name ?? "a leaf"}", y, g);
                if (!Shapes.Equal(g.Shape, y.Shape))
                    throw new TensorShapeException($"{op}: gradOutput has shape {Shapes.Format(g.Shape)}, the output of {y.GradFn?.Name ?? "a leaf"} has shape {Shapes.Format(y.Shape)}");
            }
        }

        var pending = new Dictionary<GradNode, Tensor>(ReferenceEqualityComparer.Instance); // gradient of each node's output, summed so far
        var leafGrads = new Dictionary<object, Tensor>(ReferenceEqualityComparer.Instance);  // gradient of each leaf, summed so far
        using var recording = SetGradEnabled(createGraph);

        // ---- seed: the gradient of each output (ones for a scalar)
        for (int i = 0; i < outputs.Length; i++)
        {
            var y = outputs[i];
            var g = gradOutputs?[i] is { } given ? given.Share() : Tensor.Ones(y.Device, y.Shape);
            if (y.GradFn is { } node) Accumulate(pending, node, g);
            else Accumulate(leafGrads, y.GradLeaf, g);
        }

        // ---- order: count, for each node, how many edges from nodes in the graph lead to it
        var consumers = new Dictionary<GradNode, int>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<GradNode>(pending.Keys);
        foreach (var n in pending.Keys) consumers[n] = 0;
        while (stack.Count > 0)
            foreach (var input in stack.Pop().InputNodes)
            {
                if (input is null) continue;
                if (consumers.TryGetValue(input, out int c)) consumers[input] = c + 1;
                else { consumers[input] = 1; stack.Push(input); }
            }
        // Kahn: a node is ready once all its consumers have run.
        var order = new List<GradNode>(consumers.Count);
        var ready = new Queue<GradNode>(consumers.Where(kv => kv.Value == 0).Select(kv => kv.Key));
        while (ready.Count > 0)
        {
            var n = ready.Dequeue();
            order.Add(n);
            foreach (var input in n.InputNodes)
                if (input is not null && --consumers[input] == 0) ready.Enqueue(input);
        }

        // ---- prune (Grad only): run a node only if some wanted input lies behind it, and have its rule compute
        // only the gradients of the inputs that lead there (dD/dx needs no weight gradients)
        HashSet<object>? wanted = inputs is null ? null : new(inputs.Select(Key), ReferenceEqualityComparer.Instance);
        var useful = new Dictionary<GradNode, bool[]>(ReferenceEqualityComparer.Instance); // node -> which of its inputs lead on
        for (int k = order.Count - 1; k >= 0; k--) // inputs come later in the order than their consumers
        {
            var n = order[k];
            var leadsOn = new bool[n.InputNodes.Length];
            for (int i = 0; i < leadsOn.Length; i++)
                leadsOn[i] = n.InputNodes[i] is { } m ? useful.ContainsKey(m) || (wanted?.Contains(m) ?? false)
                           : n.InputLeaves[i] is { } l && (wanted?.Contains(l) ?? true);
            if (leadsOn.Contains(true)) useful[n] = leadsOn;
        }

        // ---- run the rules, outputs first
        var result = new Dictionary<object, Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var n in order)
        {
            if (!pending.Remove(n, out var g)) continue; // no gradient reached it
            if (wanted is not null && wanted.Contains(n)) result[n] = g.Share();
            if (useful.TryGetValue(n, out var leadsOn))
            {
                Tensor?[] grads;
                using (var scope = new TensorScope(ownsNodes: false)) // frees what the rule made but did not return
                {
                    grads = n.Apply(g, leadsOn);
                    if (grads.Length != n.InputNodes.Length)
                        throw new InvalidOperationException($"{n.Name}: the backward rule returned {grads.Length} gradients for {n.InputNodes.Length} inputs");
                    for (int i = 0; i < grads.Length; i++)
                    {
                        if (grads[i] is not { } gi || !leadsOn[i]) continue;
                        if (!Shapes.Equal(gi.Shape, n.InputShapes[i]))
                            throw new InvalidOperationException($"{n.Name}: the backward rule returned a gradient of shape {Shapes.Format(gi.Shape)} for input {i} of shape {Shapes.Format(n.InputShapes[i])}");
                        var own = gi.Share(); // the engine's handle; the scope disposes the rule's
                        if (n.InputNodes[i] is { } m) Accumulate(pending, m, own);
                        else Accumulate(leafGrads, n.InputLeaves[i]!, own);
                    }
                }
                if (!retainGraph) n.Release();
            }
            g.Dispose();
        }
        foreach (var g in pending.Values) g.Dispose();

        foreach (var (leaf, g) in leafGrads)
        {
            if (wanted is null || wanted.Contains(leaf)) result[leaf] = g;
            else g.Dispose();
        }
        return result;
    }

    /// <summary>Adds <paramref name="g"/> into the running sum for <paramref name="key"/>, taking ownership of it.</summary>
    static void Accumulate<TKey>(Dictionary<TKey, Tensor> sums, TKey key, Tensor g) where TKey : notnull
    {
        if (!sums.TryGetValue(key, out var sum)) { sums[key] = g; return; }
        sums[key] = AddOwned(sum, g); // recorded when creating a graph
        sum.Dispose();
        g.Dispose();
    }

    /// <summary>a + b as a handle the engine owns (not handed to the current scope).</summary>
    static Tensor AddOwned(Tensor a, Tensor b)
    {
        var sum = Ops.Add(a, b);
        TensorScope.Untrack(sum);
        return sum;
    }
}
