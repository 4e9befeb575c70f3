namespace NativeGan.Gan.Pictures;

/// <summary>An opaque colour, 8 bits per channel.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static readonly Rgb White = new(255, 255, 255);
    public static readonly Rgb Black = new(0, 0, 0);
    public static readonly Rgb Gray = new(128, 128, 128);
    public static readonly Rgb LightGray = new(225, 225, 225);

    /// <summary>The colour from a 0xRRGGBB literal.</summary>
    public static Rgb FromHex(int rrggbb) => new((byte)(rrggbb >> 16), (byte)(rrggbb >> 8), (byte)rrggbb);

    /// <summary>
    /// <paramref name="alpha"/> of this colour over <paramref name="under"/> (0 keeps <paramref name="under"/>,
    /// 1 gives this colour), rounded to the nearest byte.
    /// </summary>
    public Rgb Over(Rgb under, float alpha)
    {
        if (!(alpha > 0f)) return under;
        if (alpha >= 1f) return this;
        static byte Mix(byte top, byte bottom, float a) => (byte)(bottom + (top - bottom) * a + 0.5f);
        return new(Mix(R, under.R, alpha), Mix(G, under.G, alpha), Mix(B, under.B, alpha));
    }
}

/// <summary>
/// Ten colours that stay distinct from each other and on white: matplotlib's "tab10" (Vega category10).
/// Series and classes take them in order; index 10 wraps to 0.
/// </summary>
public static class Palette
{
    static readonly Rgb[] colours =
    [
        Rgb.FromHex(0x1F77B4), // blue
        Rgb.FromHex(0xFF7F0E), // orange
        Rgb.FromHex(0x2CA02C), // green
        Rgb.FromHex(0xD62728), // red
        Rgb.FromHex(0x9467BD), // purple
        Rgb.FromHex(0x8C564B), // brown
        Rgb.FromHex(0xE377C2), // pink
        Rgb.FromHex(0x7F7F7F), // gray
        Rgb.FromHex(0xBCBD22), // olive
        Rgb.FromHex(0x17BECF), // cyan
    ];

    public static int Count => colours.Length;

    /// <summary>Colour number <paramref name="index"/> (wraps around; negative indices count from the end).</summary>
    public static Rgb Get(int index) => colours[((index % colours.Length) + colours.Length) % colours.Length];
}
