using NativeGan.Gan.Autoencoders;
using NativeGan.Gan.Training;

namespace NativeGan.Tests.Training;

/// <summary>
/// The one reader of job settings: defaults overlaid with given values, unknown keys refused or kept, typed
/// getters whose errors name the kind, the key and the value, and Format helpers whose text reads back exactly.
/// </summary>
public class JobConfigTests
{
    static readonly Dictionary<string, string> Defaults = new()
    {
        ["latent"] = "100",
        ["lr"] = "0.0002",
        ["seed"] = "0",
        ["mbstd"] = "false",
        ["widths"] = "256,512",
        ["image"] = "1,32,32",
        ["arch"] = "conv",
        ["recon"] = "mse",
    };

    static JobConfig Config(Dictionary<string, string> given, bool refuseUnknown = true) =>
        new("testkind", Defaults, given, refuseUnknown);

    static JobConfig With(string key, string value) => Config(new() { [key] = value });

    [Fact]
    public void GivenValuesOverlayTheDefaults()
    {
        var c = Config(new() { ["latent"] = "64" });
        Assert.Equal(64, c.Int("latent"));
        Assert.Equal(0.0002f, c.Float("lr"));
        Assert.Equal(Defaults.Count, c.Values.Count);
        Assert.Equal("64", c.Values["latent"]);
        Assert.Equal("0.0002", c.Values["lr"]);
        Assert.Equal("testkind", c.Kind);
        Assert.Equal("100", Defaults["latent"]); // the defaults themselves are left alone
    }

    [Fact]
    public void UnknownKeysAreRefusedNamingThemAndTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Config(new() { ["colour"] = "red", ["latent"] = "3" }));
        Assert.StartsWith("testkind:", e.Message);
        Assert.Contains("unknown setting(s) colour", e.Message);
        Assert.Contains("known: arch, image, latent, lr, mbstd, recon, seed, widths", e.Message);
        Assert.DoesNotContain("latent;", e.Message); // a known key given is not called unknown

        var r = Assert.Throws<ArgumentException>(() => JobConfig.RefuseUnknown("gan", Defaults, new Dictionary<string, string> { ["bogus"] = "1" }));
        Assert.Contains("gan: unknown setting(s) bogus", r.Message);
    }

    [Fact]
    public void UnknownKeysAreKeptWhenNotRefused()
    {
        var c = Config(new() { ["colour"] = "red" }, refuseUnknown: false);
        Assert.Equal("red", c.Values["colour"]);
        Assert.Equal("red", c.String("colour"));
        Assert.Equal(Defaults.Count + 1, c.Values.Count);
    }

    [Fact]
    public void MissingKeyIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => Config(new()).String("nope"));
        Assert.Contains("testkind: no setting 'nope'", e.Message);
    }

    [Theory]
    [InlineData("latent", "many")]
    [InlineData("latent", "1.5")]
    [InlineData("latent", "99999999999")]
    [InlineData("seed", "-1")]
    [InlineData("seed", "x")]
    [InlineData("lr", "fast")]
    [InlineData("lr", "NaN")]
    [InlineData("lr", "Infinity")]
    [InlineData("lr", "1e39")] // overflows float to infinity
    [InlineData("mbstd", "maybe")]
    [InlineData("widths", "256,,512")]
    [InlineData("widths", "256,0")]
    [InlineData("widths", "256,-4")]
    [InlineData("widths", "a,b")]
    [InlineData("image", "")]
    [InlineData("image", "1,32,x")]
    [InlineData("image", "0,32,32")]
    [InlineData("arch", "rnn")]
    [InlineData("recon", "l2")]
    [InlineData("recon", "1")] // an enum's number is not a name
    public void BadValuesAreRefusedNamingKindKeyAndValue(string key, string value)
    {
        var c = With(key, value);
        Func<object> read = key switch
        {
            "latent" => () => c.Int(key),
            "seed" => () => c.ULong(key),
            "lr" => () => c.Float(key),
            "mbstd" => () => c.Bool(key),
            "widths" => () => c.Ints(key),
            "image" => () => c.Shape(key),
            "arch" => () => c.OneOf(key, "conv", "mlp"),
            "recon" => () => c.OneOf<ReconstructionLoss>(key),
            _ => throw new ArgumentOutOfRangeException(nameof(key)),
        };
        var e = Assert.Throws<ArgumentException>(read);
        Assert.StartsWith("testkind:", e.Message);
        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains($"got '{value}'", e.Message);
    }

    [Fact]
    public void IntMinimumIsCheckedAndNamed()
    {
        Assert.Equal(1, With("latent", "1").Int("latent", min: 1));
        var e = Assert.Throws<ArgumentException>(() => With("latent", "0").Int("latent", min: 1));
        Assert.Contains("an integer >= 1", e.Message);
    }

    [Fact]
    public void NumbersIgnoreSurroundingWhitespaceAndLocale()
    {
        Assert.Equal(7, With("latent", " 7 ").Int("latent"));
        Assert.Equal(18446744073709551615UL, With("seed", "18446744073709551615").ULong("seed"));
        Assert.Equal(1e-5f, With("lr", "1e-5").Float("lr"));
        // A comma decimal (a German locale) is not a number here: settings are invariant.
        Assert.Throws<ArgumentException>(() => With("lr", "0,5").Float("lr"));
        Assert.Equal(" conv ", With("arch", " conv ").Values["arch"]); // Values keep the text as given
        Assert.Equal("conv", With("arch", " conv ").OneOf("arch", "conv", "mlp"));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("1", true)]
    [InlineData("yes", true)]
    [InlineData("ON", true)]
    [InlineData(" true ", true)]
    [InlineData("false", false)]
    [InlineData("FALSE", false)]
    [InlineData("0", false)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    [InlineData("", false)]
    public void BoolAcceptsTheLenientForms(string text, bool expected) =>
        Assert.Equal(expected, With("mbstd", text).Bool("mbstd"));

    [Theory]
    [InlineData("400,400,400", new[] { 400, 400, 400 })]
    [InlineData("16", new[] { 16 })]
    [InlineData(" 3 , 5 ", new[] { 3, 5 })]
    [InlineData("", new int[0])]
    [InlineData("  ", new int[0])]
    public void IntsReadCommaLists(string text, int[] expected) =>
        Assert.Equal(expected, With("widths", text).Ints("widths"));

    [Theory]
    [InlineData("1,32,32", new[] { 1, 32, 32 })]
    [InlineData("2", new[] { 2 })]
    [InlineData("3, 64, 64", new[] { 3, 64, 64 })]
    public void ShapeReadsSizes(string text, int[] expected) =>
        Assert.Equal(expected, With("image", text).Shape("image"));

    [Fact]
    public void EnumsReadTheirNamesInAnyCase()
    {
        Assert.Equal(ReconstructionLoss.Mse, Config(new()).OneOf<ReconstructionLoss>("recon"));
        Assert.Equal(ReconstructionLoss.Bce, With("recon", "BCE").OneOf<ReconstructionLoss>("recon"));
        var e = Assert.Throws<ArgumentException>(() => With("recon", "l2").OneOf<ReconstructionLoss>("recon"));
        Assert.Contains("one of mse, bce", e.Message);
    }

    [Theory]
    [InlineData(0.1f)]
    [InlineData(1e-5f)]
    [InlineData(3.4028235e38f)]   // float.MaxValue
    [InlineData(1.401298e-45f)]   // the smallest subnormal
    [InlineData(-0.0002f)]
    [InlineData(0.9f)]
    [InlineData(0.999f)]
    [InlineData(1f / 3f)]
    public void FloatFormatReadsBackBitIdentical(float v)
    {
        var text = JobConfig.Format(v);
        float back = With("lr", text).Float("lr");
        Assert.Equal(BitConverter.SingleToInt32Bits(v), BitConverter.SingleToInt32Bits(back));
    }

    [Fact]
    public void FormatsAreTheTextTheGettersRead()
    {
        Assert.Equal("0.1", JobConfig.Format(0.1f)); // shortest round-trip text, not 0.100000001
        Assert.Equal("-12", JobConfig.Format(-12));
        Assert.Equal(-12, With("latent", JobConfig.Format(-12)).Int("latent"));
        Assert.Equal("18446744073709551615", JobConfig.Format(ulong.MaxValue));
        Assert.Equal(ulong.MaxValue, With("seed", JobConfig.Format(ulong.MaxValue)).ULong("seed"));
        Assert.Equal("true", JobConfig.Format(true));
        Assert.Equal("false", JobConfig.Format(false));
        Assert.False(With("mbstd", JobConfig.Format(false)).Bool("mbstd"));
        Assert.True(With("mbstd", JobConfig.Format(true)).Bool("mbstd"));
        Assert.Equal("1,32,32", JobConfig.Format([1, 32, 32]));
        Assert.Equal("", JobConfig.Format(Array.Empty<int>()));
        Assert.Equal(new[] { 3, 64, 64 }, With("image", JobConfig.Format([3, 64, 64])).Shape("image"));
        Assert.Empty(With("widths", JobConfig.Format(Array.Empty<int>())).Ints("widths"));
    }
}
