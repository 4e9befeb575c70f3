using NativeGan.Nn.Distributed;

namespace NativeGan.Nn;

/// <summary>
/// Batch normalisation of [N, C, H, W] (PyTorch's BatchNorm2d): weight (gamma) [C] = 1, bias (beta) [C] = 0,
/// buffers running_mean [C] = 0, running_var [C] = 1 and num_batches_tracked [] = 0, the number of training
/// batches seen (PyTorch's buffer of that name: PyTorch uses it only when momentum is None, a cumulative average,
/// which this layer does not offer, so here it is a count kept for checkpoints and PyTorch interop).
/// <para>num_batches_tracked is a float tensor of one element here (exact up to 2^24 batches); PyTorch keeps it
/// as int64. A checkpoint therefore stores it as F32, and PyTorch's <c>load_state_dict</c> converts it on copy;
/// a PyTorch file holds it as I64, which <c>Safetensors.LoadInto(..., convertDtypes: true)</c> reads.</para>
/// <para>Training: the output is the autograd op with the batch's statistics, and the running statistics move
/// towards the batch's, running = (1 - momentum) running + momentum batch, with the unbiased batch variance
/// for running_var, in the same fused statistics pass.</para>
/// <para>Evaluation: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta, composed from recorded
/// ops, so it is differentiable with respect to x, gamma and beta.</para>
/// <para>Synchronised (<see cref="SyncGroup"/>, PyTorch's SyncBatchNorm): in training the statistics are those of every
/// rank's batch together, so R ranks on shards compute what one process computes on the whole batch.</para>
/// </summary>
public sealed class BatchNorm2d : Module
{
    public Tensor Weight { get; }
    public Tensor Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }
    public Tensor NumBatchesTracked { get; }
    public float Momentum { get; }
    public float Eps { get; }

    public BatchNorm2d(int channels, float momentum = 0.1f, float eps = 1e-5f, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        (Momentum, Eps) = (momentum, eps);
        Weight = RegisterParameter("weight", Tensor.Ones(d, channels));
        Bias = RegisterParameter("bias", Tensor.Zeros(d, channels));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(d, channels));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(d, channels));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros(d));
    }

    /// <summary>
    /// The ranks whose batches the training statistics span (PyTorch's SyncBatchNorm; <see cref="DistributedDataParallel"/>
    /// sets it when asked to synchronise batch norm); null or one rank: this process's batch alone. Synchronised, the
    /// layer is composed from recorded ops with two all-reduces of [C] forward (the sum, then the squared deviations
    /// from the common mean: two passes, as stable as the fused kernel's) and two backward, rather than the fused kernel,
    /// and stays differentiable twice (a gradient penalty through it works). Every rank must run the layer in training
    /// the same number of times in the same order; evaluation never communicates.
    /// </summary>
    public Communicator? SyncGroup { get; set; }

    public override Tensor Forward(Tensor x)
    {
        Check.Rank("BatchNorm2d", "x", x, 4);
        int[] perChannel = [1, x.Dim(1), 1, 1];
        if (Training && SyncGroup is { Size: > 1 } group) return SynchronisedForward(x, group);
        if (Training)
        {
            // One statistics pass gives the output and moves the running buffers (not recorded).
            var y = x.BatchNorm2d(Weight, Bias, Eps, RunningMean, RunningVar, Momentum);
            using (Autograd.NoGrad()) Elementwise.UnaryInto(UnaryOp.Affine, NumBatchesTracked, NumBatchesTracked, 1f, 1f); // += 1
            return y;
        }
        using var rm = Ops.Reshape(RunningMean, perChannel);
        using var shifted = RunningVar.Add(Eps);
        using var invStdFlat = shifted.Pow(-0.5f);
        using var invStd = Ops.Reshape(invStdFlat, perChannel);
        using var gamma = Ops.Reshape(Weight, perChannel);
        using var beta = Ops.Reshape(Bias, perChannel);
        using var centred = x.Sub(rm);
        using var normalised = centred.Mul(invStd);
        using var scaled = normalised.Mul(gamma);
        return scaled.Add(beta);
    }

    Tensor SynchronisedForward(Tensor x, Communicator group)
    {
        int channels = x.Dim(1);
        if (Weight.Length != channels)
            throw new TensorShapeException($"BatchNorm2d: {Weight.Length} channels, got x {Shapes.Format(x.Shape)}");
        int[] axes = [0, 2, 3], perChannel = [1, channels, 1, 1];
        double[] count = [x.Length / channels];
        group.AllReduceSum(count);
        if (count[0] < 2) throw new TensorShapeException($"BatchNorm2d: training needs more than one value per channel over the {group.Size} ranks, got {count[0]}");
        float total = (float)count[0];
        using var sum = x.Sum(axes);
        using var sumAll = sum.AllReduceSum(group);
        using var mean = sumAll.Mul(1f / total);
        using var mean4 = Ops.Reshape(mean, perChannel);
        using var centred = x.Sub(mean4);
        using var squares = centred.Square();
        using var squaresSum = squares.Sum(axes);
        using var squaresAll = squaresSum.AllReduceSum(group);
        using var variance = squaresAll.Mul(1f / total);
        using var shifted = variance.Add(Eps);
        using var invStd = shifted.Pow(-0.5f);
        using var invStd4 = Ops.Reshape(invStd, perChannel);
        using var normalised = centred.Mul(invStd4);
        using var gamma = Ops.Reshape(Weight, perChannel);
        using var beta = Ops.Reshape(Bias, perChannel);
        using var scaled = normalised.Mul(gamma);
        var y = scaled.Add(beta);
        using (Autograd.NoGrad())
        {
            // running = (1 - momentum) running + momentum batch, with the unbiased variance, as the fused kernel.
            Elementwise.ScaleAdd(RunningMean, 1 - Momentum, mean, Momentum);
            Elementwise.ScaleAdd(RunningVar, 1 - Momentum, variance, Momentum * total / (total - 1));
            Elementwise.UnaryInto(UnaryOp.Affine, NumBatchesTracked, NumBatchesTracked, 1f, 1f);
        }
        return y;
    }
}

/// <summary>
/// Batch normalisation of [N, F] features (PyTorch's BatchNorm1d without the [N, C, L] form), with PyTorch's state-dict
/// names (weight, bias, running_mean, running_var, num_batches_tracked): the features seen as [N, F, 1, 1] through
/// <see cref="BatchNorm2d"/>'s fused kernel and running statistics.
/// <para>Checkpoints written before this layer moved here kept its tensors one level down ("norm.weight", ...): they load
/// through <see cref="Module.FormerNames"/>.</para>
/// </summary>
public sealed class BatchNorm1d : Module
{
    readonly BatchNorm2d norm;

    /// <summary>The ranks whose batches the training statistics span (see <see cref="BatchNorm2d.SyncGroup"/>).</summary>
    public Communicator? SyncGroup { get => norm.SyncGroup; set => norm.SyncGroup = value; }

    public BatchNorm1d(int features, float momentum = 0.1f, float eps = 1e-5f, Device? device = null)
    {
        norm = new BatchNorm2d(features, momentum, eps, device);
        foreach (var (name, t) in norm.NamedParameters()) RegisterParameter(name, t);
        foreach (var (name, t) in norm.NamedBuffers()) RegisterBuffer(name, t);
    }

    public Tensor Weight => norm.Weight;
    public Tensor Bias => norm.Bias;
    public Tensor RunningMean => norm.RunningMean;
    public Tensor RunningVar => norm.RunningVar;

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 2) throw new TensorShapeException($"BatchNorm1d: expected [N, F], got {Shapes.Format(x.Shape)}");
        norm.Train(Training);
        using var x4 = Ops.Reshape(x, x.Dim(0), x.Dim(1), 1, 1);
        using var y4 = norm.Forward(x4);
        return Ops.Reshape(y4, x.Dim(0), x.Dim(1));
    }

    protected override IEnumerable<(string Former, string Current)> OwnFormerNames =>
        [.. new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }.Select(n => ("norm." + n, n))];
}

/// <summary>
/// Instance normalisation of [N, C, H, W], each (sample, channel) plane on its own statistics (PyTorch's
/// InstanceNorm2d without running statistics); affine adds weight [C] = 1 and bias [C] = 0.
/// </summary>
public sealed class InstanceNorm2d : Module
{
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }
    public float Eps { get; }

    public InstanceNorm2d(int channels, bool affine = false, float eps = 1e-5f, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(d, channels));
            Bias = RegisterParameter("bias", Tensor.Zeros(d, channels));
        }
    }

    public override Tensor Forward(Tensor x) => x.InstanceNorm2d(Weight, Bias, Eps);
}
