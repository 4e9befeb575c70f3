using System.Globalization;

namespace NativeGan.Nn;

/// <summary>
/// What an optimizer keeps for one parameter: how many updates it has had (Adam's bias correction and
/// SGD's first momentum step depend on it) and its state tensors by PyTorch's names (<c>exp_avg</c>,
/// <c>square_avg</c>, <c>momentum_buffer</c>...), each the parameter's shape, on the parameter's device.
/// Created at a parameter's first update, as PyTorch does.
/// </summary>
public sealed class ParameterState
{
    /// <summary>Updates this parameter has received (1 during its first update).</summary>
    public long Step { get; internal set; }

    /// <summary>The state tensors by name.</summary>
    public Dictionary<string, Tensor> Buffers { get; } = new(StringComparer.Ordinal);

    /// <summary>The buffer <paramref name="name"/>, created as zeros shaped like <paramref name="parameter"/> when absent.</summary>
    public Tensor Buffer(string name, Tensor parameter)
    {
        if (!Buffers.TryGetValue(name, out var t))
            Buffers[name] = t = Tensor.Zeros(parameter.Device, parameter.Shape);
        return t;
    }
}

/// <summary>One parameter's update in an optimizer step: the parameter, its gradient and its state.</summary>
public readonly record struct ParameterUpdate(Tensor Parameter, Tensor Grad, ParameterState State);

/// <summary>
/// An optimizer's state for a checkpoint: its tensors by name (<c>state.{i}.{buffer}</c>, i the
/// parameter's index) and its scalars as strings (<c>kind</c>, <c>step_count</c>, <c>state.{i}.step</c> and
/// the hyperparameters), ready to be the tensors and metadata of a safetensors file.
/// </summary>
public sealed class OptimizerStateDict
{
    public Dictionary<string, Tensor> Tensors { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Scalars { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The same entries with <paramref name="prefix"/> in front of every name, to sit beside a model's
    /// weights in one checkpoint (for example prefix <c>optimizer_d.</c>).
    /// </summary>
    public OptimizerStateDict WithPrefix(string prefix)
    {
        var result = new OptimizerStateDict();
        foreach (var (k, v) in Tensors) result.Tensors[prefix + k] = v;
        foreach (var (k, v) in Scalars) result.Scalars[prefix + k] = v;
        return result;
    }

    /// <summary>The entries of a checkpoint whose names start with <paramref name="prefix"/>, with the prefix removed.</summary>
    public static OptimizerStateDict FromCheckpoint(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata, string prefix = "")
    {
        var result = new OptimizerStateDict();
        foreach (var (k, v) in tensors)
            if (k.StartsWith(prefix, StringComparison.Ordinal)) result.Tensors[k[prefix.Length..]] = v;
        foreach (var (k, v) in metadata)
            if (k.StartsWith(prefix, StringComparison.Ordinal)) result.Scalars[k[prefix.Length..]] = v;
        return result;
    }
}

/// <summary>
/// The base of every optimizer, following <c>torch.optim.Optimizer</c>: a list of parameters (tensors
/// with <c>RequiresGrad</c>), <see cref="Step"/> updates each one whose <c>Grad</c> is set (a parameter
/// with a null gradient is skipped, as in PyTorch), <see cref="ZeroGrad"/> clears the gradients.
/// Each update is one fused kernel (<see cref="OptimizerUpdates"/>): one launch per parameter per step (Adam on a GPU:
/// one launch for each 16 parameters, <see cref="UpdateAll"/>),
/// with the original WGAN's weight clipping (<see cref="ClipAfterStep"/>) fused into it.
/// </summary>
public abstract class Optimizer
{
    readonly Tensor[] parameters;
    readonly ParameterState?[] states;

    protected Optimizer(IEnumerable<Tensor> parameters, float learningRate)
    {
        this.parameters = parameters.ToArray();
        if (this.parameters.Length == 0)
            throw new ArgumentException($"{Kind}: the parameter list is empty");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < this.parameters.Length; i++)
            if (!seen.Add(this.parameters[i]))
                throw new ArgumentException($"{Kind}: parameter {i} ({this.parameters[i]}) appears more than once in the list");
        states = new ParameterState?[this.parameters.Length];
        LearningRate = learningRate;
    }

    /// <summary>The optimizer's name in checkpoints and messages: Sgd, RmsProp, Adam, AdamW.</summary>
    public virtual string Kind => GetType().Name;

    public IReadOnlyList<Tensor> Parameters => parameters;

    /// <summary>The learning rate; may be changed between steps (schedules).</summary>
    public float LearningRate
    {
        get;
        set => field = value >= 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(LearningRate), $"{Kind}: learning rate must be finite and >= 0, got {value}");
    }

    /// <summary>Calls of <see cref="Step"/> so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>When set, every weight is clamped to [-ClipValue, ClipValue] after each step (see <see cref="ClipAfterStep"/>).</summary>
    public float? ClipValue { get; private set; }

    /// <summary>The state of parameter <paramref name="index"/>, or null before its first update.</summary>
    public ParameterState? State(int index) => states[index];

    /// <summary>
    /// Weight clipping, the original WGAN's way to keep the critic Lipschitz (Arjovsky et al. 2017,
    /// Algorithm 1, c = 0.01): after every <see cref="Step"/>, each weight is clamped to [-c, c]. Updated
    /// parameters are clamped inside their fused update kernel; parameters without a gradient are clamped
    /// by a separate launch, so every parameter is in bounds after each step, as
    /// <c>for p in critic.parameters(): p.data.clamp_(-c, c)</c> leaves them. Returns this optimizer.
    /// </summary>
    public Optimizer ClipAfterStep(float c)
    {
        if (!(c > 0) || !float.IsFinite(c))
            throw new ArgumentOutOfRangeException(nameof(c), $"{Kind}: the clipping bound must be finite and > 0, got {c}");
        ClipValue = c;
        return this;
    }

    /// <summary>Stops clipping weights after each step.</summary>
    public void NoClipping() => ClipValue = null;

    /// <summary>
    /// Called at the start of every <see cref="Step"/>, before any parameter changes: where data-parallel training
    /// (<see cref="Distributed.DistributedDataParallel"/>) averages the gradients over the ranks, so a training loop calls
    /// <c>Step()</c> as it always did.
    /// </summary>
    public event Action<Optimizer>? BeforeStep;

    /// <summary>Updates every parameter that has a gradient, one fused kernel each.</summary>
    public void Step()
    {
        BeforeStep?.Invoke(this);
        // Check everything first, so a bad gradient does not leave the parameters half updated.
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (p.Grad is not { } g) continue;
            if (g.Device != p.Device)
                throw new ArgumentException($"{Kind}.Step: parameter {i} {Shapes.Format(p.Shape)} is on {p.Device.Name} but its gradient is on {g.Device.Name}");
            if (!Shapes.Equal(g.Shape, p.Shape))
                throw new TensorShapeException($"{Kind}.Step: parameter {i} has shape {Shapes.Format(p.Shape)} but its gradient has shape {Shapes.Format(g.Shape)}");
        }
        var updates = new List<ParameterUpdate>(parameters.Length);
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (p.Grad is not { } g)
            {
                if (ClipValue is { } c) WeightClipper.Clip(p, c);
                continue;
            }
            var state = states[i] ??= new ParameterState();
            state.Step++;
            updates.Add(new ParameterUpdate(p, g, state));
        }
        UpdateAll(updates);
        StepCount++;
    }

    /// <summary>
    /// Clears every parameter's gradient. With <paramref name="setToNone"/> (PyTorch's default) the
    /// gradient tensor is disposed (its memory goes back to the pool at once) and <c>Grad</c> becomes null;
    /// otherwise it is filled with zeros.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in parameters)
        {
            if (p.Grad is not { } g) continue;
            if (setToNone)
            {
                p.Grad = null;
                g.Dispose();
            }
            else Elementwise.Fill(g, 0f);
        }
    }

    /// <summary>One fused update of <paramref name="parameter"/>; <paramref name="state"/>.Step is already this update's number.</summary>
    protected abstract void Update(Tensor parameter, Tensor grad, ParameterState state);

    /// <summary>
    /// The updates of one <see cref="Step"/>, in parameter order (each state's Step already this update's number). By
    /// default one <see cref="Update"/> each; an optimizer with a multi-tensor kernel (<see cref="Adam"/>) overrides it
    /// to update many parameters a launch.
    /// </summary>
    protected virtual void UpdateAll(IReadOnlyList<ParameterUpdate> updates)
    {
        foreach (var u in updates) Update(u.Parameter, u.Grad, u.State);
    }

    /// <summary>The state tensors a parameter has with the current settings (what a loaded state must hold).</summary>
    protected abstract IReadOnlyList<string> BufferNames { get; }

    /// <summary>The hyperparameters as (name, value) pairs, saved in the state dict.</summary>
    protected abstract IEnumerable<(string Name, float Value)> Hyperparameters();

    /// <summary>Throws <see cref="ArgumentException"/> when the hyperparameters are out of range (checked at construction and after loading a state).</summary>
    protected abstract void ValidateSettings();

    /// <summary>Sets one hyperparameter from a state dict; returns false for a name this optimizer does not have.</summary>
    protected abstract bool SetHyperparameter(string name, float value);

    // ---------------------------------------------------------------- checkpoints

    /// <summary>
    /// The optimizer's state: its own state tensors (not copies; save them before the next step), the
    /// step counts and the hyperparameters (as PyTorch's <c>state_dict()</c> keeps them).
    /// </summary>
    public OptimizerStateDict StateDict()
    {
        var sd = new OptimizerStateDict();
        sd.Scalars["kind"] = Kind;
        sd.Scalars["parameter_count"] = Format(parameters.Length);
        sd.Scalars["step_count"] = Format(StepCount);
        sd.Scalars["lr"] = Format(LearningRate);
        if (ClipValue is { } c) sd.Scalars["clip"] = Format(c);
        foreach (var (name, value) in Hyperparameters()) sd.Scalars[name] = Format(value);
        for (int i = 0; i < states.Length; i++)
        {
            if (states[i] is not { } s) continue;
            sd.Scalars[$"state.{i}.step"] = Format(s.Step);
            foreach (var (name, t) in s.Buffers) sd.Tensors[$"state.{i}.{name}"] = t;
        }
        return sd;
    }

    /// <summary>
    /// Restores a state saved by <see cref="StateDict"/> (from a checkpoint): hyperparameters, step counts
    /// and state tensors (copied onto each parameter's device). Everything is checked before anything
    /// changes; a mismatch (another optimizer kind, another parameter count, a state tensor of the wrong
    /// shape, a missing or unexpected entry) throws <see cref="ArgumentException"/> naming the entry.
    /// </summary>
    public void LoadStateDict(OptimizerStateDict sd) => Load(sd, apply: true);

    /// <summary>
    /// Runs every check of <see cref="LoadStateDict"/> on <paramref name="sd"/> and changes nothing: throws the
    /// same <see cref="ArgumentException"/> for a state that would be refused. A checkpoint holding several
    /// optimizers and modules checks them all this way before it loads the first.
    /// </summary>
    public void CheckStateDict(OptimizerStateDict sd) => Load(sd, apply: false);

    void Load(OptimizerStateDict sd, bool apply)
    {
        string Where(string what) => $"{Kind}.LoadStateDict: {what}";
        string Scalar(string key) => sd.Scalars.TryGetValue(key, out var v) ? v
            : throw new ArgumentException(Where($"the state has no '{key}' entry"));

        var kind = Scalar("kind");
        if (kind != Kind) throw new ArgumentException(Where($"the state was saved by a {kind} optimizer, this is {Kind}"));
        long count = ParseLong(Where("parameter_count"), Scalar("parameter_count"));
        if (count != parameters.Length)
            throw new ArgumentException(Where($"the state is for {count} parameters, this optimizer has {parameters.Length}"));
        long stepCount = ParseLong(Where("step_count"), Scalar("step_count"));
        float lr = ParseFloat(Where("lr"), Scalar("lr"));
        float? clip = sd.Scalars.TryGetValue("clip", out var cs) ? ParseFloat(Where("clip"), cs) : null;

        // Hyperparameters go first (they decide which buffers a parameter has); keep the old values to
        // put back if a later check fails.
        var old = Hyperparameters().ToList();
        var known = new HashSet<string>(old.Select(h => h.Name), StringComparer.Ordinal) { "kind", "parameter_count", "step_count", "lr", "clip" };
        var steps = new long?[parameters.Length];
        foreach (var (key, value) in sd.Scalars)
        {
            if (known.Contains(key)) continue;
            if (ParseStateKey(key) is ({ } i, "step") && i < parameters.Length) steps[i] = ParseLong(Where(key), value);
            else throw new ArgumentException(Where($"unexpected scalar '{key}'"));
        }
        try
        {
            foreach (var (name, _) in old)
                if (!SetHyperparameter(name, ParseFloat(Where(name), Scalar(name))))
                    throw new InvalidOperationException($"{Kind} does not accept its own hyperparameter '{name}'");
            try { ValidateSettings(); }
            catch (ArgumentException e) { throw new ArgumentException(Where($"the saved settings are invalid: {e.Message}"), e); }
            if (!(lr >= 0) || !float.IsFinite(lr)) throw new ArgumentException(Where($"the saved learning rate {lr} is invalid"));
            if (clip is { } cv && (!(cv > 0) || !float.IsFinite(cv))) throw new ArgumentException(Where($"the saved clipping bound {cv} is invalid"));
            var names = BufferNames;
            foreach (var key in sd.Tensors.Keys)
            {
                if (ParseStateKey(key) is not ({ } i, { } buffer) || i >= parameters.Length || !names.Contains(buffer))
                    throw new ArgumentException(Where($"unexpected tensor '{key}' (a {Kind} with these settings keeps {string.Join(", ", names)} for each parameter)"));
                if (steps[i] is null) throw new ArgumentException(Where($"tensor '{key}' has no 'state.{i}.step'"));
            }
            for (int i = 0; i < parameters.Length; i++)
            {
                if (steps[i] is null) continue;
                if (steps[i] < 1) throw new ArgumentException(Where($"'state.{i}.step' is {steps[i]}, expected >= 1"));
                foreach (var name in names)
                {
                    var key = $"state.{i}.{name}";
                    if (!sd.Tensors.TryGetValue(key, out var t)) throw new ArgumentException(Where($"missing tensor '{key}'"));
                    if (!Shapes.Equal(t.Shape, parameters[i].Shape))
                        throw new ArgumentException(Where($"tensor '{key}' has shape {Shapes.Format(t.Shape)}, parameter {i} has shape {Shapes.Format(parameters[i].Shape)}"));
                }
            }
        }
        catch
        {
            foreach (var (name, value) in old) SetHyperparameter(name, value);
            throw;
        }
        if (!apply)
        {
            foreach (var (name, value) in old) SetHyperparameter(name, value);
            return;
        }

        // Every check passed: replace the state.
        LearningRate = lr;
        ClipValue = clip;
        StepCount = stepCount;
        // Copies first: the state dict may hold this optimizer's own tensors.
        var loaded = new ParameterState?[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            if (steps[i] is not { } step) continue;
            loaded[i] = new ParameterState { Step = step };
            foreach (var name in BufferNames) loaded[i]!.Buffers[name] = sd.Tensors[$"state.{i}.{name}"].To(parameters[i].Device);
        }
        for (int i = 0; i < parameters.Length; i++)
        {
            if (states[i] is { } s) foreach (var t in s.Buffers.Values) t.Dispose();
            states[i] = loaded[i];
        }
    }

    static (int? Index, string? Name) ParseStateKey(string key)
    {
        // state.{i}.{name}
        var parts = key.Split('.', 3);
        if (parts.Length == 3 && parts[0] == "state" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int i))
            return (i, parts[2]);
        return (null, null);
    }

    static string Format(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    static string Format(long v) => v.ToString(CultureInfo.InvariantCulture);

    static float ParseFloat(string what, string s)
        => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"{what}: '{s}' is not a number");

    static long ParseLong(string what, string s)
        => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v
            : throw new ArgumentException($"{what}: '{s}' is not a count");
}

/// <summary>Weight clipping (the original WGAN): every weight clamped to [-c, c].</summary>
public static class WeightClipper
{
    /// <summary>Clamps <paramref name="weight"/> in place to [-c, c] (one elementwise launch).</summary>
    public static void Clip(Tensor weight, float c) => Elementwise.UnaryInto(UnaryOp.Clamp, weight, weight, -c, c);

    /// <summary>Clamps every tensor in place to [-c, c].</summary>
    public static void Clip(IEnumerable<Tensor> weights, float c)
    {
        foreach (var w in weights) Clip(w, c);
    }
}
