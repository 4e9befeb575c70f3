using System.Buffers;
using System.Numerics.Tensors;
using System.Text.Json;

namespace NativeGan.Nn.Distributed;

/// <summary>
/// Data-parallel training of modules over a <see cref="Communicator"/>, as PyTorch's <c>DistributedDataParallel</c>: every
/// rank holds a whole copy of the model and runs forward and backward on its own shard of the batch; before each optimizer
/// step the gradients are averaged over the ranks, so every rank takes the same step and the copies stay bit-identical.
/// <list type="bullet">
/// <item>Construction broadcasts rank 0's parameters and buffers (<see cref="Module.StateDict"/>) and its optimizers'
/// state (moments, step counts, hyperparameters), so ranks that built or loaded their models differently start equal.</item>
/// <item>It hooks each optimizer's <see cref="Optimizer.BeforeStep"/>: the training loop stays what it was
/// (<c>loss.Backward(); optimizer.Step();</c>), and the averaging happens inside <c>Step</c>. The gradients travel in
/// buckets of <see cref="BucketFloats"/> floats, staged through one host buffer (gradients on a GPU are copied out and
/// back), each bucket one all-reduce; the first carries one more number, the count of parameters that have a gradient,
/// so ranks whose graphs differ are refused rather than summed out of step.</item>
/// <item>The average is (sum over ranks) / size of each rank's gradient: with equal shards of a batch whose loss is a mean,
/// that is the gradient of the whole batch (up to float rounding: the order of the additions differs).</item>
/// <item>Batch norm keeps per-rank statistics by default (each rank normalises its shard; PyTorch's DDP does the same unless
/// the model is converted to SyncBatchNorm), so a model with batch norm equals one process on the whole batch only
/// approximately; the running statistics are rank 0's when its checkpoint is written. With <c>syncBatchNorm</c> the
/// batch norms of the optimised modules normalise with the statistics of all the ranks' shards together
/// (<see cref="BatchNorm2d.SyncGroup"/>): the model then equals one process on the whole batch up to float rounding,
/// at two small all-reduces per layer forward and two backward. A gradient penalty or R1 needs nothing: its double
/// backward is local to each rank and its gradient is averaged like any other.</item>
/// <item>Not overlapped with the backward: the hook runs after it (the engine's backward has no per-parameter hooks yet).</item>
/// </list>
/// <code>
/// using var comm = MpiCommunicator.World();                 // mpiexec -n 2 dotnet my.dll
/// var opt = new Adam(model.Parameters(), 1e-3f);
/// using var ddp = new DistributedDataParallel(model, opt, comm);
/// // each rank: its shard of the batch, then as always:
/// var loss = Losses.Mse(model.Forward(x), y); model.ZeroGrad(); loss.Backward(); opt.Step();
/// </code>
/// </summary>
public sealed class DistributedDataParallel : IDisposable
{
    /// <summary>The default bucket: 1 Mi floats (4 MiB), a few all-reduces a step for a DCGAN.</summary>
    public const int DefaultBucketFloats = 1 << 20;

    readonly Optimizer[] optimizers;
    readonly Action<Optimizer> onStep;
    readonly List<Action<Communicator?>> synchronised = [];

    /// <summary>One module and its optimizer (see the class notes).</summary>
    public DistributedDataParallel(Module module, Optimizer optimizer, Communicator communicator, int bucketFloats = DefaultBucketFloats,
        bool syncBatchNorm = false)
        : this([module], [optimizer], communicator, bucketFloats, syncBatchNorm) { }

    /// <summary>Several modules (every one broadcast from rank 0, including those without an optimizer, such as a moving
    /// average of weights) and their optimizers (each averages its parameters' gradients before its step).
    /// <paramref name="syncBatchNorm"/>: the batch norms whose parameters an optimizer trains share their statistics over the
    /// ranks (see the class notes; undone by <see cref="Dispose"/>); those of modules without an optimizer (a moving
    /// average, which only evaluates) keep their own.</summary>
    public DistributedDataParallel(IEnumerable<Module> modules, IEnumerable<Optimizer> optimizers, Communicator communicator,
        int bucketFloats = DefaultBucketFloats, bool syncBatchNorm = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketFloats, 2);
        Communicator = communicator;
        BucketFloats = bucketFloats;
        this.optimizers = [.. optimizers];
        var moduleList = modules.ToList();
        BroadcastState(moduleList, this.optimizers, communicator);
        onStep = o => AverageGradients(o.Parameters);
        if (communicator.Size > 1)
            foreach (var o in this.optimizers) o.BeforeStep += onStep;
        if (syncBatchNorm && communicator.Size > 1) Synchronise(moduleList, communicator);
    }

    /// <summary>Whether the batch norms of the optimised modules share their statistics over the ranks.</summary>
    public bool SyncBatchNorm => synchronised.Count > 0;

    void Synchronise(IEnumerable<Module> modules, Communicator communicator)
    {
        var trained = new HashSet<Tensor>(optimizers.SelectMany(o => o.Parameters), ReferenceEqualityComparer.Instance);
        static IEnumerable<Module> Tree(Module m) => [m, .. m.NamedChildren().SelectMany(c => Tree(c.Module))];
        foreach (var m in modules.SelectMany(Tree).Distinct())
        {
            if (m is BatchNorm2d b2 && trained.Contains(b2.Weight)) synchronised.Add(g => b2.SyncGroup = g);
            else if (m is BatchNorm1d b1 && trained.Contains(b1.Weight)) synchronised.Add(g => b1.SyncGroup = g);
        }
        foreach (var set in synchronised) set(communicator);
    }

    public Communicator Communicator { get; }

    /// <summary>Floats per all-reduce.</summary>
    public int BucketFloats { get; }

    /// <summary>Gradient floats averaged by the last <see cref="AverageGradients"/> call (the bytes a step sends are 4 x this
    /// per optimizer step).</summary>
    public long LastGradientFloats { get; private set; }

    /// <summary>
    /// Averages the gradients of <paramref name="parameters"/> over the ranks, in place (parameters without a gradient are
    /// skipped; every rank must have gradients for the same ones). Called by the optimizers' <see cref="Optimizer.BeforeStep"/>;
    /// public for a loop that steps parameters itself.
    /// </summary>
    public void AverageGradients(IReadOnlyList<Tensor> parameters)
    {
        int size = Communicator.Size;
        if (size == 1) return;
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        long total = 1 + grads.Sum(g => (long)g.Length);
        int capacity = (int)Math.Min(BucketFloats, total);
        var bucket = ArrayPool<float>.Shared.Rent(capacity);
        var pending = new List<(Tensor Grad, long From, int At, int Count)>();
        int fill = 0;
        bool first = true;
        try
        {
            bucket[fill++] = grads.Count;
            foreach (var g in grads)
            {
                for (long done = 0; done < g.Length;)
                {
                    int n = (int)Math.Min(g.Length - done, capacity - fill);
                    g.Device.CopyOut(g.Storage, g.Offset + done, bucket.AsSpan(fill, n));
                    pending.Add((g, done, fill, n));
                    fill += n;
                    done += n;
                    if (fill == capacity) Flush();
                }
            }
            if (fill > 0) Flush();
        }
        finally { ArrayPool<float>.Shared.Return(bucket); }
        LastGradientFloats = total - 1;

        void Flush()
        {
            var values = bucket.AsSpan(0, fill);
            Communicator.AllReduceSum(values);
            if (first)
            {
                first = false;
                if (values[0] != (float)grads.Count * size)
                    throw new DistributedException($"DistributedDataParallel: rank {Communicator.Rank} has gradients for {grads.Count} parameters, but the ranks together report {values[0]} " +
                                                   $"(expected {grads.Count} x {size}): the ranks ran different graphs");
            }
            float scale = 1f / size;
            foreach (var (g, from, at, count) in pending)
            {
                var part = values.Slice(at, count);
                TensorPrimitives.Multiply(part, scale, part);
                g.Device.CopyIn(part, g.Storage, g.Offset + from);
            }
            pending.Clear();
            fill = 0;
        }
    }

    /// <summary>
    /// Copies rank 0's module tensors (parameters and buffers, in state-dict order) and optimizer state to every rank.
    /// Every rank must pass modules of the same structure; a mismatch (another shape) is refused naming the tensor.
    /// </summary>
    public static void BroadcastState(IEnumerable<Module> modules, IEnumerable<Optimizer> optimizers, Communicator communicator)
    {
        if (communicator.Size == 1) return;
        foreach (var module in modules)
        {
            var state = module.StateDict();
            // The names and shapes first, so that two ranks with different models fail with a message, not a hang.
            var layout = string.Join(";", state.Select(kv => $"{kv.Key}:{string.Join('x', kv.Value.Shape)}"));
            var rootLayout = System.Text.Encoding.UTF8.GetString(communicator.Broadcast(communicator.IsRoot ? System.Text.Encoding.UTF8.GetBytes(layout) : null));
            // Agreed by all, so every rank stops here rather than some waiting in the broadcasts below.
            Span<double> differ = [rootLayout != layout ? 1 : 0];
            communicator.AllReduceSum(differ);
            if (rootLayout != layout)
                throw new DistributedException($"DistributedDataParallel: rank {communicator.Rank}'s {module.GetType().Name} differs from rank 0's (tensors and shapes: rank 0 {Abbreviate(rootLayout)}; here {Abbreviate(layout)})");
            if (differ[0] > 0)
                throw new DistributedException($"DistributedDataParallel: {differ[0]} of the {communicator.Size} ranks hold a {module.GetType().Name} that differs from rank 0's (their messages name the tensors)");
            foreach (var (_, t) in state)
            {
                if (t.Length == 0) continue;
                var host = t.ToArray();
                communicator.Broadcast(host.AsSpan());
                if (!communicator.IsRoot) t.Device.CopyIn(host, t.Storage, t.Offset);
            }
        }
        foreach (var optimizer in optimizers)
        {
            var bytes = communicator.Broadcast(communicator.IsRoot ? Serialize(optimizer.StateDict()) : null);
            if (communicator.IsRoot) continue;
            var (sd, made) = Deserialize(bytes);
            try { optimizer.LoadStateDict(sd); }
            finally { foreach (var t in made) t.Dispose(); }
        }
    }

    static string Abbreviate(string s) => s.Length <= 200 ? s : s[..200] + "...";

    /// <summary>An optimizer state as bytes: a JSON header (scalars, tensor names and shapes), then the tensors' floats.</summary>
    static byte[] Serialize(OptimizerStateDict sd)
    {
        var names = sd.Tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var header = JsonSerializer.SerializeToUtf8Bytes(new StateHeader(sd.Scalars, names, [.. names.Select(n => sd.Tensors[n].Shape)]));
        long floats = names.Sum(n => (long)sd.Tensors[n].Length);
        var bytes = new byte[4 + header.Length + floats * 4];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 4), header.Length);
        header.CopyTo(bytes, 4);
        int at = 4 + header.Length;
        foreach (var n in names)
        {
            var values = sd.Tensors[n].ToArray();
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes.AsSpan(at));
            at += values.Length * 4;
        }
        return bytes;
    }

    static (OptimizerStateDict State, List<Tensor> Made) Deserialize(byte[] bytes)
    {
        int length = BitConverter.ToInt32(bytes, 0);
        var header = JsonSerializer.Deserialize<StateHeader>(bytes.AsSpan(4, length))
            ?? throw new DistributedException("DistributedDataParallel: rank 0 sent an empty optimizer state");
        var sd = new OptimizerStateDict();
        foreach (var (k, v) in header.Scalars) sd.Scalars[k] = v;
        var made = new List<Tensor>();
        int at = 4 + length;
        for (int i = 0; i < header.Names.Count; i++)
        {
            var shape = header.Shapes[i];
            var values = new float[Shapes.Numel(shape)];
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan(at, values.Length * 4)).CopyTo(values);
            at += values.Length * 4;
            var t = Tensor.FromArray(values, shape);
            made.Add(t);
            sd.Tensors[header.Names[i]] = t;
        }
        return (sd, made);
    }

    sealed record StateHeader(Dictionary<string, string> Scalars, List<string> Names, List<int[]> Shapes);

    /// <summary>Unhooks the optimizers (their steps no longer average).</summary>
    public void Dispose()
    {
        foreach (var o in optimizers) o.BeforeStep -= onStep;
        foreach (var set in synchronised) set(null);
    }

    public override string ToString() => $"DistributedDataParallel(rank {Communicator.Rank} of {Communicator.Size}, {Communicator.Description})";
}
