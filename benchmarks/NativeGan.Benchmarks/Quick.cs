namespace NativeGan.Benchmarks;

/// <summary>
/// What the stand-alone quick measurements (<c>gemm-quick</c>, <c>norm-quick</c>, <c>maxout-quick</c>) share: the cpu
/// with <c>--threads T</c> applied, the sizes asked for (or the defaults), and a first line that names the
/// machine, the time and the load, since their figures are only comparable on the same machine state.
/// </summary>
static class Quick
{
    /// <param name="option">Takes an argument that is neither <c>--threads</c> nor a size (true: it was an option).</param>
    public static (CpuDevice Cpu, List<string> Sizes) Start(string[] args, string[] defaultSizes, Func<string, bool>? option = null)
    {
        var cpu = (CpuDevice)Device.Get("cpu");
        var sizes = new List<string>();
        for (int i = 0; i < args.Length; i++)
            if (args[i] == "--threads") cpu.Threads = int.Parse(args[++i]);
            else if (option is null || !option(args[i])) sizes.Add(args[i]);
        if (sizes.Count == 0) sizes = [.. defaultSizes];
        Console.WriteLine($"cpu: {cpu.Description}; using {cpu.Threads} threads; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; " +
                          $"load average {File.ReadAllText("/proc/loadavg").Trim()}");
        return (cpu, sizes);
    }
}
