namespace NativeGan;

// Convolutions, differentiable to any order with no new kernels (the identities of stylegan2-ada's
// conv2d_gradfix; see src/Kernels/Ops/Conv2d.cs). The pitfall they avoid: a gradient penalty (WGAN-GP, R1)
// differentiates the convolutions' backward, and a backward computed by raw kernels, not recorded, would make
// the penalty a constant that never moves the weights. The input and weight gradients of a
// convolution are ops of their own, and each one's gradients are again among these ops:
//
//   op                                   d/d first input                  d/d second input
//   y  = Conv2d(x, w)                    Conv2dInputGrad(g, w)            Conv2dWeightGrad(x, g)
//   y  = ConvTranspose2d(x, w)           Conv2d(g, w)                     Conv2dWeightGrad(g, x)
//   dx = Conv2dInputGrad(dy, w)          Conv2d(g, w)                     Conv2dWeightGrad(g, dy)
//   dw = Conv2dWeightGrad(x, dy)         Conv2dInputGrad(dy, g)           Conv2d(x, g)
//
// (Conv2dInputGrad computes what ConvTranspose2d computes, given the input size rather than an output
// padding.) A bias gradient is a Sum over N, H and W.
public static partial class Ops
{
    /// <summary>
    /// conv2d (cross-correlation, PyTorch semantics): x [N, C, H, W], weight [O, C, KH, KW], bias [O] or null;
    /// y [N, O, OH, OW] with OH = (H + 2 padding - KH) / stride + 1.
    /// </summary>
    public static Tensor Conv2d(this Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0)
    {
        int h = x.Dim(2), w = x.Dim(3), kh = weight.Dim(2), kw = weight.Dim(3);
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Autograd.Record("Conv2d", NativeGan.Conv2d.Forward(x, weight, bias, stride, padding), inputs,
            (g, n) => [
                n.NeedsGrad(0) ? Conv2dInputGrad(g, n.Saved[1], h, w, stride, padding) : null,
                n.NeedsGrad(1) ? Conv2dWeightGrad(n.Saved[0], g, kh, kw, stride, padding) : null,
                .. bias is null ? Array.Empty<Tensor?>() : [n.NeedsGrad(2) ? g.Sum([0, 2, 3]) : null]],
            save: [x, weight]);
    }

    /// <summary>
    /// conv_transpose2d (PyTorch semantics): x [N, C_in, H, W], weight [C_in, C_out, KH, KW], bias [C_out] or null;
    /// y [N, C_out, (H - 1) stride - 2 padding + KH + outputPadding, likewise for W].
    /// </summary>
    public static Tensor ConvTranspose2d(this Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0)
    {
        int kh = weight.Dim(2), kw = weight.Dim(3);
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Autograd.Record("ConvTranspose2d", NativeGan.ConvTranspose2d.Forward(x, weight, bias, stride, padding, outputPadding), inputs,
            (g, n) => [
                n.NeedsGrad(0) ? g.Conv2d(n.Saved[1], null, stride, padding) : null,
                n.NeedsGrad(1) ? Conv2dWeightGrad(g, n.Saved[0], kh, kw, stride, padding) : null,
                .. bias is null ? Array.Empty<Tensor?>() : [n.NeedsGrad(2) ? g.Sum([0, 2, 3]) : null]],
            save: [x, weight]);
    }

    /// <summary>
    /// The input gradient of conv2d as an op: dx [N, C, inputH, inputW] from dy [N, O, OH, OW] and w [O, C, KH, KW].
    /// Linear in dy and in w, so its gradients are a convolution and a weight gradient.
    /// </summary>
    public static Tensor Conv2dInputGrad(Tensor dy, Tensor weight, int inputH, int inputW, int stride, int padding)
    {
        int kh = weight.Dim(2), kw = weight.Dim(3);
        return Autograd.Record("Conv2dInputGrad", NativeGan.Conv2d.InputGrad(dy, weight, inputH, inputW, stride, padding), [dy, weight],
            (g, n) => [
                n.NeedsGrad(0) ? g.Conv2d(n.Saved[1], null, stride, padding) : null,
                n.NeedsGrad(1) ? Conv2dWeightGrad(g, n.Saved[0], kh, kw, stride, padding) : null],
            save: [dy, weight]);
    }

    /// <summary>
    /// The weight gradient of conv2d as an op: dw [O, C, KH, KW] = sum over n, i, j of
    /// x[n, c, i s - p + a, j s - p + b] dy[n, o, i, j]. Bilinear in x and dy, so its gradients are the ops above.
    /// </summary>
    public static Tensor Conv2dWeightGrad(Tensor x, Tensor dy, int kernelH, int kernelW, int stride, int padding)
    {
        int h = x.Dim(2), w = x.Dim(3);
        return Autograd.Record("Conv2dWeightGrad", NativeGan.Conv2d.WeightGrad(x, dy, kernelH, kernelW, stride, padding), [x, dy],
            (g, n) => [
                n.NeedsGrad(0) ? Conv2dInputGrad(n.Saved[1], g, h, w, stride, padding) : null,
                n.NeedsGrad(1) ? n.Saved[0].Conv2d(g, null, stride, padding) : null],
            save: [x, dy]);
    }
}
