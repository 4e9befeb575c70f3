using System.Diagnostics;
using NativeGan.Nn;

namespace NativeGan.Benchmarks;

/// <summary>
/// <c>lstm-quick [LxHxTxN...]</c>: one forward and backward (BPTT) of an <see cref="Lstm"/> of L layers of H units
/// (input size H) over T steps of a batch of N, loss = Σ output, on the cpu; prints the median and the range of
/// seven runs after one warm-up. Default 2x350x100x20 (issue 36's figure).
/// </summary>
public static class LstmQuick
{
    public static void Run(string[] args)
    {
        var (cpu, sizes) = Quick.Start(args, ["2x350x100x20"]);
        foreach (var size in sizes)
        {
            var s = Array.ConvertAll(size.Split('x'), int.Parse);
            int layers = s[0], hidden = s[1], steps = s[2], batch = s[3];
            using var lstm = new Lstm(hidden, hidden, layers, device: cpu, rng: new Rng(1));
            using var x = RandomOps.Uniform(cpu, [steps, batch, hidden], seed: 2);
            var times = new List<double>();
            for (int rep = 0; rep < 8; rep++)
            {
                var sw = Stopwatch.StartNew();
                using (new TensorScope())
                {
                    lstm.Forward(x).Sum().Backward();
                    lstm.ZeroGrad();
                }
                if (rep > 0) times.Add(sw.Elapsed.TotalSeconds);
            }
            times.Sort();
            Console.WriteLine($"{size} (layers x units x steps x batch): forward + backward median {times[times.Count / 2] * 1e3:0} ms " +
                              $"(range {times[0] * 1e3:0}-{times[^1] * 1e3:0} ms, {times.Count} runs)");
        }
    }
}
