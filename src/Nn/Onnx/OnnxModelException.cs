namespace NativeGan.Nn.Onnx;

/// <summary>
/// An ONNX file that cannot be read or run here: not a readable model (truncated, not protobuf, a tensor whose data
/// does not fill its shape), or a node this reader does not support (an operator, an attribute value, an opset). The
/// message always names the file, and for a node its name and operator, so a user knows what to change or re-export.
/// </summary>
public sealed class OnnxModelException : Exception
{
    public OnnxModelException(string message) : base(message) { }

    public OnnxModelException(string message, Exception inner) : base(message, inner) { }
}
