using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace NativeGan.Tests.Examples;

/// <summary>
/// The NuGet packages work outside the solution: the four libraries are packed (<c>dotnet pack --no-build</c>, from what
/// the tests were built with) into a folder feed, and a console project in a temporary folder (no Directory.Build.props
/// or Directory.Packages.props of this repository above it) references NativeGan.Gan from that feed, restores, builds
/// and runs. Its program is the code of src/PACKAGE.md (the packages' README) followed by checks of an op, a module's
/// forward and backward, and the Gan package.
/// <para>The packages get a version no cache can hold (0.1.0-test.TICKS), and the project restores into its own
/// packages folder, with the user's global packages folder as a read-only fallback for the third-party packages
/// (ILGPU, StbImageSharp...; downloaded from the configured sources when they are not there).</para>
/// </summary>
public sealed class PackageTests : IDisposable
{
    static readonly string[] Libraries = ["Kernels", "Autograd", "Nn", "Gan"];
    readonly string dir = Directory.CreateTempSubdirectory("nativegan-package-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task ThePackagesWorkInAProjectOutsideTheSolution()
    {
        var root = DotnetProcess.RepoRoot();
        var limit = TimeSpan.FromMinutes(4);
        var version = "0.1.0-test." + DateTime.UtcNow.Ticks.ToString(CultureInfo.InvariantCulture);
        var feed = Path.Combine(dir, "feed");

        // ---- pack the four libraries (one dotnet pack over a solution that lists them)
        var solution = Path.Combine(dir, "libraries.slnx");
        File.WriteAllText(solution, new XElement("Solution", Libraries.Select(l =>
            new XElement("Project", new XAttribute("Path", Path.Combine(root, "src", l, $"NativeGan.{l}.csproj"))))).ToString());
        var (rc, output) = await DotnetProcess.Run(dir, limit,
            ["pack", solution, "-c", DotnetProcess.Configuration, "--no-build", "-o", feed, $"-p:PackageVersion={version}", .. DotnetProcess.BuildFlags]);
        Assert.True(rc == 0, $"dotnet pack failed ({rc}):\n{output}");

        // ---- what each package holds: the assembly, its XML documentation, the README, the licence, the symbols
        foreach (var library in Libraries)
        {
            var id = "NativeGan." + library;
            using (var package = ZipFile.OpenRead(Path.Combine(feed, $"{id}.{version}.nupkg")))
            {
                var entries = package.Entries.Select(e => e.FullName).ToHashSet();
                foreach (var file in new[] { $"lib/net10.0/{id}.dll", $"lib/net10.0/{id}.xml", "PACKAGE.md", "LICENSE", $"{id}.nuspec" })
                    Assert.True(entries.Contains(file), $"{id}: no {file} in the package ({string.Join(", ", entries)})");
                using var nuspecStream = package.GetEntry($"{id}.nuspec")!.Open();
                var metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
                string Meta(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
                Assert.Equal(id, Meta("id"));
                Assert.Equal("NativeGan", Meta("authors"));
                Assert.Equal("MIT", Meta("license"));
                Assert.Equal("PACKAGE.md", Meta("readme"));
                Assert.False(string.IsNullOrWhiteSpace(Meta("description")));
            }
            using (var symbols = ZipFile.OpenRead(Path.Combine(feed, $"{id}.{version}.snupkg")))
                Assert.Contains(symbols.Entries, e => e.FullName == $"lib/net10.0/{id}.pdb");
        }

        // ---- a user's project, outside the repository, that knows only the feed
        var project = Path.Combine(dir, "consumer");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="NativeGan.Gan" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        var userPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var fallback = Directory.Exists(userPackages) ? $"""<fallbackPackageFolders><add key="user" value="{userPackages}" /></fallbackPackageFolders>""" : "";
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(dir, "packages")}" /></config>
              {fallback}
              <packageSources><add key="nativegan-feed" value="{feed}" /></packageSources>
            </configuration>
            """);
        var readme = File.ReadAllText(Path.Combine(root, "src", "PACKAGE.md"));
        var snippet = Regex.Match(readme, @"```csharp\n(?<code>.*?)```", RegexOptions.Singleline);
        Assert.True(snippet.Success, "src/PACKAGE.md has no ```csharp block");
        File.WriteAllText(Path.Combine(project, "Program.cs"), snippet.Groups["code"].Value + """

            // ---- the checks (after the README's code, which trained `net` on x -> x0² + x1²)
            using (new TensorScope())
                Console.WriteLine($"readme loss: {Losses.Mse(net.Forward(x), target).Item().ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            var cpu = Device.Get("cpu");
            using var a = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], [2, 3], cpu);
            using (var sumOfSquares = a.Square().Sum())
                Console.WriteLine($"sum of squares: {sumOfSquares.Item()}");
            using var layer = new Linear(3, 1, device: cpu);
            Elementwise.Fill(layer.Weight, 0.5f);
            Elementwise.Fill(layer.Bias!, 1f);
            using (new TensorScope())
            {
                var y = layer.Forward(a);
                Console.WriteLine($"linear: {string.Join(' ', y.ToArray())}");
                y.Sum().Backward();
            }
            Console.WriteLine($"weight gradient: {string.Join(' ', layer.Weight.Grad!.ToArray())}");
            var ring = NativeGan.Gan.Data.Mixtures2D.Ring(count: 800);
            Console.WriteLine($"data: {ring.Count} points of {ring.ClassCount} modes");
            using var blank = Tensor.Zeros(cpu, 4, 1, 8, 8);
            var grid = NativeGan.Gan.Pictures.ImageGrid.ToPixels(blank, columns: 2);
            Console.WriteLine($"grid: {grid.Width}x{grid.Height}, PNG of {grid.EncodePng().Length} bytes");
            """);

        var isolated = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = null };
        (rc, output) = await DotnetProcess.Run(project, limit, ["build", "-c", "Release", "-v", "quiet", .. DotnetProcess.BuildFlags], isolated);
        Assert.True(rc == 0, $"the consumer project did not build ({rc}):\n{output}");
        // The packages came from the feed: the restore put this version into the project's own packages folder.
        foreach (var library in Libraries)
            Assert.True(Directory.Exists(Path.Combine(dir, "packages", $"nativegan.{library.ToLowerInvariant()}", version)), $"NativeGan.{library} {version} was not restored from the feed");
        (rc, output) = await DotnetProcess.Run(project, limit, [Path.Combine(project, "bin", "Release", "net10.0", "Consumer.dll")], isolated);
        Assert.True(rc == 0, $"the consumer program failed ({rc}):\n{output}");

        var loss = Regex.Match(output, @"readme loss: (?<v>\S+)");
        Assert.True(loss.Success, output);
        Assert.InRange(float.Parse(loss.Groups["v"].Value, CultureInfo.InvariantCulture), 0f, 0.5f); // a constant guess scores 4 (the variance of x0² + x1²)
        Assert.Contains("sum of squares: 91", output);
        Assert.Contains("linear: 4 8.5", output);
        Assert.Contains("weight gradient: 5 7 9", output);
        Assert.Contains("data: 800 points of 8 modes", output);
        Assert.Matches(@"grid: 22x22, PNG of \d+ bytes", output);
    }
}
