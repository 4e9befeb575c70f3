using NativeGan.Gan.Pictures;
using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// A GAN job's progress picture, from fixed latents so pictures of one run compare step to step: for images an 8x8 grid
/// (a conditional model: one row per class, the same 8 latents in every row, so a column shows one z across the classes);
/// for 2D points a scatter of generated points over real ones (the real points a run has seen).
/// </summary>
sealed class GanPictures : IDisposable
{
    const int ScatterPoints = 2000;
    readonly GanJob job;
    readonly Tensor latents;
    readonly List<float> realPoints = [];

    public GanPictures(GanJob job, Rng rng)
    {
        this.job = job;
        int count = job.IsImage ? (job.ClassCount > 0 ? 8 : 64) : ScatterPoints;
        latents = rng.Normal(job.Device, [count, job.LatentSize]);
    }

    /// <summary>Keeps the first real points a 2D run sees, for the scatter.</summary>
    public void SeeReal(Tensor samples)
    {
        if (!job.IsImage && realPoints.Count < 2 * ScatterPoints) realPoints.AddRange(samples.ToArray().Take(2 * ScatterPoints - realPoints.Count));
    }

    /// <summary>Real points for a job that saw no training data (a loaded checkpoint).</summary>
    public void ShowReal(ReadOnlySpan<float> xy)
    {
        if (realPoints.Count == 0) realPoints.AddRange(xy[..Math.Min(xy.Length, 2 * ScatterPoints)]);
    }

    public void Write(string path)
    {
        int count = latents.Dim(0);
        if (!job.IsImage)
        {
            using var fake = job.Generate(latents, job.ClassCount > 0 ? [.. Enumerable.Range(0, count).Select(i => i % job.ClassCount)] : null);
            var f = fake.ToArray();
            static double[] Axis(float[] xy, int a) => [.. Enumerable.Range(0, xy.Length / 2).Select(i => (double)xy[2 * i + a])];
            ScatterPlot.Save(path, $"{job.Kind}: real vs generated", [
                new PointSet("real", Axis([.. realPoints], 0), Axis([.. realPoints], 1)),
                new PointSet("generated", Axis(f, 0), Axis(f, 1))]);
            return;
        }
        int scale = ImageGrid.ScaleFor(job.SampleShape[1]);
        if (job.ClassCount == 0)
        {
            using var images = job.Generate(latents);
            ImageGrid.Save(path, images, columns: 8, scale: scale);
            return;
        }
        var rows = new List<Tensor>();
        try
        {
            for (int c = 0; c < job.ClassCount; c++) rows.Add(job.Generate(latents, [.. Enumerable.Repeat(c, count)]));
            ImageGrid.SaveRows(path, rows, columns: count, scale: scale);
        }
        finally
        {
            foreach (var r in rows) r.Dispose();
        }
    }

    public void Dispose() => latents.Dispose();
}
