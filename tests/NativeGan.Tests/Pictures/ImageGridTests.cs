using NativeGan;
using NativeGan.Gan.Pictures;
using StbImageSharp;

namespace NativeGan.Tests.Pictures;

public class ImageGridTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    // The textbook mapping, in double: [low, high] -> [0, 255], rounded, clamped.
    static byte Expected(double v, double low = -1, double high = 1) =>
        (byte)Math.Clamp(Math.Round((v - low) / (high - low) * 255, MidpointRounding.AwayFromZero), 0, 255);

    static ImageResult Read(string path, ColorComponents components) =>
        ImageResult.FromMemory(File.ReadAllBytes(path), components);

    [Fact]
    public void GreyGridHasTheDocumentedSizeImagePixelsAndPadding()
    {
        // 5 images of 3x4 in 3 columns: 2 rows, the last cell empty.
        const int n = 5, h = 3, w = 4, columns = 3, padding = 2;
        var data = new float[n * h * w];
        for (int i = 0; i < data.Length; i++) data[i] = -1f + 2f * i / (data.Length - 1) + 0.001f; // no exact .5 after mapping
        using var folder = new TempFolder();
        string path = folder.File("grid.png");
        ImageGrid.Save(path, data, n, 1, h, w, columns, padding);

        var png = Read(path, ColorComponents.Grey);
        Assert.Equal(columns * (w + padding) + padding, png.Width);
        Assert.Equal(2 * (h + padding) + padding, png.Height);

        var isImage = new bool[png.Width, png.Height];
        for (int k = 0; k < n; k++)
        {
            int left = padding + (k % columns) * (w + padding), top = padding + (k / columns) * (h + padding);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    Assert.Equal(Expected(data[(k * h + y) * w + x]), png.Data[(top + y) * png.Width + left + x]);
                    isImage[left + x, top + y] = true;
                }
        }
        for (int y = 0; y < png.Height; y++)
            for (int x = 0; x < png.Width; x++)
                if (!isImage[x, y]) Assert.Equal(128, png.Data[y * png.Width + x]); // padding and the empty cell
    }

    [Fact]
    public void ValuesOutsideTheRangeAreClampedAndNaNIsBlack()
    {
        float[] data = [5f, -7f, float.NaN, 1f, -1f, 0.5f];
        var image = ImageGrid.ToPixels(data, 1, 1, 2, 3, padding: 0);
        Assert.Equal(new byte[] { 255, 0, 0, 255, 0, Expected(0.5) }, image.Data);

        // Another range: [0, 1] maps 0.5 to 128 (127.5 rounded up) and clamps -1 and 2.
        var unit = ImageGrid.ToPixels([0.5f, -1f, 2f], 1, 1, 1, 3, padding: 0, low: 0f, high: 1f);
        Assert.Equal(new byte[] { 128, 0, 255 }, unit.Data);
    }

    [Fact]
    public void ThreeChannelImagesBecomeRgbPixels()
    {
        // 2 images [3, 2, 2], every value distinct.
        const int n = 2, c = 3, h = 2, w = 2, padding = 1;
        var data = new float[n * c * h * w];
        for (int i = 0; i < data.Length; i++) data[i] = -0.95f + 1.9f * i / data.Length + 0.01f;
        using var folder = new TempFolder();
        string path = folder.File("rgb.png");
        ImageGrid.Save(path, data, n, c, h, w, columns: 8, padding: padding, paddingValue: 40);

        var png = Read(path, ColorComponents.RedGreenBlue);
        Assert.Equal(2 * (w + padding) + padding, png.Width); // only as many columns as images
        Assert.Equal(h + 2 * padding, png.Height);
        // Image 1, row 1, column 0 sits at (1 + 1 * 3 + 0, 1 + 1).
        int at = ((1 + 1) * png.Width + 4) * 3;
        for (int ch = 0; ch < c; ch++)
            Assert.Equal(Expected(data[((1 * c + ch) * h + 1) * w + 0]), png.Data[at + ch]);
        Assert.Equal(new byte[] { 40, 40, 40 }, png.Data[..3]); // corner: padding
    }

    [Fact]
    public void ScaleRepeatsEachPixelAsABlock()
    {
        var image = ImageGrid.ToPixels([-1f, 1f], 1, 1, 1, 2, padding: 1, scale: 3);
        Assert.Equal(2 * 3 + 2, image.Width);
        Assert.Equal(3 + 2, image.Height);
        for (int y = 1; y <= 3; y++)
            for (int x = 1; x <= 6; x++)
                Assert.Equal(x <= 3 ? 0 : 255, image[x, y]);
        Assert.Equal(128, image[7, 2]);
    }

    [Theory, MemberData(nameof(Devices))]
    public void TensorOnAnyDeviceGivesTheSamePictureAsItsValues(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var data = Numerics.Random(new Random(3), 3 * 1 * 5 * 7, -1.2f, 1.2f);
        using var images = Tensor.FromArray(data, [3, 1, 5, 7], device);
        var fromTensor = ImageGrid.ToPixels(images, columns: 2);
        var fromArray = ImageGrid.ToPixels(data, 3, 1, 5, 7, columns: 2);
        Assert.Equal(fromArray.Data, fromTensor.Data);
        Assert.Equal((2 * 9 + 2, 2 * 7 + 2), (fromTensor.Width, fromTensor.Height));
    }

    [Fact]
    public void SaveRowsInterleavesTheBatchesRowByRow()
    {
        // Two batches of 3 one-pixel images, 2 columns: rows are batch 0 [0 1], batch 1 [0 1], batch 0 [2 -], batch 1 [2 -].
        const int n = 3;
        float Value(int batch, int k) => -0.9f + 0.3f * (batch * n + k);
        using var first = Tensor.FromArray([Value(0, 0), Value(0, 1), Value(0, 2)], [n, 1, 1, 1]);
        using var second = Tensor.FromArray([Value(1, 0), Value(1, 1), Value(1, 2)], [n, 1, 1, 1]);
        var image = ImageGrid.RowsToPixels([first, second], columns: 2, padding: 1, paddingValue: 7);
        Assert.Equal((2 * 2 + 1, 4 * 2 + 1), (image.Width, image.Height));

        int?[,] expected = { { 0 * n + 0, 0 * n + 1 }, { 1 * n + 0, 1 * n + 1 }, { 0 * n + 2, null }, { 1 * n + 2, null } };
        for (int row = 0; row < 4; row++)
            for (int col = 0; col < 2; col++)
            {
                byte pixel = image[1 + 2 * col, 1 + 2 * row];
                byte want = expected[row, col] is int index ? Expected(Value(index / n, index % n)) : (byte)7;
                Assert.Equal(want, pixel);
            }

        using var folder = new TempFolder();
        ImageGrid.SaveRows(folder.File("rows.png"), [first, second], columns: 2, padding: 1, paddingValue: 7);
        Assert.Equal(image.Data, Read(folder.File("rows.png"), ColorComponents.Grey).Data);
    }

    [Fact]
    public void SaveRowsCanNameEachRowInAMarginOnTheLeft()
    {
        // Two batches of 3 images of 10x10 in 2 columns: grid rows in, out, in, out, each named left of it.
        using var first = Tensor.FromArray(Numerics.Random(new Random(1), 3 * 100), [3, 1, 10, 10]);
        using var second = Tensor.FromArray(Numerics.Random(new Random(2), 3 * 100), [3, 1, 10, 10]);
        var plain = ImageGrid.RowsToPixels([first, second], columns: 2);
        var named = ImageGrid.RowsToPixels([first, second], columns: 2, labels: ["in", "out"]);
        int margin = BitmapFont.Measure("out").Width + 2 * 3; // the longest name and a gap of 3 either side
        Assert.Equal((plain.Width + margin, plain.Height), (named.Width, named.Height));
        for (int y = 0; y < plain.Height; y++)
            for (int x = 0; x < plain.Width; x++)
                Assert.Equal(plain[x, y], named[margin + x, y]);
        // Black ink on the grey margin, in the band of each grid row, spelling that row's name.
        for (int row = 0; row < 4; row++)
        {
            string name = row % 2 == 0 ? "in" : "out";
            int top = 2 + row * 12 + (10 - BitmapFont.GlyphHeight) / 2;
            for (int y = 0; y < BitmapFont.GlyphHeight; y++)
                for (int x = 0; x < margin - 3; x++)
                {
                    int k = (x - 3) / BitmapFont.CellWidth, column = (x - 3) % BitmapFont.CellWidth;
                    bool ink = x >= 3 && k < name.Length && BitmapFont.Ink(name[k], column, y);
                    Assert.Equal(ink ? (byte)0 : (byte)128, named[x, top + y]);
                }
        }
        Assert.Contains("2 labels for 3 batches",
            Assert.Throws<ArgumentException>(() => ImageGrid.RowsToPixels([first, second, first], labels: ["a", "b"])).Message);
    }

    [Fact]
    public void BadShapesAndArgumentsThrowNamingTheShape()
    {
        using var rank3 = Tensor.Zeros(Device.Cpu, 2, 4, 4);
        var e = Assert.Throws<TensorShapeException>(() => ImageGrid.ToPixels(rank3));
        Assert.Contains("ImageGrid", e.Message);
        Assert.Contains("[2, 4, 4]", e.Message);

        using var twoChannels = Tensor.Zeros(Device.Cpu, 1, 2, 4, 4);
        Assert.Contains("[1, 2, 4, 4]", Assert.Throws<TensorShapeException>(() => ImageGrid.ToPixels(twoChannels)).Message);

        Assert.Throws<ArgumentException>(() => ImageGrid.ToPixels(new float[10], 1, 1, 3, 3));
        Assert.Throws<ArgumentException>(() => ImageGrid.ToPixels(new float[9], 1, 1, 3, 3, columns: 0));
        Assert.Throws<ArgumentException>(() => ImageGrid.ToPixels(new float[9], 1, 1, 3, 3, low: 1, high: 1));

        using var a = Tensor.Zeros(Device.Cpu, 2, 1, 4, 4);
        using var b = Tensor.Zeros(Device.Cpu, 3, 1, 4, 4);
        Assert.Contains("SaveRows", Assert.Throws<TensorShapeException>(() => ImageGrid.RowsToPixels([a, b])).Message);
    }

    [Fact]
    public void AtomicSaveLeavesOnlyThePictureAndOverwrites()
    {
        using var folder = new TempFolder();
        string path = folder.File("sub/picture.png"); // the folder is created
        ImageGrid.Save(path, [-1f, -1f, -1f, -1f], 1, 1, 2, 2, padding: 0);
        ImageGrid.Save(path, [1f, 1f, 1f, 1f], 1, 1, 2, 2, padding: 0);
        Assert.Equal(new[] { "picture.png" }, Directory.GetFiles(folder.File("sub")).Select(Path.GetFileName));
        Assert.All(Read(path, ColorComponents.Grey).Data, v => Assert.Equal(255, v));
    }
}
