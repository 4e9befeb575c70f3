namespace NativeGan.Nn;

/// <summary>
/// A whole training state in one safetensors file: the modules' parameters and buffers, the optimizers'
/// state, and a metadata block (model kind, config, step, RNG state: whatever the caller puts there).
/// <para>Layout of the file (names are what PyTorch's <c>state_dict()</c> keys would be, with a prefix):</para>
/// <list type="bullet">
/// <item>module <c>NAME</c>'s tensors as <c>NAME.</c> + its state-dict name: <c>generator.0.weight</c>,
/// <c>generator.1.running_mean</c>, <c>generator.1.num_batches_tracked</c>;</item>
/// <item>optimizer <c>NAME</c>'s state tensors as <c>optim.NAME.state.{i}.{buffer}</c> (i the parameter's index
/// in the optimizer, buffer PyTorch's name such as <c>exp_avg</c>), its scalars (kind, step counts,
/// hyperparameters) as metadata <c>optim.NAME.kind</c>, <c>optim.NAME.lr</c>, ...;</item>
/// <item>the caller's metadata as given, plus <c>"format": "nativegan-checkpoint-1"</c>.</item>
/// </list>
/// <para>Saving is atomic (<see cref="Safetensors.Save"/>: a temporary file, flushed, then renamed).
/// Loading checks everything first (the file's structure, the format, every name, dtype and shape, every
/// optimizer's kind, settings and state) and reads every value to the host before the first target is
/// written, so a bad file raises <see cref="CheckpointException"/> naming the file and the tensor and leaves
/// every module and optimizer as it was.</para>
/// <code>
/// Checkpoint.Save("step-1000.safetensors", new Dictionary&lt;string, Module&gt; { ["g"] = g, ["d"] = d },
///     new Dictionary&lt;string, Optimizer&gt; { ["g"] = optG, ["d"] = optD }, new Dictionary&lt;string, string&gt; { ["step"] = "1000" });
/// var meta = Checkpoint.Load("step-1000.safetensors", modules, optimizers);   // meta["step"] == "1000"
/// </code>
/// A module's part alone loads in PyTorch with its prefix removed: <c>{k[len("g."):]: v for k, v in
/// load_file(path).items() if k.startswith("g.")}</c> passed to <c>load_state_dict</c> (see src/Nn/Modules/README.md).
/// </summary>
public static class Checkpoint
{
    /// <summary>The value of the <c>format</c> metadata entry this version writes and reads.</summary>
    public const string Format = "nativegan-checkpoint-1";

    const string FormatKey = "format";
    const string OptimizerPrefix = "optim.";

    /// <summary>Writes the modules, the optimizers and the metadata to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Module> modules, IReadOnlyDictionary<string, Optimizer> optimizers,
        IReadOnlyDictionary<string, string> metadata)
    {
        CheckNames(path, modules.Keys, optimizers.Keys);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, module) in modules)
            foreach (var (key, t) in module.StateDict())
                tensors[$"{name}.{key}"] = t;

        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            if (key == FormatKey || key.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                throw new CheckpointException($"{path}: metadata key '{key}' is reserved ('{FormatKey}' and keys beginning '{OptimizerPrefix}' are written by Checkpoint)");
            meta[key] = value;
        }
        meta[FormatKey] = Format;
        foreach (var (name, optimizer) in optimizers)
        {
            var sd = optimizer.StateDict().WithPrefix($"{OptimizerPrefix}{name}.");
            foreach (var (key, t) in sd.Tensors) tensors[key] = t;
            foreach (var (key, value) in sd.Scalars) meta[key] = value;
        }
        Safetensors.Save(path, tensors, meta);
    }

    /// <summary>
    /// Loads a file written by <see cref="Save"/> into <paramref name="modules"/> and <paramref name="optimizers"/>
    /// (the same names; modules built the same way; optimizers of the same kind over the same parameters) and
    /// returns the caller's metadata (with <c>format</c>; the optimizers' own entries are left out). The file must
    /// hold exactly these modules and optimizers: a missing or unexpected tensor is an error. Nothing is written
    /// unless everything checks out.
    /// </summary>
    public static Dictionary<string, string> Load(string path, IReadOnlyDictionary<string, Module> modules, IReadOnlyDictionary<string, Optimizer> optimizers)
    {
        CheckNames(path, modules.Keys, optimizers.Keys);
        var header = Safetensors.ReadHeader(path); // the structure: offsets, sizes, the file's length
        CheckFormat(path, header.Metadata);
        foreach (var e in header.Tensors)
            if (e.Dtype != "F32")
                throw new CheckpointException($"{path}: tensor '{e.Name}' is {e.Dtype}, a NativeGan checkpoint holds F32 only");

        // Every module tensor the targets expect, with its shape.
        var byName = header.Tensors.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        var stored = new Dictionary<(string Module, string Key), string>(); // the file's name of each tensor
        foreach (var (name, module) in modules)
        {
            var former = module.FormerNames();
            foreach (var (key, target) in module.StateDict())
            {
                string full = $"{name}.{key}";
                // A checkpoint written before a layer renamed its tensors holds them under their former names.
                if (!byName.ContainsKey(full) && former.TryGetValue(key, out var old) && byName.ContainsKey($"{name}.{old}")) full = $"{name}.{old}";
                if (!byName.TryGetValue(full, out var e))
                    throw new CheckpointException($"{path}: tensor '{name}.{key}' (module '{name}') is not in the file");
                stored[(name, key)] = full;
                if (!e.Shape.SequenceEqual(target.Shape.Select(d => (long)d)))
                    throw new CheckpointException($"{path}: tensor '{full}' has shape [{string.Join(", ", e.Shape)}] in the file, module '{name}' has {Shapes.Format(target.Shape)}");
                claimed.Add(full);
            }
        }
        foreach (var e in header.Tensors)
        {
            if (claimed.Contains(e.Name)) continue;
            if (OwningOptimizer(e.Name, optimizers.Keys) is null)
                throw new CheckpointException($"{path}: tensor '{e.Name}' is in the file but no module or optimizer given loads it");
        }
        foreach (var key in header.Metadata.Keys)
            if (key.StartsWith(OptimizerPrefix, StringComparison.Ordinal) && OwningOptimizer(key, optimizers.Keys) is null)
                throw new CheckpointException($"{path}: metadata '{key}' belongs to an optimizer that was not given");

        // Every value to the host (this also reads the whole file: nothing is written before the last byte is read).
        var (tensors, metadata) = Safetensors.Load(path, Device.Cpu);
        try
        {
            var optimizerStates = new List<(Optimizer Optimizer, OptimizerStateDict State)>();
            foreach (var (name, optimizer) in optimizers)
            {
                string prefix = $"{OptimizerPrefix}{name}.";
                var sd = OptimizerStateDict.FromCheckpoint(tensors, metadata, prefix);
                if (!sd.Scalars.ContainsKey("kind"))
                    throw new CheckpointException($"{path}: optimizer '{name}' is not in the file (no '{prefix}kind')");
                try { optimizer.CheckStateDict(sd); }
                catch (ArgumentException e)
                {
                    throw new CheckpointException($"{path}: optimizer '{name}' (entries '{prefix}*') does not match: {e.Message}", e);
                }
                optimizerStates.Add((optimizer, sd));
            }

            // Everything checked: write.
            foreach (var (name, module) in modules)
            {
                var state = module.StateDict().Keys.ToDictionary(k => k, k => tensors[stored[(name, k)]], StringComparer.Ordinal);
                module.LoadStateDict(state);
            }
            foreach (var (optimizer, sd) in optimizerStates) optimizer.LoadStateDict(sd);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        return metadata.Where(kv => !kv.Key.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>The metadata of a checkpoint (the caller's entries and <c>format</c>), reading the header only.</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        var header = Safetensors.ReadHeader(path);
        CheckFormat(path, header.Metadata);
        return header.Metadata.Where(kv => !kv.Key.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    static void CheckFormat(string path, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(FormatKey, out var format))
            throw new CheckpointException($"{path}: no '{FormatKey}' metadata: not a NativeGan checkpoint (a plain safetensors file loads with Safetensors.LoadInto)");
        if (format != Format)
            throw new CheckpointException($"{path}: the checkpoint format is '{format}', this version reads '{Format}'");
    }

    /// <summary>The optimizer whose prefix <c>optim.NAME.</c> begins <paramref name="key"/>, or null.</summary>
    static string? OwningOptimizer(string key, IEnumerable<string> names) =>
        names.FirstOrDefault(n => key.StartsWith($"{OptimizerPrefix}{n}.", StringComparison.Ordinal));

    static void CheckNames(string path, IEnumerable<string> modules, IEnumerable<string> optimizers)
    {
        foreach (var name in modules)
            if (string.IsNullOrEmpty(name) || name.Contains('.') || name == "optim")
                throw new CheckpointException($"{path}: module name '{name}' must be non-empty, without '.', and not 'optim'");
        foreach (var name in optimizers)
            if (string.IsNullOrEmpty(name) || name.Contains('.'))
                throw new CheckpointException($"{path}: optimizer name '{name}' must be non-empty and without '.'");
    }
}
