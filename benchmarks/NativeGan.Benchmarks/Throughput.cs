using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace NativeGan.Benchmarks;

/// <summary>
/// A benchmark class that knows how much work one call does, so results read as GB/s or GFLOP/s
/// beside the device's limit rather than as bare times.
/// </summary>
public abstract class ThroughputBenchmark
{
    /// <summary>Work of one call of <paramref name="method"/> with the current parameters: (amount, unit), e.g. (bytes, "GB/s").</summary>
    public abstract (double Amount, string Unit) Work(string method);
}

/// <summary>
/// One column of every suite: the work of one call (FLOP or bytes) divided by the mean time, i.e. GFLOP/s or
/// GB/s beside the measured time. <paramref name="workPerCall"/> returns null for a case that was skipped.
/// </summary>
public sealed class RateColumn(string name, string legend, Func<BenchmarkCase, (double Amount, string? Unit)?> workPerCall) : IColumn
{
    public string Id => "Rate:" + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (summary[benchmarkCase]?.ResultStatistics is not { } stats) return "-";
        if (workPerCall(benchmarkCase) is not { } work) return "skipped";
        double rate = work.Amount / stats.Mean; // per nanosecond = giga per second
        return work.Unit is null ? $"{rate:0.0}" : $"{rate:0.0} {work.Unit}";
    }

    /// <summary>The column for <see cref="ThroughputBenchmark"/> classes: each knows its own work.</summary>
    public static RateColumn Throughput() => new("Throughput", "Work of one call divided by the mean time (GB/s moved or GFLOP/s done)", benchmarkCase =>
    {
        if (Activator.CreateInstance(benchmarkCase.Descriptor.Type) is not ThroughputBenchmark instance) return null;
        foreach (var p in benchmarkCase.Parameters.Items)
            benchmarkCase.Descriptor.Type.GetProperty(p.Name, BindingFlags.Public | BindingFlags.Instance)?.SetValue(instance, p.Value);
        return instance.Work(benchmarkCase.Descriptor.WorkloadMethod.Name);
    });
}

/// <summary>The job every suite uses: in process (a separately built host project fails or times out here), short.</summary>
public static class ShortJob
{
    public static Job Create(int warmups = 2)
        => Job.ShortRun.WithWarmupCount(warmups).WithIterationCount(5).WithLaunchCount(1).WithToolchain(InProcessEmitToolchain.Instance);
}

/// <summary>The default configuration: a short job that fits a 2-core machine, plus the throughput column.</summary>
public sealed class ShortThroughputConfig : ManualConfig
{
    public ShortThroughputConfig()
    {
        AddJob(ShortJob.Create());
        AddColumn(RateColumn.Throughput());
    }
}
