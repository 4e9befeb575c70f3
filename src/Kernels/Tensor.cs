using ILGPU;

namespace NativeGan;

/// <summary>
/// A float32 tensor: a shape (NCHW for images) over contiguous storage on one device.
/// Views (<see cref="Reshape"/>, <see cref="SliceBatch"/>) share the storage. The autograd slots
/// (<c>RequiresGrad</c>, <c>Grad</c>, <c>GradFn</c>) live in <c>Tensor.Autograd.cs</c>.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    int disposed;

    Tensor(Storage storage, long offset, int[] shape)
    {
        Storage = storage;
        Offset = offset;
        Shape = shape;
        Length = Shapes.Numel(shape);
        storage.AddReference();
    }

    /// <summary>The sizes of the axes, outermost first. Do not modify.</summary>
    public int[] Shape { get; }

    public int Rank => Shape.Length;

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    public Device Device => Storage.Device;

    public Storage Storage { get; }

    /// <summary>Where this tensor starts in its storage, in floats.</summary>
    public long Offset { get; }

    /// <summary>Size of axis <paramref name="axis"/>; negative counts from the end.</summary>
    public int Dim(int axis) => Shape[axis < 0 ? Rank + axis : axis];

    // ---------------------------------------------------------------- creation

    /// <summary>An uninitialised tensor (on the GPU its memory comes from the pool).</summary>
    public static Tensor Empty(Device device, params int[] shape)
    {
        Shapes.Validate("Tensor.Empty", shape);
        return new Tensor(device.Allocate(Math.Max(1, Shapes.Numel(shape))), 0, (int[])shape.Clone());
    }

    /// <summary>An uninitialised tensor of the same shape and device as <paramref name="like"/>.</summary>
    public static Tensor EmptyLike(Tensor like) => Empty(like.Device, like.Shape);

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray(float[] data, int[] shape, Device? device = null)
    {
        Shapes.Validate("Tensor.FromArray", shape);
        if (Shapes.Numel(shape) != data.Length)
            throw new TensorShapeException($"Tensor.FromArray: {data.Length} values do not fill shape {Shapes.Format(shape)} ({Shapes.Numel(shape)} elements)");
        var t = Empty(device ?? Device.Cpu, shape);
        t.Device.CopyIn(data, t.Storage, t.Offset);
        return t;
    }

    /// <summary>A scalar (shape [1]).</summary>
    public static Tensor Scalar(float value, Device? device = null) => FromArray([value], [1], device);

    public static Tensor Full(Device device, float value, params int[] shape)
    {
        var t = Empty(device, shape);
        Elementwise.Fill(t, value);
        return t;
    }

    public static Tensor Zeros(Device device, params int[] shape) => Full(device, 0f, shape);

    public static Tensor Ones(Device device, params int[] shape) => Full(device, 1f, shape);

    // ---------------------------------------------------------------- reading

    /// <summary>Copies the values to a new host array (waits for queued work).</summary>
    public float[] ToArray()
    {
        ThrowIfDisposed();
        var result = new float[Length];
        Device.CopyOut(Storage, Offset, result);
        return result;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (Length != 1)
            throw new TensorShapeException($"Tensor.Item: needs one element, the tensor has shape {Shapes.Format(Shape)}");
        return ToArray()[0];
    }

    /// <summary>
    /// The values of several one-element tensors on one device with a single read back: gathered on the device by copies
    /// (no kernels), then copied out once, so a training step that logs five numbers waits for the device once, not five
    /// times (and a captured step has one place where it must stop).
    /// </summary>
    public static float[] Items(IReadOnlyList<Tensor> scalars)
    {
        if (scalars.Count == 0) return [];
        var device = scalars[0].Device;
        foreach (var t in scalars)
        {
            t.ThrowIfDisposed();
            if (t.Length != 1) throw new TensorShapeException($"Tensor.Items: every tensor needs one element, got shape {Shapes.Format(t.Shape)}");
            if (!ReferenceEquals(t.Device, device)) throw new ArgumentException($"Tensor.Items: the tensors are on {device.Name} and {t.Device.Name}; read them per device");
        }
        if (scalars.Count == 1) return [scalars[0].Item()];
        using var gathered = Empty(device, scalars.Count);
        for (int i = 0; i < scalars.Count; i++) device.Copy(scalars[i].Storage, scalars[i].Offset, gathered.Storage, gathered.Offset + i, 1);
        return gathered.ToArray();
    }

    // ---------------------------------------------------------------- views and copies

    /// <summary>
    /// A view with another shape and the same elements; one axis may be -1 (inferred). This raw view is
    /// not recorded by autograd, so it refuses tensors that take part in a graph (gradients would stop
    /// silently there): use <c>Ops.Reshape</c> / <c>Flatten</c> for those, or <c>Detach()</c> first.
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        if (RequiresGrad || GradFn is not null)
            throw new InvalidOperationException(
                $"Reshape: the tensor of shape {Shapes.Format(Shape)} takes part in an autograd graph and a raw view would cut its gradient; " +
                "use Ops.Reshape(x, ...) or x.Flatten() (recorded), or x.Detach().Reshape(...) for a constant view");
        return ViewAs(shape);
    }

    /// <summary>The raw reshape view, for kernels and for the recorded <c>Ops.Reshape</c>.</summary>
    internal Tensor ViewAs(params int[] shape)
    {
        ThrowIfDisposed();
        var resolved = Shapes.Resolve("Reshape", Shape, shape);
        return new Tensor(Storage, Offset, resolved);
    }

    /// <summary>A view of samples <paramref name="start"/> .. start+count-1 along axis 0.</summary>
    public Tensor SliceBatch(int start, int count)
    {
        ThrowIfDisposed();
        if (Rank == 0 || start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start),
                $"SliceBatch: rows {start}..{start + count - 1} are outside shape {Shapes.Format(Shape)}");
        var shape = (int[])Shape.Clone();
        shape[0] = count;
        return new Tensor(Storage, Offset + (long)start * (Length / Math.Max(1, Shape[0])), shape);
    }

    /// <summary>A copy on <paramref name="device"/> (or this tensor's copy when already there: a new tensor either way).</summary>
    public Tensor To(Device device)
    {
        ThrowIfDisposed();
        if (device == Device) return Clone();
        var host = ToArray();
        return FromArray(host, Shape, device);
    }

    /// <summary>A copy on the same device, with its own storage.</summary>
    public Tensor Clone()
    {
        ThrowIfDisposed();
        var copy = EmptyLike(this);
        if (Length > 0) Device.Copy(Storage, Offset, copy.Storage, copy.Offset, Length);
        return copy;
    }

    /// <summary>Overwrites this tensor's values with <paramref name="source"/>'s (same shape, same device).</summary>
    public void CopyFrom(Tensor source)
    {
        Check.SameDevice("CopyFrom", this, source);
        Check.SameShape("CopyFrom", this, source);
        if (Length > 0) Device.Copy(source.Storage, source.Offset, Storage, Offset, Length);
    }

    // ---------------------------------------------------------------- raw access for kernels

    /// <summary>The values in place, for managed kernels; cpu tensors only.</summary>
    public Span<float> AsSpan()
    {
        ThrowIfDisposed();
        if (Storage is not CpuStorage cpu)
            throw new InvalidOperationException($"AsSpan: the tensor lives on {Device.Name}; only cpu tensors expose a span (use ToArray)");
        return cpu.Data.AsSpan((int)Offset, Length);
    }

    /// <summary>The backing array and the offset of element 0 (cpu tensors only), for Parallel.For kernels.</summary>
    public (float[] Array, int Offset) CpuBuffer
    {
        get
        {
            ThrowIfDisposed();
            if (Storage is not CpuStorage cpu)
                throw new InvalidOperationException($"CpuBuffer: the tensor lives on {Device.Name}");
            return (cpu.Data, (int)Offset);
        }
    }

    /// <summary>The values as an ILGPU view, for GPU kernels; ILGPU-device tensors only.</summary>
    public ArrayView<float> View
    {
        get
        {
            ThrowIfDisposed();
            if (Storage is not GpuStorage gpu)
                throw new InvalidOperationException($"View: the tensor lives on {Device.Name}, not on an ILGPU device");
            return gpu.View.SubView(Offset, Math.Max(1, Length));
        }
    }

    // ---------------------------------------------------------------- lifetime

    public bool IsDisposed => Volatile.Read(ref disposed) != 0;

    /// <summary>Returns the memory now (GPU memory goes back to the pool) when no other view shares it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0) Storage.RemoveReference();
    }

    void ThrowIfDisposed()
    {
        if (IsDisposed) throw new ObjectDisposedException(nameof(Tensor), $"a tensor of shape {Shapes.Format(Shape)} was used after Dispose()");
    }

    public override string ToString() => $"Tensor{Shapes.Format(Shape)} on {Device.Name}";
}
