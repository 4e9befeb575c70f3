namespace NativeGan.Gan.Data;

/// <summary>
/// Whole-dataset image transforms, applied once at load time (the datasets are small): pad, resize,
/// change the channel count. Each returns a new <see cref="Dataset"/> with the same labels.
/// </summary>
public static class Transforms
{
    /// <summary>
    /// Pads every image to <paramref name="size"/> x <paramref name="size"/>, centered, with
    /// <paramref name="value"/> (-1 = the background of MNIST in model range). MNIST's 28 x 28 digits become
    /// 32 x 32, the power of two DCGAN's stride-2 layers need, without resampling a pixel.
    /// </summary>
    public static Dataset PadTo(Dataset data, int size, float value = -1f)
    {
        var (c, h, w) = ImageShape(data, "PadTo");
        if (size < h || size < w)
            throw new ArgumentException($"Transforms.PadTo: images of {h}x{w} do not fit in {size}x{size} (resize instead)");
        if (size == h && size == w) return data;
        int top = (size - h) / 2, left = (size - w) / 2;
        var output = new float[data.Count * c * size * size];
        Array.Fill(output, value);
        for (int n = 0; n < data.Count; n++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    data.Data.AsSpan(((n * c + ch) * h + y) * w, w)
                        .CopyTo(output.AsSpan(((n * c + ch) * size + top + y) * size + left));
        return data with { Data = output, SampleShape = [c, size, size] };
    }

    /// <summary>Resizes every image to <paramref name="size"/> x <paramref name="size"/> (see <see cref="ResizeImage"/>).</summary>
    public static Dataset Resize(Dataset data, int size)
    {
        var (c, h, w) = ImageShape(data, "Resize");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (size == h && size == w) return data;
        var output = new float[data.Count * c * size * size];
        int inSize = c * h * w, outSize = c * size * size;
        Parallel.For(0, data.Count, n =>
            ResizeImage(data.Data.AsSpan(n * inSize, inSize), c, h, w, output.AsSpan(n * outSize, outSize), size, size));
        return data with { Data = output, SampleShape = [c, size, size] };
    }

    /// <summary>
    /// Converts every image to <paramref name="channels"/> channels: 1 -> 3 repeats the gray plane;
    /// 3 -> 1 takes the luma 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, what PIL's convert("L") uses).
    /// </summary>
    public static Dataset ToChannels(Dataset data, int channels)
    {
        var (c, h, w) = ImageShape(data, "ToChannels");
        if (c == channels) return data;
        int plane = h * w;
        var output = new float[data.Count * channels * plane];
        for (int n = 0; n < data.Count; n++)
        {
            var src = data.Data.AsSpan(n * c * plane, c * plane);
            var dst = output.AsSpan(n * channels * plane, channels * plane);
            if (c == 1 && channels == 3)
                for (int ch = 0; ch < 3; ch++) src.CopyTo(dst.Slice(ch * plane, plane));
            else if (c == 3 && channels == 1)
                for (int i = 0; i < plane; i++) dst[i] = 0.299f * src[i] + 0.587f * src[plane + i] + 0.114f * src[2 * plane + i];
            else
                throw new ArgumentException($"Transforms.ToChannels: cannot convert {c} channels to {channels} (1 <-> 3 only)");
        }
        return data with { Data = output, SampleShape = [channels, h, w] };
    }

    /// <summary>
    /// Resizes one [C, H, W] image to [C, outH, outW], each axis on its own (separable): where an axis shrinks,
    /// each output pixel is the average of the input pixels it covers, weighted by the covered length (area
    /// resampling: no aliasing when shrinking photos); where it grows, bilinear interpolation with pixel centers
    /// at half-integers (PyTorch's align_corners=False), edges clamped.
    /// </summary>
    public static void ResizeImage(ReadOnlySpan<float> src, int channels, int h, int w, Span<float> dst, int outH, int outW)
    {
        var wx = AxisWeights(w, outW);
        var wy = AxisWeights(h, outH);
        var rows = new float[h * outW]; // one channel resized along x
        for (int c = 0; c < channels; c++)
        {
            var plane = src.Slice(c * h * w, h * w);
            for (int y = 0; y < h; y++)
                for (int ox = 0; ox < outW; ox++)
                {
                    float s = 0;
                    foreach (var (i, weight) in wx[ox]) s += weight * plane[y * w + i];
                    rows[y * outW + ox] = s;
                }
            var outPlane = dst.Slice(c * outH * outW, outH * outW);
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    float s = 0;
                    foreach (var (i, weight) in wy[oy]) s += weight * rows[i * outW + ox];
                    outPlane[oy * outW + ox] = s;
                }
        }
    }

    /// <summary>For each output index along one axis, the input indices and weights (summing to 1) it reads.</summary>
    static (int Index, float Weight)[][] AxisWeights(int inLength, int outLength)
    {
        var weights = new (int, float)[outLength][];
        double scale = (double)inLength / outLength;
        for (int o = 0; o < outLength; o++)
        {
            if (scale >= 1)
            {   // area: output pixel o covers input [o*scale, (o+1)*scale)
                double a = o * scale, b = (o + 1) * scale;
                var list = new List<(int, float)>();
                for (int i = (int)Math.Floor(a); i < Math.Min(inLength, (int)Math.Ceiling(b)); i++)
                {
                    double overlap = Math.Min(b, i + 1) - Math.Max(a, i);
                    if (overlap > 1e-12) list.Add((i, (float)(overlap / scale)));
                }
                weights[o] = [.. list];
            }
            else
            {   // bilinear: the output pixel's center in input coordinates
                double x = Math.Clamp((o + 0.5) * scale - 0.5, 0, inLength - 1);
                int i0 = (int)Math.Floor(x), i1 = Math.Min(i0 + 1, inLength - 1);
                float t = (float)(x - i0);
                weights[o] = i0 == i1 ? [(i0, 1f)] : [(i0, 1 - t), (i1, t)];
            }
        }
        return weights;
    }

    static (int C, int H, int W) ImageShape(Dataset data, string op)
    {
        if (!data.IsImage)
            throw new ArgumentException($"Transforms.{op}: {data.Name} holds samples of shape [{string.Join(", ", data.SampleShape)}], not images [C, H, W]");
        return (data.SampleShape[0], data.SampleShape[1], data.SampleShape[2]);
    }
}
