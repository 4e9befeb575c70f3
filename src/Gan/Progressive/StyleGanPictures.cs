using NativeGan.Gan.Pictures;

namespace NativeGan.Gan.Progressive;

/// <summary>
/// The pictures people look at for StyleGAN (Karras et al. 2019, figures 3, 5-8): style mixing grids, a truncation sweep,
/// the effect of the noise, and interpolation in Z beside W. Every image of a picture is drawn with the same noise
/// (one image at a time from one noise seed), so only the styles differ between cells. A latent is named by its seed:
/// seed s gives z = N(0, I) drawn by <c>new Rng(s)</c>, the same z <c>nativegan sample --seeds</c> uses.
/// </summary>
public static class StyleGanPictures
{
    /// <summary>The noise every picture's images share.</summary>
    public const ulong NoiseSeed = 0x5EED;

    /// <summary>Batches [N_i, ...] joined along the batch axis.</summary>
    static Tensor JoinBatches(IEnumerable<Tensor> batches) => Ops.Stack([.. batches.SelectMany(b => b.Unbind())]);

    /// <summary>The latent of seed <paramref name="seed"/>: [1, latent].</summary>
    public static Tensor LatentOf(ulong seed, int latent, Device device) => new Rng(seed).Normal(device, [1, latent]);

    /// <summary>Styles [N, layers, W] of the latents of <paramref name="seeds"/>.</summary>
    public static Tensor StylesOf(IStyleGenerator g, IReadOnlyList<ulong> seeds, int latent, Device device)
    {
        using var scope = new TensorScope();
        var zs = seeds.Select(s => LatentOf(s, latent, device)).ToArray();
        return scope.Keep(g.StylesOf(JoinBatches(zs)));
    }

    /// <summary>Images for styles ws [N, layers, W], each drawn alone with the shared noise.</summary>
    public static Tensor Draw(IStyleGenerator g, Tensor ws)
    {
        using var scope = new TensorScope();
        var images = ws.Unbind().Select(w => g.Synthesize(Ops.Reshape(w, 1, w.Dim(0), w.Dim(1)), new Rng(NoiseSeed))).ToArray();
        return scope.Keep(JoinBatches(images));
    }

    /// <summary>
    /// The style-mixing grid (the paper's figure 3): the top row the column latents' images, the left column the row
    /// latents' images, and cell (r, c) the row latent's styles with the column latent's on layers
    /// [<paramref name="from"/>, <paramref name="to"/>) (coarse: the first layers, 4x4 and 8x8; fine: the last). The top-left
    /// cell is blank. Returns images in grid order and the grid's columns.
    /// </summary>
    public static (Tensor Images, int Columns) MixingGrid(IStyleGenerator g, int latent, Device device, IReadOnlyList<ulong> rowSeeds, IReadOnlyList<ulong> columnSeeds, int from, int to)
    {
        if (rowSeeds.Count < 1 || columnSeeds.Count < 1) throw new ArgumentException("StyleGanPictures.MixingGrid: at least one row and one column latent");
        if (from < 0 || to > g.StyleLayers || from >= to)
            throw new ArgumentOutOfRangeException(nameof(from), $"StyleGanPictures.MixingGrid: the swapped layers [{from}, {to}) must lie in [0, {g.StyleLayers}) and hold at least one layer");
        using var scope = new TensorScope();
        var rows = StylesOf(g, rowSeeds, latent, device).Unbind();
        var columns = StylesOf(g, columnSeeds, latent, device).Unbind();
        var mask = new float[g.StyleLayers];
        for (int l = from; l < to; l++) mask[l] = 1;
        var m = Tensor.FromArray(mask, [g.StyleLayers, 1], device);
        var topRow = Draw(g, Ops.Stack(columns));
        var cells = new List<Tensor> { topRow.Unbind()[0].Mul(0f).Add(1f) }; // the blank corner, white
        cells.AddRange(topRow.Unbind());
        foreach (var row in rows)
            cells.AddRange(Draw(g, Ops.Stack([row, .. columns.Select(col => row.Add(col.Sub(row).Mul(m)))])).Unbind());
        return (scope.Keep(Ops.Stack([.. cells])), columnSeeds.Count + 1);
    }

    /// <summary>The truncation sweep (figure 8): one row per seed, one column per psi, truncated on every layer.</summary>
    public static Tensor TruncationSweep(IStyleGenerator g, int latent, Device device, IReadOnlyList<ulong> seeds, IReadOnlyList<float> psis)
    {
        var saved = g.Truncation;
        try
        {
            using var scope = new TensorScope();
            var ws = StylesOf(g, seeds, latent, device).Unbind();
            var cells = new List<Tensor>();
            foreach (var w in ws)
                foreach (var psi in psis)
                {
                    g.Truncation = new StyleTruncation(psi);
                    cells.Add(Draw(g, Ops.Reshape(w, 1, w.Dim(0), w.Dim(1))));
                }
            return scope.Keep(JoinBatches(cells));
        }
        finally
        {
            g.Truncation = saved;
        }
    }

    /// <summary>
    /// The effect of the noise (figure 4): one latent drawn with <paramref name="draws"/> noise seeds, and the per-pixel
    /// standard deviation over those draws (averaged over the channels, scaled so its largest value is white).
    /// </summary>
    public static (Tensor Draws, Tensor StdDev) NoiseEffect(IStyleGenerator g, int latent, Device device, ulong seed, int draws)
    {
        if (draws < 2) throw new ArgumentOutOfRangeException(nameof(draws), draws, "StyleGanPictures.NoiseEffect: at least 2 noise draws");
        using var scope = new TensorScope();
        var w = StylesOf(g, [seed], latent, device);
        var images = JoinBatches(Enumerable.Range(0, draws).Select(k => g.Synthesize(w, new Rng(NoiseSeed + 1 + (ulong)k))));
        var std = images.Sub(images.Mean([0], keepDims: true)).Square().Mean([0, 1], keepDims: true).Sqrt();
        float top = Math.Max(1e-8f, std.ToArray().Max());
        var shown = std.Mul(2f / top).Sub(1f); // [0, top] -> [-1, 1], the grid's range
        int c = images.Dim(1);
        var asImage = c == 1 ? shown : Ops.ChannelConcat([.. Enumerable.Repeat(shown, c)]);
        return (scope.Keep(images), scope.Keep(asImage));
    }

    /// <summary>
    /// Interpolation between two latents (section 4): the first row linear in Z, the second linear in W, each of
    /// <paramref name="steps"/> images ends included. Paths in W are expected to change the image more evenly.
    /// </summary>
    public static Tensor ZAndW(IStyleGenerator g, int latent, Device device, ulong seedA, ulong seedB, int steps)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "StyleGanPictures.ZAndW: at least 2 steps");
        using var scope = new TensorScope();
        var za = LatentOf(seedA, latent, device);
        var zb = LatentOf(seedB, latent, device);
        var wa = g.StylesOf(za);
        var wb = g.StylesOf(zb);
        float T(int s) => s / (float)(steps - 1);
        var zRow = Draw(g, g.StylesOf(JoinBatches(Enumerable.Range(0, steps).Select(s => za.Add(zb.Sub(za).Mul(T(s)))))));
        var wRow = Draw(g, JoinBatches(Enumerable.Range(0, steps).Select(s => wa.Add(wb.Sub(wa).Mul(T(s))))));
        return scope.Keep(JoinBatches([zRow, wRow]));
    }

    /// <summary>
    /// Every picture of a StyleGAN model into <paramref name="folder"/>: mixing-coarse.png, mixing-middle.png,
    /// mixing-fine.png (rows seeds 1-4, columns 5-9), truncation.png (seeds 1-6, psi 1 to 0), noise.png (seed 1, 8 noise
    /// draws and their standard deviation) and interpolation.png (seeds 1 and 2, Z above W). Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> WriteAll(IStyleGenerator g, int latent, Device device, string folder)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        int layers = g.StyleLayers;
        int scale = 2;
        ulong[] rowSeeds = [1, 2, 3, 4], columnSeeds = [5, 6, 7, 8, 9];
        // The paper's bands for 1024x1024 are 4-8, 16-32 and 64-1024; here the layers in thirds.
        int third = Math.Max(1, layers / 3);
        foreach (var (name, from, to) in new[] { ("coarse", 0, Math.Min(layers, Math.Max(2, third))), ("middle", third, Math.Min(layers, 2 * third)), ("fine", Math.Min(layers - 1, 2 * third), layers) })
        {
            if (from >= to) continue;
            var (grid, columns) = MixingGrid(g, latent, device, rowSeeds, columnSeeds, from, to);
            using (grid)
            {
                var path = Path.Combine(folder, $"mixing-{name}.png");
                ImageGrid.Save(path, grid, columns, scale: scale);
                written.Add(path);
            }
        }
        float[] psis = [1f, 0.8f, 0.6f, 0.4f, 0.2f, 0f];
        using (var sweep = TruncationSweep(g, latent, device, [1, 2, 3, 4, 5, 6], psis))
        {
            var path = Path.Combine(folder, "truncation.png");
            ImageGrid.Save(path, sweep, psis.Length, scale: scale);
            written.Add(path);
        }
        var (draws, std) = NoiseEffect(g, latent, device, 1, 8);
        using (draws)
        using (std)
        using (var both = JoinBatches([draws, std]))
        {
            var path = Path.Combine(folder, "noise.png");
            ImageGrid.Save(path, both, 9, scale: scale);
            written.Add(path);
        }
        using (var walk = ZAndW(g, latent, device, 1, 2, 9))
        {
            var path = Path.Combine(folder, "interpolation.png");
            ImageGrid.Save(path, walk, 9, scale: scale);
            written.Add(path);
        }
        return written;
    }
}
