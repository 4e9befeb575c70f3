using NativeGan.Gan.Data;

namespace NativeGan.Tests.Data;

public class Mixtures2DTests
{
    [Fact]
    public void Ring_has_8_distinct_modes_on_the_unit_circle()
    {
        var ring = Mixtures2D.Ring8;
        Assert.Equal(8, ring.Modes.Length);
        Assert.Equal(0.01f, ring.Std);
        Assert.Equal(8, ring.Modes.Select(m => (MathF.Round(m.X, 4), MathF.Round(m.Y, 4))).Distinct().Count());
        Assert.All(ring.Modes, m => Assert.Equal(1.0, Math.Sqrt(m.X * m.X + m.Y * m.Y), 5));
        Assert.Equal((1f, 0f), ring.Modes[0]);
        Assert.Equal(Math.Sqrt(0.5), ring.Modes[1].X, 6);
    }

    [Fact]
    public void Grid_has_25_modes_on_the_lattice()
    {
        var grid = Mixtures2D.Grid25;
        Assert.Equal(25, grid.Modes.Length);
        Assert.Equal(0.05f, grid.Std);
        int[] axis = [-4, -2, 0, 2, 4];
        Assert.Equal(25, grid.Modes.Distinct().Count());
        Assert.All(grid.Modes, m => { Assert.Contains((int)m.X, axis); Assert.Contains((int)m.Y, axis); });
    }

    [Theory]
    [InlineData("ring8")]
    [InlineData("grid25")]
    public void Samples_have_the_stated_std_around_their_labelled_mode(string name)
    {
        var mixture = Mixtures2D.ByName(name)!;
        var data = mixture.Sample(50_000, seed: 7);
        Assert.Equal([2], data.SampleShape);
        Assert.Equal(50_000, data.Count);
        Assert.Equal(mixture.Modes.Length, data.ClassCount);
        double sum = 0, sumSq = 0;
        var perMode = new int[mixture.Modes.Length];
        for (int i = 0; i < data.Count; i++)
        {
            var m = mixture.Modes[data.Labels![i]];
            perMode[data.Labels[i]]++;
            foreach (var d in new[] { data.Data[2 * i] - m.X, data.Data[2 * i + 1] - m.Y })
            {
                sum += d;
                sumSq += d * d;
            }
        }
        int n = 2 * data.Count;
        double std = Math.Sqrt(sumSq / n - sum / n * (sum / n));
        Assert.InRange(std / mixture.Std, 0.98, 1.02);  // 100k draws: relative error of the std ~ 0.2%
        Assert.InRange(Math.Abs(sum / n), 0, 4 * mixture.Std / Math.Sqrt(n));
        Assert.True(perMode.Max() - perMode.Min() <= 1);

        Assert.Equal(data.Data, mixture.Sample(50_000, seed: 7).Data);
        Assert.NotEqual(data.Data, mixture.Sample(50_000, seed: 8).Data);
    }

    [Fact]
    public void DataSource_names_the_mixtures()
    {
        var data = DataSource.Load("grid25", new DataOptions(Points: 100, Seed: 3));
        Assert.Equal(100, data.Count);
        Assert.Equal(Mixtures2D.Grid(100, 3).Data, data.Data);
    }
}
