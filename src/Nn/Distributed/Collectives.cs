namespace NativeGan.Nn.Distributed;

/// <summary>
/// Collectives as ops on the tape: their forward crosses the ranks, and their backward does too, so a loss that depends
/// on other ranks' numbers (synchronised batch norm) gets the gradient of the sum of every rank's loss.
/// </summary>
public static class Collectives
{
    /// <summary>
    /// The elementwise sum of <paramref name="x"/> over the ranks of <paramref name="group"/>, on every rank (the values
    /// pass through host memory). Backward: every rank's output used this rank's input, so its gradient is the sum of
    /// the ranks' output gradients: the same all-reduce, recorded again under createGraph (differentiable twice). Every
    /// rank must call it in the same order with the same shape, as any collective.
    /// </summary>
    public static Tensor AllReduceSum(this Tensor x, Communicator group)
    {
        var values = x.ToArray();
        group.AllReduceSum(values);
        var sum = Tensor.FromArray(values, x.Shape, x.Device);
        return Autograd.Record("AllReduceSum", sum, [x], (g, n) => [g.AllReduceSum(group)]);
    }
}
