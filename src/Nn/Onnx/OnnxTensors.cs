using System.Buffers.Binary;
using Onnx;

namespace NativeGan.Nn.Onnx;

/// <summary>
/// The data of ONNX <c>TensorProto</c>s (initializers and Constant values) as host arrays, checked: the shape is
/// non-negative and fits an int, the data fills the shape exactly (from <c>raw_data</c>, little-endian, or the typed
/// repeated field), and the type is one the engine computes with (float32 for values, int64 or int32 for shapes and
/// sizes). Anything else is an <see cref="OnnxModelException"/> naming the tensor and the file.
/// </summary>
static class OnnxTensors
{
    const int FloatType = (int)TensorProto.Types.DataType.Float;
    const int Int64Type = (int)TensorProto.Types.DataType.Int64;
    const int Int32Type = (int)TensorProto.Types.DataType.Int32;

    /// <summary>True for a float32 tensor (a value the engine computes on).</summary>
    public static bool IsFloat(TensorProto t) => t.DataType == FloatType;

    /// <summary>True for an integer tensor (int64 or int32: shapes, axes, split sizes).</summary>
    public static bool IsInteger(TensorProto t) => t.DataType is Int64Type or Int32Type;

    /// <summary>The dims as ints, each at least 0, with a product that fits an int (the engine's element count).</summary>
    public static int[] Shape(TensorProto t, string file, string what)
    {
        var shape = new int[t.Dims.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = t.Dims[i];
            if (d < 0 || d > int.MaxValue)
                throw new OnnxModelException($"{file}: {what} has dimension {i} = {d} (dims [{string.Join(", ", t.Dims)}])");
            shape[i] = (int)d;
            count *= d;
            if (count > int.MaxValue)
                throw new OnnxModelException($"{file}: {what} has dims [{string.Join(", ", t.Dims)}], more than {int.MaxValue} elements");
        }
        return shape;
    }

    static void CheckStoredHere(TensorProto t, string file, string what)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External || t.ExternalData.Count > 0)
            throw new OnnxModelException($"{file}: {what} keeps its data in an external file, which this reader does not follow; save the model with the weights inside (onnx.save(model, path, save_as_external_data=False))");
        if (t.Segment is not null)
            throw new OnnxModelException($"{file}: {what} is a segment of a larger tensor, which this reader does not support");
    }

    /// <summary>A float32 tensor's values (row-major) and shape.</summary>
    public static (int[] Shape, float[] Data) Float(TensorProto t, string file, string what)
    {
        CheckStoredHere(t, file, what);
        if (t.DataType != FloatType)
            throw new OnnxModelException($"{file}: {what} has data type {TypeName(t.DataType)}; this reader computes in float32 (FLOAT) only");
        var shape = Shape(t, file, what);
        int count = Shapes.Numel(shape);
        // The data's size is checked before anything is allocated: a corrupt shape must not ask for gigabytes.
        if (!t.RawData.IsEmpty)
        {
            var raw = t.RawData.Span;
            if (raw.Length != (long)count * 4)
                throw new OnnxModelException($"{file}: {what} has {raw.Length} bytes of raw data, but its shape {Shapes.Format(shape)} needs {(long)count * 4} (truncated?)");
            var data = new float[count];
            for (int i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * 4, 4));
            return (shape, data);
        }
        if (t.FloatData.Count != count)
            throw new OnnxModelException($"{file}: {what} has {t.FloatData.Count} float values, but its shape {Shapes.Format(shape)} needs {count}");
        return (shape, [.. t.FloatData]);
    }

    /// <summary>An int64 or int32 tensor's values as longs, and its shape.</summary>
    public static (int[] Shape, long[] Data) Integers(TensorProto t, string file, string what)
    {
        CheckStoredHere(t, file, what);
        if (!IsInteger(t))
            throw new OnnxModelException($"{file}: {what} has data type {TypeName(t.DataType)} where integers (INT64 or INT32) are expected");
        var shape = Shape(t, file, what);
        int count = Shapes.Numel(shape);
        int width = t.DataType == Int64Type ? 8 : 4;
        int stored = !t.RawData.IsEmpty ? -1 : width == 8 ? t.Int64Data.Count : t.Int32Data.Count;
        if (stored >= 0 && stored != count)
            throw new OnnxModelException($"{file}: {what} has {stored} int{width * 8} values, but its shape {Shapes.Format(shape)} needs {count}");
        if (stored < 0 && t.RawData.Length != (long)count * width)
            throw new OnnxModelException($"{file}: {what} has {t.RawData.Length} bytes of raw data, but its shape {Shapes.Format(shape)} needs {(long)count * width} (truncated?)");
        var data = new long[count];
        if (!t.RawData.IsEmpty)
        {
            var raw = t.RawData.Span;
            for (int i = 0; i < count; i++)
                data[i] = width == 8 ? BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(i * 8, 8)) : BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(i * 4, 4));
        }
        else if (width == 8) t.Int64Data.CopyTo(data, 0);
        else for (int i = 0; i < count; i++) data[i] = t.Int32Data[i];
        return (shape, data);
    }

    /// <summary>ONNX's name of a data type code (FLOAT, INT64, ...), or the number when it is not one.</summary>
    public static string TypeName(int dataType) =>
        Enum.IsDefined(typeof(TensorProto.Types.DataType), dataType) ? ((TensorProto.Types.DataType)dataType).ToString().ToUpperInvariant() : $"code {dataType}";
}
