using Onnx;

namespace NativeGan.Nn.Onnx;

/// <summary>
/// One node of an ONNX graph while it is being compiled: its typed attributes (a wrong type or an attribute the
/// operator's translation does not know is refused, not ignored), its inputs, the integer constants it may read
/// (shapes, split sizes) and errors that name the file, the node and its operator.
/// </summary>
sealed class OnnxNode
{
    readonly NodeProto proto;
    readonly IReadOnlyDictionary<string, (int[] Shape, long[] Data)> integers;
    readonly HashSet<string> read = new(StringComparer.Ordinal);

    public OnnxNode(NodeProto proto, int index, string file, IReadOnlyDictionary<string, (int[] Shape, long[] Data)> integers)
    {
        this.proto = proto;
        this.integers = integers;
        File = file;
        Name = proto.Name.Length > 0 ? proto.Name : $"#{index}" + (proto.Output.Count > 0 ? $" -> {proto.Output[0]}" : "");
        Where = $"{file}: node '{Name}' ({proto.OpType})";
    }

    public string File { get; }
    public string Name { get; }
    public string OpType => proto.OpType;

    /// <summary>"FILE: node 'NAME' (OP)": the start of every message about this node.</summary>
    public string Where { get; }

    public IReadOnlyList<string> Inputs => proto.Input;
    public IReadOnlyList<string> Outputs => proto.Output;

    public OnnxModelException Error(string message) => new($"{Where}: {message}");

    AttributeProto? Find(string name, AttributeProto.Types.AttributeType type)
    {
        read.Add(name);
        var a = proto.Attribute.FirstOrDefault(x => x.Name == name);
        if (a is null) return null;
        // Files written before IR 3 may leave the type unset; the field that holds a value then tells.
        if (a.Type != type && a.Type != AttributeProto.Types.AttributeType.Undefined)
            throw Error($"attribute '{name}' is {a.Type}, expected {type}");
        return a;
    }

    public long Int(string name, long fallback) => Find(name, AttributeProto.Types.AttributeType.Int)?.I ?? fallback;

    public float Float(string name, float fallback) => Find(name, AttributeProto.Types.AttributeType.Float)?.F ?? fallback;

    public long[]? Ints(string name) => Find(name, AttributeProto.Types.AttributeType.Ints)?.Ints.ToArray();

    public string? Text(string name) => Find(name, AttributeProto.Types.AttributeType.String)?.S.ToStringUtf8();

    public TensorProto? Tensor(string name) => Find(name, AttributeProto.Types.AttributeType.Tensor)?.T;

    /// <summary>Refuses any attribute the translation did not read (it would change the result unnoticed).</summary>
    public void RefuseUnread()
    {
        foreach (var a in proto.Attribute)
            if (!read.Contains(a.Name))
                throw Error($"attribute '{a.Name}' is not supported by this reader");
    }

    /// <summary>The name of input <paramref name="i"/>, which must be present.</summary>
    public string Input(int i)
    {
        if (i >= proto.Input.Count || proto.Input[i].Length == 0)
            throw Error($"needs input {i}, but the node has {proto.Input.Count} inputs");
        return proto.Input[i];
    }

    /// <summary>The name of optional input <paramref name="i"/>, or null when it is absent or empty.</summary>
    public string? OptionalInput(int i) => i < proto.Input.Count && proto.Input[i].Length > 0 ? proto.Input[i] : null;

    /// <summary>Input <paramref name="i"/> as integer constants (an initializer or a Constant node's value).</summary>
    public long[] ConstantIntegers(int i)
    {
        var name = Input(i);
        if (!integers.TryGetValue(name, out var value))
            throw Error($"input {i} ('{name}') must be a constant integer tensor (an initializer or a Constant): shapes computed at run time are not supported");
        return value.Data;
    }

    /// <summary>Refuses more than <paramref name="count"/> outputs (the optional extra outputs of training-mode operators).</summary>
    public void AtMostOutputs(int count)
    {
        for (int i = count; i < proto.Output.Count; i++)
            if (proto.Output[i].Length > 0)
                throw Error($"output {i} ('{proto.Output[i]}') is not supported (inference reads only the first {count})");
    }
}
