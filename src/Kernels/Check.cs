namespace NativeGan;

/// <summary>A tensor's shape does not fit an op. The message names the op and the shapes.</summary>
public sealed class TensorShapeException(string message) : ArgumentException(message);

/// <summary>Shape arithmetic shared by every op.</summary>
public static class Shapes
{
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        if (n > int.MaxValue) throw new TensorShapeException($"shape {Format(shape)} has {n} elements, more than {int.MaxValue}");
        return (int)n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public static void Validate(string op, int[] shape)
    {
        foreach (var d in shape)
            if (d < 0) throw new TensorShapeException($"{op}: negative size in shape {Format(shape)}");
    }

    /// <summary>Resolves a reshape target (one -1 allowed) against the current shape.</summary>
    public static int[] Resolve(string op, int[] current, int[] target)
    {
        int total = Numel(current), known = 1, infer = -1;
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == -1)
            {
                if (infer >= 0) throw new TensorShapeException($"{op}: more than one -1 in {Format(target)}");
                infer = i;
            }
            else if (target[i] < 0) throw new TensorShapeException($"{op}: negative size in {Format(target)}");
            else known *= target[i];
        }
        var result = (int[])target.Clone();
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0)
                throw new TensorShapeException($"{op}: cannot view shape {Format(current)} as {Format(target)}");
            result[infer] = total / known;
        }
        if (Numel(result) != total)
            throw new TensorShapeException($"{op}: cannot view shape {Format(current)} ({total} elements) as {Format(target)} ({Numel(result)} elements)");
        return result;
    }

    /// <summary>The numpy broadcast of two shapes, or an exception naming the op and both shapes.</summary>
    public static int[] Broadcast(string op, int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new TensorShapeException($"{op}: shapes {Format(a)} and {Format(b)} do not broadcast (axis {i}: {da} vs {db})");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    public static bool Equal(int[] a, int[] b) => a.AsSpan().SequenceEqual(b);
}

/// <summary>The argument checks every op makes, each naming the op in its message.</summary>
public static class Check
{
    public static void SameDevice(string op, params Tensor[] tensors)
    {
        for (int i = 1; i < tensors.Length; i++)
            if (tensors[i].Device != tensors[0].Device)
                throw new ArgumentException(
                    $"{op}: tensors are on different devices ({string.Join(", ", tensors.Select(t => $"{Shapes.Format(t.Shape)} on {t.Device.Name}"))}); move them with To(device)");
    }

    public static void SameShape(string op, Tensor a, Tensor b)
    {
        if (!Shapes.Equal(a.Shape, b.Shape))
            throw new TensorShapeException($"{op}: shapes {Shapes.Format(a.Shape)} and {Shapes.Format(b.Shape)} differ");
    }

    public static void Shape(string op, string name, Tensor t, params int[] expected)
    {
        if (!Shapes.Equal(t.Shape, expected))
            throw new TensorShapeException($"{op}: {name} has shape {Shapes.Format(t.Shape)}, expected {Shapes.Format(expected)}");
    }

    public static void Rank(string op, string name, Tensor t, int rank)
    {
        if (t.Rank != rank)
            throw new TensorShapeException($"{op}: {name} must have {rank} axes, got shape {Shapes.Format(t.Shape)}");
    }

    public static void NotEmpty(string op, string name, Tensor t)
    {
        if (t.Length == 0) throw new TensorShapeException($"{op}: {name} is empty (shape {Shapes.Format(t.Shape)})");
    }
}
