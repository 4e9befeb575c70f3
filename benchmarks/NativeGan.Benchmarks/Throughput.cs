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

/// <summary>Adds a throughput column computed from <see cref="ThroughputBenchmark.Work"/> and the measured mean.</summary>
public sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);
    public string ColumnName => "Throughput";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => false;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Work of one call divided by the mean time (GB/s moved or GFLOP/s done)";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "-";
        if (Activator.CreateInstance(benchmarkCase.Descriptor.Type) is not ThroughputBenchmark instance) return "-";
        foreach (var p in benchmarkCase.Parameters.Items)
            benchmarkCase.Descriptor.Type.GetProperty(p.Name, BindingFlags.Public | BindingFlags.Instance)?.SetValue(instance, p.Value);
        var (amount, unit) = instance.Work(benchmarkCase.Descriptor.WorkloadMethod.Name);
        double seconds = stats.Mean * 1e-9;
        return $"{amount / seconds / 1e9:0.0} {unit}";
    }
}

/// <summary>The default configuration: a short job that fits a 2-core machine, plus the throughput column.</summary>
public sealed class ShortThroughputConfig : ManualConfig
{
    public ShortThroughputConfig()
    {
        // In-process: no separate build of a host project (which fails here), and the JIT state is the product's.
        AddJob(Job.ShortRun.WithWarmupCount(2).WithIterationCount(5).WithToolchain(InProcessEmitToolchain.Instance));
        AddColumn(new ThroughputColumn());
    }
}
