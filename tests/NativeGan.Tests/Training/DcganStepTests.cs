using NativeGan.Gan.Data;
using NativeGan.Gan.Gans;
using NativeGan.Nn;

namespace NativeGan.Tests.Training;

/// <summary>
/// One whole DCGAN training step equals PyTorch's: the losses, the backward pass through BCE with logits,
/// LeakyReLU, ReLU, Tanh, batch norm and the (transposed) convolutions, and Adam with betas (0.5, 0.999).
/// <para>The golden file TestData/torch-dcgan-step.safetensors holds a small DCGAN (latent 10, widths 8, 1x32x32,
/// batch 4) initialised by PyTorch, a real batch and the step's latents, and PyTorch's result of the step that
/// <see cref="GanJob.Step(Batch, long, Tensor)"/> does (one G forward, D on real and fake as two batches, then
/// the non-saturating G loss on the same fakes through the updated D): the losses, every parameter and batch-norm
/// buffer after the step and the gradients, and the same after a second step. Regenerate it (Debian's python3
/// with torch 1.13) with
///   /usr/bin/python3 tools/torch_step.py write tests/NativeGan.Tests/TestData/torch-dcgan-step.safetensors</para>
/// <para>Adam's first step moves every weight by about lr * sign(gradient) = ±2e-4, which a relative tolerance on
/// the weights alone barely sees; so the deltas (after - before) are compared too, to 2% of lr plus 2% of the
/// delta: a gradient of the wrong sign, or a delta off by more than that, fails.</para>
/// </summary>
public class DcganStepTests
{
    /// <summary>cpu, and cuda where there is a GPU (it skips itself elsewhere). Not ilgpu-cpu: the step launches
    /// every kind of DCGAN kernel, and ILGPU's CPU accelerator took 55 s for it (2 shared cores); the kernels
    /// themselves are tested there one by one.</summary>
    public static TheoryData<string> Devices => new("cpu", "cuda");

    const float Lr = 2e-4f;

    static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Golden()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "torch-dcgan-step.safetensors");
        var golden = Safetensors.Load(path, Device.Cpu);
        Assert.StartsWith("torch ", golden.Metadata["written_by"]);
        return golden;
    }

    static Dictionary<string, Tensor> Under(Dictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);

    /// <summary>A dcgan job of the golden file's config holding PyTorch's initial generator and discriminator.</summary>
    static GanJob Job(Dictionary<string, Tensor> golden, Dictionary<string, string> metadata, Device device)
    {
        var config = new Dictionary<string, string>();
        foreach (var key in new[] { "latent", "g_width", "d_width", "beta1", "beta2" }) config[key] = metadata[key];
        (config["data_shape"], config["lr_g"], config["lr_d"]) = (metadata["image"], metadata["lr"], metadata["lr"]);
        var job = TestJobs.Dcgan(config, device);
        job.Generator.LoadStateDict(Under(golden, "generator."));
        job.Discriminator.LoadStateDict(Under(golden, "discriminator."));
        return job;
    }

    /// <summary>Element-wise |a - e| &lt;= atol + rtol |e| for every element; returns the max abs and rel errors.</summary>
    sealed record Row(string Name, double MaxAbs, double MaxRel, string? Failure);

    static Row Compare(string what, float[] expected, float[] actual, double rtol, double atol)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxAbs = 0, maxRel = 0;
        string? failure = null;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs((double)actual[i] - expected[i]);
            maxAbs = Math.Max(maxAbs, err);
            if (expected[i] != 0) maxRel = Math.Max(maxRel, err / Math.Abs(expected[i]));
            if (!(err <= atol + rtol * Math.Abs(expected[i])))
                failure ??= $"{what}[{i}] is {actual[i]:g7}, PyTorch {expected[i]:g7} (error {err:g3})";
        }
        return new Row(what, maxAbs, maxRel, failure);
    }

    static void Report(string title, List<Row> rows)
    {
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"{title}: max abs {rows.Max(r => r.MaxAbs):g3}, max rel {rows.Max(r => r.MaxRel):g3} over {rows.Count} tensors");
        foreach (var r in rows) output?.WriteLine($"  {r.Name,-40} abs {r.MaxAbs:g3} rel {r.MaxRel:g3}");
        var failures = rows.Where(r => r.Failure is not null).Select(r => r.Failure!).ToList();
        Assert.True(failures.Count == 0, $"{title}: {failures.Count} of {rows.Count} tensors differ from PyTorch's:\n" + string.Join("\n", failures));
    }

    [Theory, MemberData(nameof(Devices))]
    public void OneTrainingStepEqualsPyTorchs(string deviceName) => ReplaySteps(deviceName, 1);

    /// <summary>Two steps: Adam's second update weighs two gradients (no longer lr * sign), from its kept moments
    /// and step count, and the batch-norm running statistics move twice.</summary>
    [Theory, MemberData(nameof(Devices))]
    public void TwoTrainingStepsEqualPyTorchs(string deviceName) => ReplaySteps(deviceName, 2);

    /// <summary>Loads PyTorch's initial state into a dcgan job, runs <paramref name="steps"/> steps with PyTorch's
    /// inputs and compares the losses, every parameter and buffer, and the deltas from the initial state.</summary>
    static void ReplaySteps(string deviceName, int steps)
    {
        var device = TestDevices.Get(deviceName);
        var (golden, metadata) = Golden();
        try
        {
            using var job = Job(golden, metadata, device);
            var before = new Dictionary<string, float[]>(StringComparer.Ordinal);
            foreach (var (prefix, module) in new[] { ("generator.", (Module)job.Generator), ("discriminator.", job.Discriminator) })
                foreach (var (name, t) in module.StateDict()) before[prefix + name] = t.ToArray();

            var rows = new List<Row>();
            for (int step = 0; step < steps; step++)
            {
                string tag = step == 0 ? "" : $"step{step + 1}.";
                using var batch = new Batch(golden[tag + "real"].To(device), null, 0, step);
                using var z = golden[tag + "z"].To(device);
                var losses = job.Step(batch, step, z);
                rows.Add(Compare(tag + "loss_d", golden[tag + "loss_d"].ToArray(), [losses["loss_d"]], 1e-4, 1e-5));
                rows.Add(Compare(tag + "loss_g", golden[tag + "loss_g"].ToArray(), [losses["loss_g"]], 1e-4, 1e-5));
            }

            string after = steps == 1 ? "after." : $"after{steps}.";
            var deltas = new List<Row>();
            foreach (var (prefix, module) in new[] { ("generator.", (Module)job.Generator), ("discriminator.", job.Discriminator) })
                foreach (var (name, t) in module.StateDict())
                {
                    string key = prefix + name;
                    var expected = golden[after + key].ToArray();
                    var actual = t.ToArray();
                    rows.Add(Compare(key, expected, actual, 1e-4, 1e-5));
                    if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
                    var b = before[key];
                    var expectedDelta = expected.Select((v, i) => v - b[i]).ToArray();
                    var actualDelta = actual.Select((v, i) => v - b[i]).ToArray();
                    deltas.Add(Compare(key, expectedDelta, actualDelta, 0.02, 0.02 * Lr));
                }
            Report($"after {steps} step(s)", rows);
            Report($"deltas (after - before) over {steps} step(s)", deltas);
        }
        finally
        {
            foreach (var t in golden.Values) t.Dispose();
        }
    }

    [Fact]
    public void GivenLatentsOfTheWrongShapeAreRefusedByName()
    {
        using var job = TestJobs.Dcgan(new Dictionary<string, string> { ["latent"] = "10", ["g_width"] = "8", ["d_width"] = "8" });
        using var batch = new Batch(Tensor.Zeros(Device.Cpu, 4, 1, 32, 32), null, 0, 0);
        using var z = Tensor.Zeros(Device.Cpu, 3, 10, 1, 1);
        var e = Assert.Throws<TensorShapeException>(() => job.Step(batch, 0, z));
        Assert.Contains("dcgan", e.Message);
        Assert.Contains("[4, 10, 1, 1]", e.Message);
        Assert.Contains("[3, 10, 1, 1]", e.Message);
    }

    /// <summary>
    /// The gradients Adam sees, tensor by tensor (Adam's first step is lr * sign(gradient), blind to a wrong scale;
    /// these are not): the discriminator's of loss_d at the initial weights, and the generator's of loss_g through
    /// PyTorch's updated discriminator. The forward and backward passes are GanJob.Step's, written out.
    /// </summary>
    [Theory, MemberData(nameof(Devices))]
    public void TheGradientsOfBothLossesEqualPyTorchs(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var (golden, metadata) = Golden();
        try
        {
            using var job = Job(golden, metadata, device);
            using var real = golden["real"].To(device);
            using var z = golden["z"].To(device);
            var rows = new List<Row>();
            using (new TensorScope())
            {
                var fake = job.Generator.Forward(z);
                using var fakeDetached = fake.Detach();
                var lossD = Losses.BceWithLogits(job.Discriminator.Forward(real), 1f)
                    .Add(Losses.BceWithLogits(job.Discriminator.Forward(fakeDetached), 0f));
                lossD.Backward();
                rows.AddRange(CompareGradients(job.Discriminator, "grad_d.discriminator.", golden));
                job.Discriminator.ZeroGrad();
                job.Generator.ZeroGrad();
            }
            // PyTorch's discriminator after its update (train mode: its running statistics play no part).
            job.Discriminator.LoadStateDict(Under(golden, "after.discriminator."));
            using (new TensorScope())
            {
                var lossG = Losses.BceWithLogits(job.Discriminator.Forward(job.Generator.Forward(z)), 1f);
                lossG.Backward();
                rows.AddRange(CompareGradients(job.Generator, "grad_g.generator.", golden));
                job.Discriminator.ZeroGrad();
                job.Generator.ZeroGrad();
            }
            Report("gradients", rows);
        }
        finally
        {
            foreach (var t in golden.Values) t.Dispose();
        }
    }

    /// <summary>Each parameter's gradient against PyTorch's, to rtol 1e-3 plus 1e-4 of the tensor's largest entry
    /// (float32 sums in another order: an entry that is a near cancellation gets an absolute allowance).</summary>
    static IEnumerable<Row> CompareGradients(Module module, string prefix, Dictionary<string, Tensor> golden)
    {
        foreach (var (name, p) in module.NamedParameters())
        {
            Assert.NotNull(p.Grad);
            var expected = golden[prefix + name].ToArray();
            double scale = expected.Max(v => Math.Abs((double)v));
            yield return Compare(prefix + name, expected, p.Grad.ToArray(), 1e-3, 1e-4 * scale);
        }
    }
}
