// DCGAN (Radford et al. 2016) on the bundled MNIST digits, written with the library's API the way PyTorch's
// examples/dcgan/main.py is written with torch's. Run: dotnet run -c Release --project examples/TrainDcgan -- --steps 200
using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Gans;
using NativeGan.Gan.Pictures;
using NativeGan.Nn;

string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
int steps = int.Parse(Arg("--steps", "200")), batchSize = int.Parse(Arg("--batch", "64")), nz = 100, ngf = 64, ndf = 64;
var device = Device.Get(Arg("--device", "auto")); // auto: CUDA, then OpenCL, else the CPU
var rng = new Rng(seed: 1);

var dataset = DataSource.Load(Arg("--data", "mnist"), new DataOptions(ImageSize: 32, Channels: 1, Log: Console.WriteLine));
using var dataloader = new DataLoader(dataset, batchSize, device, seed: 1);
using var netG = Dcgan.Generator(nz, channels: 1, side: 32, width: ngf, device, rng);
using var netD = Dcgan.Discriminator(channels: 1, side: 32, width: ndf, device, rng);
var optimizerD = new Adam(netD.Parameters(), learningRate: 2e-4f, beta1: 0.5f, beta2: 0.999f);
var optimizerG = new Adam(netG.Parameters(), learningRate: 2e-4f, beta1: 0.5f, beta2: 0.999f);
using var fixedNoise = rng.Normal(device, [64, nz, 1, 1]);
Console.WriteLine($"DCGAN on {dataset.Name}: {dataset.Count} images, {steps} steps of {batchSize} on {device.Name}");

for (int epoch = 0, step = 1; step <= steps; epoch++)
    foreach (var batch in dataloader.Epoch(epoch).TakeWhile(_ => step <= steps))
    {
        using var data = batch;
        using var scope = new TensorScope(); // frees this step's activations and graph at the end of the step
        using var noise = rng.Normal(device, [batchSize, nz, 1, 1]);
        var fake = netG.Forward(noise);
        // (1) Update D: maximize log(D(x)) + log(1 - D(G(z))); the logits go into BCE (no Sigmoid layer in D)
        using var fakeDetached = fake.Detach();
        var errD = Losses.BceWithLogits(netD.Forward(data.Samples), 1f).Add(Losses.BceWithLogits(netD.Forward(fakeDetached), 0f));
        netD.ZeroGrad(); errD.Backward(); optimizerD.Step();
        // (2) Update G: maximize log(D(G(z)))
        var errG = Losses.BceWithLogits(netD.Forward(fake), 1f);
        netG.ZeroGrad(); errG.Backward(); optimizerG.Step();
        if (step % 10 == 0 || step == steps)
            Console.WriteLine($"[{epoch}][{step}/{steps}] Loss_D: {errD.Item():F4} Loss_G: {errG.Item():F4}");
        step++;
    }

var path = Path.Combine(Directory.CreateDirectory(Arg("--out", ".")).FullName, "fake_samples.png");
using (Autograd.NoGrad())
using (var samples = netG.Eval().Forward(fixedNoise))
    ImageGrid.Save(path, samples);
Console.WriteLine($"Wrote {path}");
