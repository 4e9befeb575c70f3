using NativeGan.Gan.Data;
using NativeGan.Gan.Tabular;

namespace NativeGan.Gan.RadialGan;

/// <summary>
/// The paper's pairwise baseline: a cycle-GAN between each pair of domains, trained on those two domains' rows alone, so each
/// translation into the target comes from networks that saw only its source and the target. Each pair is a
/// <see cref="RadialGanJob"/> of two domains (the same networks, losses, batches and settings as RadialGAN): with two domains its
/// losses are a cycle-GAN's, the generator source -> target being F_target(E_source(x, y), y), with an adversarial loss
/// per direction and the cycle loss both ways. What it lacks against RadialGAN is the latent space shared by every domain.
/// </summary>
public sealed class CycleGanPairs : IDisposable
{
    readonly Dictionary<(int, int), RadialGanJob> jobs = [];

    CycleGanPairs() { }

    /// <summary>Trains the pairs of domains the <paramref name="targets"/> need (each target with every other domain) on <paramref name="data"/>
    /// (a split's training rows), with RadialGAN's <paramref name="options"/> for the whole table and the protocol's steps and batches.</summary>
    public static CycleGanPairs Train(Dataset data, RadialGanOptions options, IReadOnlyList<int> targets, ProtocolSettings settings, Device device)
    {
        var pairs = new CycleGanPairs();
        int f = options.FeatureCount, width = data.SampleSize;
        try
        {
            foreach (int t in targets)
                for (int i = 0; i < options.Domains; i++)
                {
                    var key = (Math.Min(i, t), Math.Max(i, t));
                    if (i == t || pairs.jobs.ContainsKey(key)) continue;
                    var (a, b) = key;
                    var rows = Enumerable.Range(0, data.Count).Where(r => data.Labels![r] == a || data.Labels[r] == b).ToArray();
                    var samples = new float[rows.Length * width];
                    for (int k = 0; k < rows.Length; k++) Array.Copy(data.Data, rows[k] * width, samples, k * width, width);
                    var pairData = new Dataset($"{data.Name}, domains {a} and {b}", samples, data.SampleShape, [.. rows.Select(r => data.Labels![r] == a ? 0 : 1)], 2);
                    var pairOptions = options with
                    {
                        Domains = 2,
                        FeatureMask = [.. options.FeatureMask.Skip(a * f).Take(f), .. options.FeatureMask.Skip(b * f).Take(f)],
                        Seed = options.Seed ^ (0xC7C1E000UL + (ulong)(a * options.Domains + b)),
                    };
                    var job = new RadialGanJob(pairOptions, device);
                    pairs.jobs[key] = job;
                    RadialGanProtocol.Train(job, pairData, settings.Steps, settings.Batch, pairOptions.Seed, device, settings.Batching);
                }
            return pairs;
        }
        catch
        {
            pairs.Dispose();
            throw;
        }
    }

    /// <summary>The cycle-GAN between domains <paramref name="a"/> and <paramref name="b"/> (its domain 0 is the smaller index).</summary>
    public RadialGanJob Pair(int a, int b) => jobs[(Math.Min(a, b), Math.Max(a, b))];

    /// <summary>Every other domain's training rows of <paramref name="split"/> translated into <paramref name="target"/> by its pair's
    /// cycle-GAN, with their labels, and the target's discriminator logits of that pair on them.</summary>
    public (DomainSamples Rows, float[] Judged) Translated(TabularSplit split, int target)
    {
        int width = split.Part(target, SplitPart.Train).Width;
        var x = new List<float>();
        var y = new List<float>();
        var judged = new List<float>();
        for (int i = 0; i < split.Layout.DomainCount; i++)
        {
            if (i == target) continue;
            var job = Pair(i, target);
            int from = i < target ? 0 : 1, to = 1 - from;
            var source = split.Part(i, SplitPart.Train);
            var rows = job.Translate(from, to, source.X, source.Y, source.Count);
            x.AddRange(rows);
            y.AddRange(source.Y);
            judged.AddRange(job.DiscriminatorLogits(to, rows, source.Y, source.Count));
        }
        return (new DomainSamples([.. x], [.. y], y.Count, width), [.. judged]);
    }

    /// <summary>Frees every pair's networks.</summary>
    public void Dispose()
    {
        foreach (var job in jobs.Values) job.Dispose();
        jobs.Clear();
    }
}
