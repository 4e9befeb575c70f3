namespace NativeGan.Gan.Training;

/// <summary>
/// A training step's logged numbers kept on the device until the step ends, then read back together
/// (<see cref="Tensor.Items"/>): one wait for the device a step instead of one a number (and the one place a captured
/// step would have to stop). Holds its own handles, so the step may free the tensors meanwhile; numbers already on the
/// host (a stage, a rate) go in with <see cref="Set"/>, in their place. Dispose frees what was not read.
/// <code>
/// using var log = new PendingLog();
/// log.Add("loss_d", lossD);          // no wait here
/// ...
/// return log.Read();                 // one wait: { loss_d, ..., loss_g } in the order added
/// </code>
/// </summary>
public sealed class PendingLog : IDisposable
{
    readonly List<(string Name, Tensor? Value, float Scale)> pending = [];

    /// <summary>A one-element tensor's value times <paramref name="scale"/>, read at <see cref="Read"/> (the handle kept is
    /// detached: it holds the value, not the graph that made it).</summary>
    public void Add(string name, Tensor value, float scale = 1f) => pending.Add((name, value.Detach(), scale));

    /// <summary>A number the host has already.</summary>
    public void Set(string name, float value) => pending.Add((name, null, value));

    /// <summary>The numbers by name, in the order they were added (a name added twice keeps its place and the later value).</summary>
    public Dictionary<string, float> Read()
    {
        var onDevice = pending.Where(p => p.Value is not null).Select(p => p.Value!).ToList();
        var values = Tensor.Items(onDevice);
        var log = new Dictionary<string, float>(StringComparer.Ordinal);
        int next = 0;
        foreach (var (name, value, scale) in pending) log[name] = value is null ? scale : scale * values[next++];
        return log;
    }

    public void Dispose()
    {
        foreach (var (_, value, _) in pending) value?.Dispose();
        pending.Clear();
    }
}
