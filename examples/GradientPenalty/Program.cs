// A custom loss that differentiates through a gradient: WGAN-GP's penalty (Gulrajani et al. 2017) written by hand with
// Autograd.Grad(createGraph: true), checked against the library's Losses.GradientPenalty on the same points, then used
// to train a small WGAN-GP on 2D points (8 Gaussians on the unit circle).
// Run: dotnet run -c Release --project examples/GradientPenalty -- --steps 1000
using NativeGan;
using NativeGan.Nn;

string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
int steps = int.Parse(Arg("--steps", "1000")), batch = 256, criticSteps = 5;
// lambda 0.1: the WGAN-GP authors' value for 2D points (gan_toy.py); 10 is theirs for images.
float lambda = float.Parse(Arg("--lambda", "0.1"));
var device = Device.Get(Arg("--device", "auto"));
var rng = new Rng(seed: 1);
var random = new Random(1);

using var critic = new Sequential(new Linear(2, 128, device: device, rng: rng), new LeakyReLU(0.2f),
    new Linear(128, 128, device: device, rng: rng), new LeakyReLU(0.2f), new Linear(128, 1, device: device, rng: rng));
using var generator = new Sequential(new Linear(2, 128, device: device, rng: rng), new ReLU(),
    new Linear(128, 128, device: device, rng: rng), new ReLU(), new Linear(128, 2, device: device, rng: rng));
var optimizerD = new Adam(critic.Parameters(), learningRate: 1e-4f, beta1: 0.5f, beta2: 0.9f);
var optimizerG = new Adam(generator.Parameters(), learningRate: 1e-4f, beta1: 0.5f, beta2: 0.9f);

// Real points: one of 8 centres on the unit circle, jittered by up to ±0.02.
Tensor Real(int n)
{
    var xy = new float[2 * n];
    for (int i = 0; i < 2 * n; i += 2)
    {
        double angle = 2 * Math.PI * random.Next(8) / 8;
        xy[i] = (float)(Math.Cos(angle) + 0.04 * (random.NextDouble() - 0.5));
        xy[i + 1] = (float)(Math.Sin(angle) + 0.04 * (random.NextDouble() - 0.5));
    }
    return Tensor.FromArray(xy, [n, 2], device);
}

// Points on the lines between paired real and fake points, x = real + e (fake - real), e ~ U(0, 1) per pair: a leaf
// that requires grad, outside every graph (the penalty trains the critic only).
Tensor Interpolate(Tensor real, Tensor fake, Rng draw)
{
    using var _ = Autograd.NoGrad();
    using var e = draw.Uniform(device, [real.Dim(0), 1]);
    var x = real.Add(fake.Sub(real).Mul(e));
    x.RequiresGrad = true;
    return x;
}

// The penalty by hand: lambda * mean_n (||dD(x_n)/dx_n||_2 - 1)^2. Grad with createGraph records the backward pass,
// so the penalty is an ordinary graph whose Backward() reaches the critic's weights (a gradient of a gradient).
Tensor Penalty(Tensor x)
{
    var scores = critic.Forward(x);                                       // [N, 1]
    var dx = Autograd.Grad([scores.Sum()], [x], createGraph: true)[0];    // [N, 2]: sample n's score depends on x_n only
    var norm = dx.Square().Sum([1]).Add(1e-12f).Sqrt();                   // [N]
    return norm.Sub(1f).Square().Mean().Mul(lambda);
}

// The same points for both: the library draws e from its Rng exactly as Interpolate does.
bool Compare(string when)
{
    using var scope = new TensorScope();
    using var real = Real(batch);
    using var z = rng.Normal(device, [batch, 2]);
    var fake = generator.Forward(z);
    var x = Interpolate(real, fake, new Rng(seed: 7));
    float byHand = Penalty(x).Item(), library = Losses.GradientPenalty(critic.Forward, real, fake, new Rng(seed: 7), lambda).Item();
    double relative = Math.Abs(byHand - library) / Math.Max(Math.Abs(library), 1e-6);
    Console.WriteLine($"{when}: gradient penalty by hand {byHand:F6}, Losses.GradientPenalty {library:F6} (relative difference {relative:G2})");
    return relative < 1e-4;
}

Console.WriteLine($"WGAN-GP on 8 Gaussians: {steps} generator steps, {criticSteps} critic steps each, batch {batch}, on {device.Name}");
if (!Compare("before training")) return 1;
for (int step = 1; step <= steps; step++)
{
    float wasserstein = 0, penalty = 0;
    for (int i = 0; i < criticSteps; i++)
    {
        using var scope = new TensorScope();
        using var real = Real(batch);
        using var z = rng.Normal(device, [batch, 2]);
        using var fake = generator.Forward(z).Detach();
        var x = Interpolate(real, fake, rng);
        var lossW = Losses.WassersteinCritic(critic.Forward(real), critic.Forward(fake)); // mean D(fake) - mean D(real)
        var gp = Penalty(x);
        critic.ZeroGrad();
        lossW.Add(gp).Backward();
        optimizerD.Step();
        x.ZeroGrad(); // x is a leaf, so Backward() filled its .Grad too: free it now
        (wasserstein, penalty) = (-lossW.Item(), gp.Item());
    }
    using (new TensorScope())
    {
        using var z = rng.Normal(device, [batch, 2]);
        var lossG = critic.Forward(generator.Forward(z)).Mean().Neg();
        generator.ZeroGrad();
        lossG.Backward();
        optimizerG.Step();
    }
    if (step % Math.Max(1, steps / 10) == 0 || step == steps)
        Console.WriteLine($"[{step}/{steps}] Wasserstein estimate {wasserstein:F4} penalty {penalty:F4}");
}

// Where the generator's points land: the share within 0.1 of a centre, and how many of the 8 centres get any.
using (Autograd.NoGrad())
{
    using var z = rng.Normal(device, [1000, 2]);
    using var points = generator.Forward(z);
    var xy = points.ToArray();
    var nearest = Enumerable.Range(0, 1000).Select(i => Enumerable.Range(0, 8)
        .Select(k => (Centre: k, Distance: Math.Sqrt(Math.Pow(xy[2 * i] - Math.Cos(Math.PI * k / 4), 2) + Math.Pow(xy[2 * i + 1] - Math.Sin(Math.PI * k / 4), 2))))
        .MinBy(c => c.Distance)).Where(c => c.Distance < 0.1).ToList();
    Console.WriteLine($"Generated points within 0.1 of a centre: {nearest.Count / 10.0:F1}%, centres reached: {nearest.Select(c => c.Centre).Distinct().Count()}/8");
}
return Compare("after training") ? 0 : 1;
