namespace NativeGan;

// The autograd slots of a tensor. The tape that fills them lives in src/Autograd; they sit here
// because a tensor and its gradient travel together.
public sealed partial class Tensor
{
    /// <summary>When true, ops on this tensor are recorded so gradients can flow back to it.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient of a leaf after <c>Backward()</c>; null until then.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The recorded op that produced this tensor (null for leaves and for results made under no-grad).</summary>
    public GradNode? GradFn { get; set; }

    /// <summary>A leaf is a tensor no recorded op produced: inputs and parameters.</summary>
    public bool IsLeaf => GradFn is null;
}

/// <summary>A recorded op on the autograd tape (see src/Autograd).</summary>
public abstract class GradNode
{
}
