using NativeGan.Gan.Music;

namespace NativeGan.Tests.Music;

/// <summary>The music commands end to end on a folder of small MIDI files: train both models, generate, show, evaluate, render.</summary>
[Collection("Console")]
public class MusicCommandsTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-music-" + Guid.NewGuid().ToString("N"));

    public MusicCommandsTests()
    {
        Directory.CreateDirectory(Path.Combine(dir, "songs"));
        var random = new Random(11);
        for (int s = 0; s < 3; s++)
        {
            var events = Enumerable.Range(0, 130).SelectMany(i => new float[] { random.Next(3) / 2f, (1 + random.Next(4)) / 4f, 55 + random.Next(20), 60 + random.Next(60) }).ToArray();
            MidiFiles.Write(NoteEvents.ToSong(events, $"song{s}", program: 40 + s), Path.Combine(dir, "songs", $"song{s}.mid"));
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    static (int Code, string Output) Run(params string[] args) => Training.TrainCommandTests.Run(args);

    [Fact]
    public void Train_generate_show_and_evaluate_a_melody_model()
    {
        string songs = Path.Combine(dir, "songs"), run = Path.Combine(dir, "melody");
        var (code, output) = Run("train", "lstm-melody", "--data", songs, "--device", "cpu", "--steps", "3", "--batch", "2", "--sample-every", "2",
            "--out", run, "--set", "hidden=8", "--set", "layers=1");
        Assert.True(code == 0, output);
        Assert.Contains("samples of 100x4", output);
        Assert.True(File.Exists(Path.Combine(run, "samples", "step_000002.mid")));

        var song = Path.Combine(dir, "out", "tune.mid");
        (code, output) = Run("generate", "--checkpoint", Path.Combine(run, "checkpoint.safetensors"), "--bars", "3", "--out", song, "--device", "cpu");
        Assert.True(code == 0, output);
        var written = MidiFiles.Read(song);
        Assert.True(written.NoteCount > 0);
        Assert.True(written.Tracks[0].Notes.All(n => n.End <= 3 * 4 * NoteEvents.TicksPerQuarter), "every note ends within the 3 bars");
        Assert.True(File.Exists(Path.ChangeExtension(song, ".png")));

        (code, output) = Run("midi", song, Path.Combine(songs, "song1.mid"), "--roll", Path.Combine(dir, "rolls"));
        Assert.True(code == 0, output);
        Assert.Contains("strings (program 41)", output);
        Assert.Contains("scale consistency", output);
        Assert.True(File.Exists(Path.Combine(dir, "rolls", "song1.png")));

        (code, output) = Run("eval", "music", "--checkpoint", Path.Combine(run, "checkpoint.safetensors"), "--count", "3", "--device", "cpu");
        Assert.True(code == 0, output);
        Assert.Contains("polyphony", output);
        Assert.Contains("pitch histogram distance", output);
    }

    [Fact]
    public void Train_a_crnn_gan_through_the_end_of_pretraining()
    {
        string run = Path.Combine(dir, "gan");
        var (code, output) = Run("train", "crnn-gan", "--data", Path.Combine(dir, "songs"), "--device", "cpu", "--steps", "3", "--batch", "2",
            "--length", "20", "--out", run, "--set", "hidden_g=6", "--set", "hidden_d=5", "--set", "pretrain_steps=2");
        Assert.True(code == 0, output);
        Assert.Contains("samples of 20x4", output);
        // A resume takes the excerpts' length from the checkpoint.
        (code, output) = Run("train", "crnn-gan", "--data", Path.Combine(dir, "songs"), "--device", "cpu", "--steps", "4", "--batch", "2", "--resume", "--out", run);
        Assert.True(code == 0, output);
        Assert.Contains("samples of 20x4", output);
        var log = File.ReadAllLines(Path.Combine(run, "losses.jsonl"));
        Assert.Contains("\"mse\"", log[1]);
        Assert.Contains("\"loss_d\"", log[2]);
        Assert.Equal(4, log.Length);
    }

    [Fact]
    public void Accompany_writes_the_band_around_a_given_piece()
    {
        // A tiny accompaniment model, trained two steps in this process, saved as `train` saves it.
        string run = Path.Combine(dir, "band-model");
        using (var job = MuseGanTests.NewJob(accompany: "piano"))
        using (var loader = new NativeGan.Gan.Data.DataLoader(MuseGanTests.Phrases(8), 4 * job.BatchesPerStep, NativeGan.Device.Cpu, seed: 2))
            Assert.Equal(NativeGan.Gan.Training.TrainOutcome.Finished, NativeGan.Gan.Training.Trainer.Run(job, loader,
                new NativeGan.Gan.Training.TrainerOptions { OutDir = run, Epochs = 10, MaxSteps = 2, DataName = "phrases" }, CancellationToken.None).Outcome);
        string checkpoint = Path.Combine(run, "checkpoint.safetensors"), band = Path.Combine(dir, "out", "band.mid");
        Directory.CreateDirectory(Path.GetDirectoryName(band)!);
        int q = NoteEvents.TicksPerQuarter;
        var notes = Enumerable.Range(0, 10).Select(i => new Note(i * q, q, 62 + i % 3 * 4, 90)).ToList(); // 2.5 bars of quarters
        var given = new Song("given", q, [new Track("lead", 0, 73, notes)], [new TempoChange(0, Song.DefaultMicrosecondsPerQuarter)], [new TimeSignature(0, 4, 4)]);
        MidiFiles.Write(given, Path.Combine(dir, "given.mid"));

        var (code, output) = Run("accompany", "--checkpoint", checkpoint, "--track", Path.Combine(dir, "given.mid"), "--out", band, "--device", "cpu");
        Assert.True(code == 0, output);
        Assert.Contains("piano given, the rest written", output);
        var written = MidiFiles.Read(band);
        var piano = written.Tracks.Single(t => t.Name == "piano");
        Assert.Equal(notes.Select(n => (n.Onset, n.Pitch)), piano.Notes.Select(n => (n.Onset, n.Pitch)));
        Assert.All(written.Tracks, t => Assert.All(t.Notes, n => Assert.True(n.End <= 3 * 4 * q, $"{t.Name}: a note past the 3 bars")));
        Assert.True(File.Exists(Path.ChangeExtension(band, ".png")));

        // A model that writes all five tracks, and a model that is not MuseGAN, are refused by name.
        (code, output) = Run("generate", "--checkpoint", checkpoint, "--bars", "4", "--out", Path.Combine(dir, "out", "x.mid"), "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("nativegan accompany", output);
        (code, output) = Run("accompany", "--checkpoint", checkpoint, "--track", Path.Combine(dir, "missing.mid"), "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("missing.mid", output);
    }

    [Fact]
    public void Bad_input_gets_clear_messages()
    {
        var notMidi = Path.Combine(dir, "text.mid");
        File.WriteAllText(notMidi, "hello");
        var (code, output) = Run("midi", notMidi);
        Assert.Equal(2, code);
        Assert.Contains("not a Standard MIDI File", output);

        (code, output) = Run("render", Path.Combine(dir, "songs", "song0.mid"), "--soundfont", Path.Combine(dir, "missing.sf2"));
        Assert.Equal(2, code);
        Assert.Contains("missing.sf2", output);
    }
}
