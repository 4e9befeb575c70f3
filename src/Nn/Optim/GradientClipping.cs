namespace NativeGan.Nn;

/// <summary>Gradient clipping by global norm (PyTorch's <c>torch.nn.utils.clip_grad_norm_</c>).</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so that their joint L2 norm is at most
    /// <paramref name="maxNorm"/> (all by one factor, keeping the direction); returns the norm before clipping.
    /// Parameters without a gradient are skipped. One read back of the norm.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "ClipGradNorm: maxNorm must be positive");
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0f;
        float norm;
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            Tensor? total = null;
            foreach (var g in grads)
            {
                var s = g.Square().Sum();
                total = total is null ? s : total.Add(s);
            }
            norm = MathF.Sqrt(total!.Item());
        }
        // PyTorch's factor: max / (norm + 1e-6), applied only when it shrinks.
        float scale = maxNorm / (norm + 1e-6f);
        if (scale < 1f)
            foreach (var g in grads) Elementwise.ScaleAdd(g, 0f, g, scale);
        return norm;
    }
}
