using NativeGan.Gan.Autoencoders;
using NativeGan.Gan.Gans;
using NativeGan.Gan.Training;

namespace NativeGan.Tests.Training;

/// <summary>
/// The one reader of model settings: text settings bound onto a typed options record, every mistake refused naming the
/// kind, the key, the value and what is expected; text and JSON that read back to equal options; what a resume may change.
/// </summary>
public class OptionsBinderTests
{
    public enum Colour { Red, DarkBlue }

    /// <summary>One setting of every supported type.</summary>
    public sealed record Probe : ModelOptions
    {
        [Setting("count", "An int.", Min = 1, ResumeMayChange = true)]
        public int Count { get; init; } = 3;

        [Setting("rate", "A float in (0, 1].", Min = 0, MinExclusive = true, Max = 1)]
        public float Rate { get; init; } = 0.1f;

        [Setting("big", "A ulong.")]
        public ulong Big { get; init; }

        [Setting("on", "A switch.")]
        public bool On { get; init; }

        [Setting("colour", "An enum.")]
        public Colour Colour { get; init; } = Colour.DarkBlue;

        [Setting("widths", "A list.", Min = 1)]
        public int[] Widths { get; init; } = [4, 5];

        [Setting("maybe", "An optional int.", Min = 1)]
        public int? Maybe { get; init; }

        [Setting("name", "Text.")]
        public string Name { get; init; } = "";

        public override void Validate(string kind)
        {
            if (Count > 100 && On) throw new ArgumentException($"{kind}: count above 100 needs on=false");
        }
    }

    static Probe Bind(params (string Key, string Value)[] given) =>
        OptionsBinder.Bind(new Probe(), given.ToDictionary(g => g.Key, g => g.Value), "probe");

    static string Refusal(params (string Key, string Value)[] given) => Assert.Throws<ArgumentException>(() => Bind(given)).Message;

    [Fact]
    public void GivenSettingsOverlayTheDefaultsAndLeaveThemAlone()
    {
        var defaults = new Probe();
        var o = OptionsBinder.Bind(defaults, new Dictionary<string, string>
        {
            ["count"] = " 7 ", ["rate"] = "0.5", ["big"] = "18446744073709551615", ["on"] = "yes", ["colour"] = "dark-blue",
            ["widths"] = "8, 9,10", ["maybe"] = "2", ["name"] = "x",
        }, "probe");
        Assert.Equal((7, 0.5f, ulong.MaxValue, true, Colour.DarkBlue, "x", 2), (o.Count, o.Rate, o.Big, o.On, o.Colour, o.Name, o.Maybe));
        Assert.Equal([8, 9, 10], o.Widths);
        Assert.Equal(3, defaults.Count);
        Assert.Equal([4, 5], defaults.Widths);
        Assert.Equal(Colour.Red, Bind(("colour", "RED")).Colour);
        Assert.Equal(Colour.DarkBlue, Bind(("colour", "dark_blue")).Colour);
        Assert.Null(Bind(("maybe", "")).Maybe);
        Assert.Empty(Bind(("widths", "")).Widths);
    }

    [Theory]
    [InlineData("count", "2.5", "probe: setting 'count' must be an integer, got '2.5'")]
    [InlineData("count", "0", "probe: setting 'count' must be an integer >= 1, got '0'")]
    [InlineData("rate", "fast", "probe: setting 'rate' must be a finite number, got 'fast'")]
    [InlineData("rate", "NaN", "probe: setting 'rate' must be a finite number, got 'NaN'")]
    [InlineData("rate", "0", "probe: setting 'rate' must be a number in (0, 1], got '0'")]
    [InlineData("rate", "1.5", "probe: setting 'rate' must be a number in (0, 1], got '1.5'")]
    [InlineData("big", "-1", "probe: setting 'big' must be a non-negative integer, got '-1'")]
    [InlineData("on", "maybe", "probe: setting 'on' must be true or false")]
    [InlineData("colour", "7", "probe: setting 'colour' must be one of red, dark-blue, got '7'")]
    [InlineData("colour", "green", "probe: setting 'colour' must be one of red, dark-blue, got 'green'")]
    [InlineData("widths", "4,x", "probe: setting 'widths' must be integers separated by commas")]
    [InlineData("widths", "4,0", "probe: setting 'widths' must be integers each >= 1, got '4,0'")]
    [InlineData("maybe", "0", "probe: setting 'maybe' must be an integer >= 1, got '0'")]
    [InlineData("colur", "red", "probe: unknown setting 'colur' (did you mean colour?); known: big, colour, count, data_shape, maybe, name, on, rate, seed, widths")]
    public void EveryMistakeIsRefusedNamingTheKeyTheValueAndWhatIsExpected(string key, string value, string message) =>
        Assert.Contains(message, Refusal((key, value)));

    [Fact]
    public void CombinationsAreCheckedByTheRecord() =>
        Assert.Equal("probe: count above 100 needs on=false", Refusal(("count", "200"), ("on", "true")));

    [Fact]
    public void TextAndJsonReadBackToEqualOptions()
    {
        var o = Bind(("count", "9"), ("rate", "0.1"), ("big", "12345678901234567890"), ("on", "true"), ("colour", "red"), ("widths", "1,2,3"), ("name", "a b"));
        var text = OptionsBinder.ToStrings(o);
        Assert.Equal("0.1", text["rate"]); // the shortest text that reads back to the same float
        Assert.Equal(("1,2,3", "red", "", "true"), (text["widths"], text["colour"], text["maybe"], text["on"]));
        Assert.Equal(text, OptionsBinder.ToStrings(OptionsBinder.Bind(new Probe(), text, "probe")));

        string json = OptionsBinder.ToJson(o);
        Assert.Contains("\"widths\":[1,2,3]", json);
        Assert.Contains("\"maybe\":null", json);
        Assert.Contains("\"on\":true", json);
        Assert.Contains("\"big\":12345678901234567890", json);
        Assert.Equal(text, OptionsBinder.ToStrings(OptionsBinder.Bind(new Probe(), OptionsBinder.FromJson(json), "probe")));
    }

    [Theory]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("{\"a\": {\"b\": 1}}", "'a' is Object")]
    [InlineData("{\"a\": ", "not valid JSON")]
    public void JsonThatIsNotASettingsObjectIsRefused(string json, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => OptionsBinder.FromJson(json)).Message);

    [Fact]
    public void AResumeChangesOnlyWhatMayChange()
    {
        var saved = Bind(("count", "4"));
        var resumed = OptionsBinder.Resume(saved, new Dictionary<string, string> { ["count"] = "6", ["rate"] = "0.1" }, "probe", 10, _ => { }, out var changes);
        Assert.Equal(6, resumed.Count);
        Assert.Equal(["count 4 -> 6"], changes); // rate given at its own value: no change
        var e = Assert.Throws<ArgumentException>(() => OptionsBinder.Resume(saved, new Dictionary<string, string> { ["rate"] = "0.2" }, "probe", 10, _ => { }, out _));
        Assert.Equal("--resume: probe: setting 'rate' is the run's own (0.1) and cannot change to 0.2 on resume; what may change: count; start a new run for other settings", e.Message);
    }

    [Fact]
    public void HelpRowsComeFromTheRecord()
    {
        var rows = OptionsBinder.Help(new Probe());
        Assert.Equal(["data_shape", "seed", "count", "rate", "big", "on", "colour", "widths", "maybe", "name"], rows.Select(r => r.Key));
        var rate = rows.Single(r => r.Key == "rate");
        Assert.Equal(("float in (0, 1]", "0.1", "A float in (0, 1].", false), (rate.Type, rate.Default, rate.Help, rate.ResumeMayChange));
        Assert.Equal("red|dark-blue", rows.Single(r => r.Key == "colour").Type);
        Assert.True(rows.Single(r => r.Key == "count").ResumeMayChange);
    }

    public static TheoryData<string, string> KindsAndShapes => new()
    {
        { "dcgan", "1,32,32" }, { "gan", "2" }, { "gan", "1,32,32" }, { "gan", "3,28,28" }, { "cgan", "2" }, { "cgan", "1,32,32" },
        { "wgan", "2" }, { "wgan", "1,32,32" }, { "wgan-gp", "2" }, { "wgan-gp", "3,64,64" }, { "ae", "1,32,32" },
    };

    [Theory, MemberData(nameof(KindsAndShapes))]
    public void EveryKindsDefaultsAreValidDocumentedAndReadBack(string kind, string shape)
    {
        var model = ModelKinds.Find(kind);
        var defaults = model.Defaults(new DataFacts([.. shape.Split(',').Select(int.Parse)], 10), new Dictionary<string, string>());
        defaults.Validate(kind);
        foreach (var s in OptionsBinder.Settings(defaults.GetType()))
        {
            Assert.Matches("^[a-z][a-z0-9]*(_[a-z0-9]+)*$", s.Key);
            Assert.False(string.IsNullOrWhiteSpace(s.Help), $"{kind}: setting '{s.Key}' has no help");
            Assert.EndsWith(".", s.Help);
        }
        var text = OptionsBinder.ToStrings(defaults);
        Assert.Equal(text, OptionsBinder.ToStrings(model.FromSaved(OptionsBinder.FromJson(OptionsBinder.ToJson(defaults)))));
    }

    [Fact]
    public void OneNameForOneIdeaAcrossKinds()
    {
        // The sample shape is data_shape everywhere; a kind of two networks (every GAN, dcgan included) has the rates lr_g and
        // lr_d, a kind of one network (the autoencoders, lstm-melody) the rate lr; the seed is seed.
        foreach (var kind in ModelKinds.All)
        {
            var keys = OptionsBinder.Settings(kind.Defaults(new DataFacts([1, 32, 32], 10), new Dictionary<string, string>()).GetType()).Select(s => s.Key).ToList();
            Assert.Contains("data_shape", keys);
            Assert.Contains("seed", keys);
            Assert.DoesNotContain("image", keys);
            Assert.DoesNotContain("shape", keys);
            var rates = keys.Where(k => k is "lr" || (k.StartsWith("lr_", StringComparison.Ordinal) && k.Length == 4)).ToList();
            Assert.True(rates.SequenceEqual(["lr_g", "lr_d"]) || rates.SequenceEqual(["lr"]), $"{kind.Name}: rates {string.Join(", ", rates)}");
            if (kind.Name is "ae" or "lstm-melody") Assert.Equal(["lr"], rates);
        }
        Assert.IsType<BceGanOptions>(GanFamily.Defaults("dcgan", new DataFacts([1, 32, 32], 0)));
        Assert.IsType<AutoencoderOptions>(ModelKinds.Find("ae-vae").FromSettings(new Dictionary<string, string> { ["kind"] = "vae" }));
    }
}
