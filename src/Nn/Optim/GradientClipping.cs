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
        var withGrads = parameters.Where(p => p.Grad is not null).ToList();
        if (withGrads.Count == 0) return 0f;
        float norm = GradNorm(withGrads);
        // PyTorch's factor: max / (norm + 1e-6), applied only when it shrinks.
        float scale = maxNorm / (norm + 1e-6f);
        if (scale < 1f)
            foreach (var p in withGrads) Elementwise.ScaleAdd(p.Grad!, 0f, p.Grad!, scale);
        return norm;
    }

    /// <summary>The joint L2 norm of the gradients of <paramref name="parameters"/> (those that have one; 0 when none
    /// has), sqrt(sum of ||grad||²), with one read back.</summary>
    public static float GradNorm(IEnumerable<Tensor> parameters)
    {
        using var norm = GradNormTensor(parameters);
        return norm.Item();
    }

    /// <summary><see cref="GradNorm"/> left on the device, a [1] tensor the caller owns (read it with others at once:
    /// <see cref="Tensor.Items"/>).</summary>
    public static Tensor GradNormTensor(IEnumerable<Tensor> parameters)
    {
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        // On a GPU one fused reduction (two launches for up to 16 gradients) instead of square, sum and add a gradient.
        // The cpu keeps the chain below, whose float32 sums the cpu's logged norms and clipping factors were made with.
        if (grads.Count > 0 && grads[0].Device is GpuDevice) return JointL2Norm.Forward(grads);
        using var noGrad = Autograd.NoGrad();
        Tensor? total = null;
        Device? device = null;
        using (var scope = new TensorScope())
        {
            foreach (var g in grads)
            {
                device ??= g.Device;
                var s = g.Square().Sum();
                total = total is null ? s : total.Add(s);
            }
            if (total is not null) return scope.Keep(total.Sqrt());
        }
        return Tensor.Zeros(device ?? Device.Cpu, 1);
    }
}
