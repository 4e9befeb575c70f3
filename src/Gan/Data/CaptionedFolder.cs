namespace NativeGan.Gan.Data;

/// <summary>
/// A folder of pictures with a captions file (<c>captions.txt</c>): one <c>FILE&lt;TAB&gt;CAPTION</c> a line, FILE relative
/// to the folder; a file may have several lines (several captions); empty lines and lines starting with '#' are skipped.
/// Only the files the captions file names are used, in the order they first appear. Pictures are composited on white
/// (transparent pixels become white, as for <see cref="EmojiData"/>), center-cropped and resized to the size asked for.
/// A line without a tab, with an empty file name or caption, or naming a file that does not exist is refused, naming the
/// captions file and the line; so is a picture that cannot be decoded, naming it.
/// </summary>
public static class CaptionedFolder
{
    public const string CaptionsFile = "captions.txt";

    /// <summary>Whether <paramref name="folder"/> is a captioned folder (holds captions.txt).</summary>
    public static bool IsCaptioned(string folder) => Directory.Exists(folder) && File.Exists(Path.Combine(folder, CaptionsFile));

    /// <summary>The captioned pictures of <paramref name="folder"/> at <paramref name="size"/> x <paramref name="size"/> (default 64); no labels.</summary>
    public static Dataset Load(string folder, int? size = null)
    {
        if (size is <= 0) throw new ArgumentException($"CaptionedFolder.Load: size {size}");
        var captionsPath = Path.Combine(folder, CaptionsFile);
        if (!File.Exists(captionsPath)) throw new DataException($"{folder}: no {CaptionsFile} (one 'file<TAB>caption' a line)");
        var order = new List<string>();
        var byFile = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(captionsPath))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#')) continue;
            int tab = line.IndexOf('\t');
            if (tab < 0) throw new DataException($"{captionsPath}:{lineNumber}: expected 'file<TAB>caption', found no tab in \"{Shorten(line)}\"");
            string file = line[..tab].Trim(), caption = line[(tab + 1)..].Trim();
            if (file.Length == 0) throw new DataException($"{captionsPath}:{lineNumber}: the file name is empty");
            if (caption.Length == 0) throw new DataException($"{captionsPath}:{lineNumber}: the caption of {file} is empty");
            if (!byFile.TryGetValue(file, out var list))
            {
                if (!File.Exists(Path.Combine(folder, file))) throw new DataException($"{captionsPath}:{lineNumber}: {Path.Combine(folder, file)} does not exist");
                byFile[file] = list = [];
                order.Add(file);
            }
            list.Add(caption);
        }
        if (order.Count == 0) throw new DataException($"{captionsPath} names no pictures (one 'file<TAB>caption' a line)");
        int side = size ?? EmojiData.Side;
        var pixels = EmojiData.LoadPictures([.. order.Select(f => Path.Combine(folder, f))], side);
        return new Dataset($"{folder} ({order.Count} captioned pictures)", pixels, [3, side, side], null, 0)
        {
            Captions = [.. order.Select(f => byFile[f].ToArray())],
        };
    }

    static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
