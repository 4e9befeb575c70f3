using Google.Protobuf;
using Onnx;

namespace NativeGan.Nn.Onnx;

/// <summary>A graph input or output: its name and declared shape (null where the file gives a symbolic or no size).</summary>
public sealed record OnnxValueInfo(string Name, IReadOnlyList<int?> Shape)
{
    public override string ToString() => $"{Name} [{string.Join(", ", Shape.Select(d => d?.ToString() ?? "?"))}]";
}

/// <summary>
/// A network read from an ONNX model file and computed by the engine's own ops: no ONNX runtime. Every node becomes
/// one or a few recorded ops of src/Autograd (<see cref="OnnxOperators"/>), on the cpu or a GPU device, so gradients
/// flow through the network (to its input, as style transfer needs, or to its weights when loaded trainable).
/// <para>The weights (float initializers) are this module's state under their ONNX names, split at dots into
/// children as PyTorch's state dicts are (<c>layer1.0.conv1.weight</c>): the weights and biases of Conv, Gemm and
/// MatMul and the scale and bias of BatchNormalization are parameters, everything else (running statistics,
/// constants such as a mean image) buffers. Loaded frozen by default (parameters do not require grad).</para>
/// <para>Checked at load time: the file parses as an ONNX model, the default-domain opset is at least 7 (numpy
/// broadcasting), every tensor's data fills its shape, every operator and attribute value is one this reader
/// computes exactly, and every node reads values defined before it. What cannot be known before the input's size
/// (an asymmetric padding's effect, a rank) is checked when the node runs. Every error is an
/// <see cref="OnnxModelException"/> naming the file and, for a node, its name and operator.</para>
/// <code>
/// using var net = OnnxModel.Load("resnet18.onnx", device);
/// using var features = net.Forward(images);                                   // the graph's one output
/// var taps = net.Run(new Dictionary&lt;string, Tensor&gt; { [net.Inputs[0].Name] = images }, ["relu1_1", "relu2_1"]);
/// </code>
/// </summary>
public sealed class OnnxModel : Module
{
    readonly List<OnnxStep> steps = [];
    readonly Dictionary<string, Tensor> constants = new(StringComparer.Ordinal); // float initializers and Constant values by ONNX name
    readonly Dictionary<string, int> producedBy = new(StringComparer.Ordinal);   // value name -> index of the step writing it

    /// <summary>The file this model was read from.</summary>
    public string File { get; }

    /// <summary>The producer named in the file (for example "CNTK 2.6" or "pytorch 1.13.1").</summary>
    public string Producer { get; }

    /// <summary>The file's ONNX IR version.</summary>
    public long IrVersion { get; }

    /// <summary>The opset of the default ONNX domain the file uses.</summary>
    public long Opset { get; }

    /// <summary>The graph inputs to feed (initializers listed as inputs by older exporters are not among them).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary>The graph outputs.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>Every value a node computes, in graph order: the names <see cref="Run"/> can return (layers to tap).</summary>
    public IReadOnlyList<string> ValueNames => [.. steps.SelectMany(s => s.Outputs)];

    /// <summary>How many nodes of each operator the graph has (Constant nodes included).</summary>
    public IReadOnlyDictionary<string, int> OperatorCounts { get; }

    OnnxModel(string file, ModelProto model, Device device, bool trainable)
    {
        File = file;
        Producer = $"{model.ProducerName} {model.ProducerVersion}".Trim();
        IrVersion = model.IrVersion;
        var graph = model.Graph ?? throw new OnnxModelException($"{file}: the model has no graph (not an ONNX model file?)");
        if (graph.Node.Count == 0) throw new OnnxModelException($"{file}: the graph has no nodes (not an ONNX model file, or an empty one?)");
        Opset = DefaultOpset(file, model);
        OperatorCounts = graph.Node.GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

        // Which initializers are trained weights in PyTorch's sense (parameters) and which are state (buffers).
        var parameterNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in graph.Node)
        {
            int[] weightInputs = n.OpType switch { "Conv" or "Gemm" => [1, 2], "MatMul" => [1], "BatchNormalization" => [1, 2], _ => [] };
            foreach (int i in weightInputs) if (i < n.Input.Count) parameterNames.Add(n.Input[i]);
        }

        var integers = new Dictionary<string, (int[] Shape, long[] Data)>(StringComparer.Ordinal);
        var defined = new HashSet<string>(StringComparer.Ordinal);
        void Define(string name, string what)
        {
            if (name.Length == 0) throw new OnnxModelException($"{file}: {what} has an empty name");
            if (!defined.Add(name)) throw new OnnxModelException($"{file}: the value '{name}' is defined twice (again by {what})");
        }
        var tree = new StateTree(this);
        foreach (var t in graph.Initializer)
        {
            string what = $"initializer '{t.Name}'";
            Define(t.Name, what);
            if (OnnxTensors.IsInteger(t)) integers[t.Name] = OnnxTensors.Integers(t, file, what);
            else AddConstant(t.Name, OnnxTensors.Float(t, file, what), parameterNames.Contains(t.Name), trainable, device, tree);
        }

        var initializerNames = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        Inputs = [.. graph.Input.Where(i => !initializerNames.Contains(i.Name)).Select(i => Describe(file, i, "input"))];
        if (Inputs.Count == 0) throw new OnnxModelException($"{file}: the graph has no inputs");
        foreach (var input in Inputs) Define(input.Name, $"graph input '{input.Name}'");

        for (int index = 0; index < graph.Node.Count; index++)
        {
            var proto = graph.Node[index];
            var node = new OnnxNode(proto, index, file, integers);
            if (proto.Domain is not ("" or "ai.onnx"))
                throw node.Error($"operator domain '{proto.Domain}' is not supported (the default ONNX domain only)");
            if (proto.OpType == "Constant")
            {
                var value = node.Tensor("value") ?? throw node.Error("has no 'value' tensor (value_float, value_ints, ... are not supported)");
                node.RefuseUnread();
                node.AtMostOutputs(1);
                string name = proto.Output.Count > 0 ? proto.Output[0] : "";
                Define(name, node.Where);
                if (OnnxTensors.IsInteger(value)) integers[name] = OnnxTensors.Integers(value, file, node.Where + " value");
                else AddConstant(name, OnnxTensors.Float(value, file, node.Where + " value"), parameter: false, trainable, device, tree);
                continue;
            }
            var step = OnnxOperators.Compile(node);
            foreach (var input in step.Inputs)
                if (!defined.Contains(input))
                    throw node.Error(integers.ContainsKey(input)
                        ? $"input '{input}' is an integer tensor, where float values are expected"
                        : $"input '{input}' is not a graph input, an initializer or the output of an earlier node (are the nodes in topological order?)");
            foreach (var output in step.Outputs)
            {
                Define(output, node.Where);
                producedBy[output] = steps.Count;
            }
            steps.Add(step);
        }

        Outputs = [.. graph.Output.Select(o => Describe(file, o, "output"))];
        foreach (var output in Outputs)
            if (!defined.Contains(output.Name) || integers.ContainsKey(output.Name))
                throw new OnnxModelException($"{file}: graph output '{output.Name}' is not a float value the graph computes");
    }

    /// <summary>
    /// Reads the ONNX model in <paramref name="path"/> with its weights on <paramref name="device"/> (default: cpu).
    /// <paramref name="trainable"/> leaves the parameters requiring grad (to fine-tune); by default they are frozen.
    /// Throws <see cref="OnnxModelException"/> for a file that is not a readable ONNX model or uses what this reader
    /// does not support, naming the file (and the node and operator).
    /// </summary>
    public static OnnxModel Load(string path, Device? device = null, bool trainable = false)
    {
        byte[] bytes;
        try { bytes = System.IO.File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxModelException($"{path}: cannot read the ONNX file: {e.Message}", e);
        }
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxModelException($"{path}: not a readable ONNX model (truncated, or not an ONNX protobuf file): {e.Message}", e);
        }
        return new OnnxModel(path, model, device ?? Device.Cpu, trainable);
    }

    static long DefaultOpset(string file, ModelProto model)
    {
        var entry = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")
            ?? throw new OnnxModelException($"{file}: the model imports no opset of the default ONNX domain");
        if (entry.Version < 7)
            throw new OnnxModelException($"{file}: opset {entry.Version} is older than 7, whose operators broadcast differently; re-export with opset 7 or later");
        return entry.Version;
    }

    static OnnxValueInfo Describe(string file, ValueInfoProto info, string what)
    {
        if (info.Name.Length == 0) throw new OnnxModelException($"{file}: a graph {what} has an empty name");
        var tensorType = info.Type?.TensorType;
        if (tensorType is null) return new(info.Name, []);
        if (tensorType.ElemType != (int)TensorProto.Types.DataType.Float)
            throw new OnnxModelException($"{file}: graph {what} '{info.Name}' has element type {OnnxTensors.TypeName(tensorType.ElemType)}; this reader computes in float32 (FLOAT) only");
        var dims = tensorType.Shape?.Dim.Select(d => d.HasDimValue && d.DimValue > 0 && d.DimValue <= int.MaxValue ? (int?)d.DimValue : null).ToArray() ?? [];
        return new(info.Name, dims);
    }

    void AddConstant(string name, (int[] Shape, float[] Data) value, bool parameter, bool trainable, Device device, StateTree tree)
    {
        // ONNX scalars have rank 0; the engine broadcasts [1] the same way.
        var tensor = Tensor.FromArray(value.Data, value.Shape.Length == 0 ? [1] : value.Shape, device);
        tree.Add(name, tensor, parameter);
        if (parameter && !trainable) tensor.RequiresGrad = false;
        constants[name] = tensor;
    }

    // ================================================================ running

    /// <summary>The graph's one output for its one input <paramref name="x"/> (for a graph with several, use <see cref="Run"/>).</summary>
    public override Tensor Forward(Tensor x)
    {
        if (Inputs.Count != 1 || Outputs.Count != 1)
            throw new OnnxModelException($"{File}: the graph has {Inputs.Count} inputs and {Outputs.Count} outputs; Forward needs one of each, use Run");
        var result = Run(new Dictionary<string, Tensor> { [Inputs[0].Name] = x }, [Outputs[0].Name]);
        return result[Outputs[0].Name];
    }

    /// <summary>
    /// The values named <paramref name="outputs"/> (graph outputs or any value in <see cref="ValueNames"/>: the layers to
    /// tap) for the graph inputs <paramref name="inputs"/>. Only the nodes those values depend on run, and every
    /// intermediate is disposed as soon as the last node that reads it has run. Any batch size is accepted; the other
    /// dimensions must match the declared ones, or only the channels (axis 1) with <paramref name="anyImageSize"/>: a
    /// convolutional network runs at any height and width (the declared ones are the exporter's example), though a
    /// node with fixed sizes (a pooling window, a constant image) may then refuse.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IEnumerable<string> outputs, bool anyImageSize = false)
    {
        var wanted = outputs.Distinct(StringComparer.Ordinal).ToList();
        CheckInputs(inputs, anyImageSize ? 2 : int.MaxValue);
        var values = new Dictionary<string, Tensor>(constants, StringComparer.Ordinal);
        foreach (var (name, t) in inputs) values[name] = t;
        foreach (var name in wanted)
            if (!values.ContainsKey(name) && !producedBy.ContainsKey(name))
                throw new OnnxModelException($"{File}: there is no value '{name}' to return (ValueNames lists the {producedBy.Count} values the nodes compute)");

        // The steps the wanted values depend on, and each value's last reader among them.
        var needed = new bool[steps.Count];
        var pending = new Stack<string>(wanted);
        while (pending.TryPop(out var name))
            if (producedBy.TryGetValue(name, out int s) && !needed[s])
            {
                needed[s] = true;
                foreach (var input in steps[s].Inputs) pending.Push(input);
            }
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < steps.Count; s++)
            if (needed[s]) foreach (var input in steps[s].Inputs) lastUse[input] = s;
        var keep = new HashSet<string>(wanted, StringComparer.Ordinal);
        keep.UnionWith(values.Keys); // the caller's inputs and the module's constants are never disposed here

        try
        {
            for (int s = 0; s < steps.Count; s++)
            {
                if (!needed[s]) continue;
                var step = steps[s];
                var args = step.Inputs.Select(name => values[name]).ToArray();
                Tensor[] results;
                try { results = step.Compute(args); }
                catch (Exception e) when (e is TensorShapeException or ArgumentException)
                {
                    throw new OnnxModelException($"{step.Where}: {e.Message}", e);
                }
                for (int k = 0; k < results.Length; k++)
                {
                    // A node must hand out its own handle: the input's is disposed after its last reader.
                    if (args.Any(a => ReferenceEquals(a, results[k]))) results[k] = Ops.Reshape(results[k], results[k].Shape);
                    values[step.Outputs[k]] = results[k];
                    if (!keep.Contains(step.Outputs[k]) && !lastUse.ContainsKey(step.Outputs[k])) results[k].Dispose();
                }
                foreach (var name in step.Inputs.Distinct())
                    if (lastUse.TryGetValue(name, out int last) && last == s && !keep.Contains(name)) values[name].Dispose();
            }
        }
        catch
        {
            foreach (var (name, t) in values) if (!keep.Contains(name)) t.Dispose();
            throw;
        }
        return wanted.ToDictionary(name => name, name => values[name], StringComparer.Ordinal);
    }

    void CheckInputs(IReadOnlyDictionary<string, Tensor> inputs, int freeFromAxis)
    {
        foreach (var name in inputs.Keys)
            if (!Inputs.Any(i => i.Name == name))
                throw new OnnxModelException($"{File}: '{name}' is not a graph input (the inputs: {string.Join(", ", Inputs)})");
        foreach (var input in Inputs)
        {
            if (!inputs.TryGetValue(input.Name, out var t))
                throw new OnnxModelException($"{File}: graph input {input} is not given");
            bool fits = input.Shape.Count == 0
                || (t.Rank == input.Shape.Count && Enumerable.Range(1, t.Rank - 1).All(d => d >= freeFromAxis || input.Shape[d] is not { } size || size == t.Dim(d)));
            if (!fits)
                throw new OnnxModelException($"{File}: graph input {input} was given a tensor of shape {Shapes.Format(t.Shape)} (any batch size; the other dimensions as declared)");
        }
    }

    /// <summary>
    /// The module tree that gives each ONNX weight its dotted name: "layer1.0.conv1.weight" becomes the tensor "weight" of
    /// the child "conv1" of the child "0" of the child "layer1", as in PyTorch. A name that cannot be split so (an empty
    /// part, or a part that is both a tensor and a child) is kept whole with its dots turned into underscores.
    /// </summary>
    sealed class StateTree(OnnxModel root)
    {
        readonly Dictionary<string, Scope> scopes = new(StringComparer.Ordinal);
        readonly HashSet<string> tensorPaths = new(StringComparer.Ordinal);

        public void Add(string name, Tensor tensor, bool parameter)
        {
            var parts = name.Split('.');
            bool splittable = parts.All(p => p.Length > 0)
                && !Enumerable.Range(1, parts.Length - 1).Any(k => tensorPaths.Contains(string.Join('.', parts[..k])))
                && !scopes.ContainsKey(name);
            if (!splittable || parts.Length == 1)
            {
                var flat = name.Replace('.', '_');
                if (flat.Length == 0) flat = "_";
                while (tensorPaths.Contains(flat) || scopes.ContainsKey(flat)) flat += "_";
                tensorPaths.Add(flat);
                Register(root, flat, tensor, parameter);
                return;
            }
            Module parent = root;
            for (int k = 1; k < parts.Length; k++)
            {
                var path = string.Join('.', parts[..k]);
                if (!scopes.TryGetValue(path, out var scope))
                {
                    scope = new Scope();
                    scopes[path] = scope;
                    if (parent is Scope p) p.AddChild(parts[k - 1], scope); else root.AddChild(parts[k - 1], scope);
                }
                parent = scope;
            }
            tensorPaths.Add(name);
            Register(parent, parts[^1], tensor, parameter);
        }

        static void Register(Module owner, string name, Tensor tensor, bool parameter)
        {
            switch (owner)
            {
                case Scope s: s.AddTensor(name, tensor, parameter); break;
                case OnnxModel m: m.AddTensor(name, tensor, parameter); break;
            }
        }
    }

    void AddTensor(string name, Tensor tensor, bool parameter)
    {
        if (parameter) RegisterParameter(name, tensor); else RegisterBuffer(name, tensor);
    }

    void AddChild(string name, Module child) => RegisterModule(name, child);

    /// <summary>A level of dotted weight names: holds tensors and children, computes nothing.</summary>
    sealed class Scope : Module
    {
        public void AddTensor(string name, Tensor tensor, bool parameter)
        {
            if (parameter) RegisterParameter(name, tensor); else RegisterBuffer(name, tensor);
        }

        public void AddChild(string name, Module child) => RegisterModule(name, child);

        public override Tensor Forward(Tensor x) => throw new InvalidOperationException("a level of an ONNX model's weight names computes nothing; call the OnnxModel");
    }
}
