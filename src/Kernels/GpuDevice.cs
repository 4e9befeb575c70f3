using System.Collections.Concurrent;
using System.Linq.Expressions;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace NativeGan;

/// <summary>
/// A device driven by ILGPU: CUDA, OpenCL, or ILGPU's CPU accelerator (which runs the very same GPU
/// kernels, slowly, so they can be tested without a GPU). Work is queued on one stream in order;
/// kernels are compiled once per device and kept in a cache keyed by the kernel's <see cref="KernelSpec"/>.
/// </summary>
public sealed class GpuDevice : Device
{
    readonly Context context;
    readonly ConcurrentDictionary<(KernelSpec, Type), Delegate> kernels = new();
    readonly ConcurrentDictionary<KernelSpec, LaunchTally> launches = new();
    long hostSyncs, kernelLoads, uploads;

    GpuDevice(Context context, Accelerator accelerator, DeviceKind kind)
    {
        this.context = context;
        Accelerator = accelerator;
        Kind = kind;
        Pool = new MemoryPool(accelerator, Name);
    }

    /// <summary>
    /// Builds the ILGPU context every NativeGan device and tool uses (algorithms on, NVIDIA-like CPU device), at
    /// optimisation level O2: O1, ILGPU's default, leaves array views in the generic address space, so every global
    /// access is a generic LD/ST; O2 runs its address-space inference and emits LDG/STG (the kernel table checks it).
    /// </summary>
    public static Context CreateContext(bool cuda = true, bool openCL = true)
        => Context.Create(b =>
        {
            b.Optimize(OptimizationLevel.O2);
            b.CPU(CPUDeviceKind.Nvidia).EnableAlgorithms();
            if (cuda) b.Cuda();
            if (openCL) b.OpenCL();
        });

    /// <summary>Opens the first device of a kind, or throws listing what this machine has.</summary>
    public static GpuDevice Open(DeviceKind kind)
    {
        var context = CreateContext(cuda: kind == DeviceKind.Cuda, openCL: kind == DeviceKind.OpenCL);
        try
        {
            var type = kind switch
            {
                DeviceKind.Cuda => AcceleratorType.Cuda,
                DeviceKind.OpenCL => AcceleratorType.OpenCL,
                DeviceKind.IlgpuCpu => AcceleratorType.CPU,
                _ => throw new ArgumentException($"{kind} is not an ILGPU device"),
            };
            var device = context.Devices.FirstOrDefault(d => d.AcceleratorType == type)
                ?? throw new DeviceNotFoundException(
                    $"no {kind} device was found on this machine; devices found: " +
                    string.Join(", ", Available().Select(a => $"{a.Name} ({a.Description})")));
            return new GpuDevice(context, device.CreateAccelerator(context), kind);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Lists the ILGPU devices present, without creating accelerators.</summary>
    internal static List<(DeviceKind Kind, string Description)> Probe()
    {
        var list = new List<(DeviceKind, string)>();
        try
        {
            using var context = CreateContext();
            foreach (var d in context.Devices)
            {
                var kind = d.AcceleratorType switch
                {
                    AcceleratorType.Cuda => DeviceKind.Cuda,
                    AcceleratorType.OpenCL => DeviceKind.OpenCL,
                    _ => DeviceKind.IlgpuCpu,
                };
                list.Add((kind, Describe(d)));
            }
        }
        catch (Exception)
        {
            // A broken driver installation must not stop the cpu device from working.
        }
        return list;
    }

    static string Describe(ILGPU.Runtime.Device d) => d switch
    {
        CudaDevice c => $"{c.Name}, {c.Architecture}, {c.MemorySize / (1L << 20)} MiB, driver {c.DriverVersion}",
        CPUDevice => $"ILGPU CPU accelerator (warp {d.WarpSize}, {d.MaxNumThreadsPerGroup} threads a group)",
        _ => $"{d.Name}, {d.MemorySize / (1L << 20)} MiB",
    };

    public Accelerator Accelerator { get; }

    /// <summary>The stream every op of this device is queued on.</summary>
    public AcceleratorStream Stream => Accelerator.DefaultStream;

    public MemoryPool Pool { get; }

    public override DeviceKind Kind { get; }

    public override string Name => Kind switch
    {
        DeviceKind.Cuda => "cuda",
        DeviceKind.OpenCL => "opencl",
        _ => "ilgpu-cpu",
    };

    public override string Description => Describe(Accelerator.Device);

    /// <summary>The kernels this device has compiled so far (the registry test compares them with the registry).</summary>
    public IEnumerable<KernelSpec> LoadedKernels => kernels.Keys.Select(k => k.Item1).Distinct();

    /// <summary>
    /// The launcher of a kernel, compiled at its first use on this device. <typeparamref name="TLauncher"/>
    /// is <c>Action&lt;AcceleratorStream, Index1D, ...&gt;</c> for an implicitly grouped kernel and
    /// <c>Action&lt;AcceleratorStream, KernelConfig, ...&gt;</c> for an explicitly grouped one.
    /// </summary>
    public TLauncher Kernel<TLauncher>(KernelSpec spec) where TLauncher : Delegate
        => (TLauncher)kernels.GetOrAdd((spec, typeof(TLauncher)), key =>
        {
            Interlocked.Increment(ref kernelLoads);
            var compiled = key.Item1.ExplicitlyGrouped
                ? Accelerator.LoadKernel(key.Item1.Method)
                : Accelerator.LoadAutoGroupedKernel(key.Item1.Method);
            return Counted(compiled.CreateLauncherDelegate<TLauncher>(), launches.GetOrAdd(key.Item1, _ => new LaunchTally()));
        });

    /// <summary>What this device has done so far: kernel launches (each one counted as it is queued), host
    /// synchronisations (a copy to the host waits for the stream; <see cref="Synchronize"/>), copies from host memory,
    /// kernels compiled and loaded, and the pool's requests to the driver. A step's figures are the difference of two readings: the things a CUDA
    /// graph of the step must not do after warm-up (sync, load, allocate), and the launches it would replay.</summary>
    public GpuCounters Counters => new(launches.Values.Sum(t => Interlocked.Read(ref t.Count)), Interlocked.Read(ref hostSyncs),
        Interlocked.Read(ref uploads), Interlocked.Read(ref kernelLoads), Pool.DriverAllocations);

    /// <summary>Launches so far by kernel name (the registry's names).</summary>
    public IReadOnlyDictionary<string, long> LaunchesByKernel =>
        launches.ToDictionary(kv => kv.Key.Name, kv => Interlocked.Read(ref kv.Value.Count));

    sealed class LaunchTally
    {
        public long Count;
        public static void Add(LaunchTally tally) => Interlocked.Increment(ref tally.Count);
    }

    /// <summary>The launcher wrapped so that each call is counted first (a compiled expression: one interlocked add
    /// and one delegate call more per launch, nanoseconds against the launch's microseconds).</summary>
    static TLauncher Counted<TLauncher>(TLauncher launcher, LaunchTally tally) where TLauncher : Delegate
    {
        var invoke = typeof(TLauncher).GetMethod("Invoke")!;
        var parameters = invoke.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
        var body = Expression.Block(
            Expression.Call(typeof(LaunchTally).GetMethod(nameof(LaunchTally.Add))!, Expression.Constant(tally)),
            Expression.Invoke(Expression.Constant(launcher), parameters));
        return Expression.Lambda<TLauncher>(body, parameters).Compile();
    }

    public override Storage Allocate(long length) => new GpuStorage(this, Pool, Pool.Rent(length), length);

    // ILGPU refuses empty copies (a null pointer underneath): an empty copy is simply nothing to do.
    public override void CopyIn(ReadOnlySpan<float> source, Storage destination, long offset)
    {
        if (source.IsEmpty) return;
        ((GpuStorage)destination).View.SubView(offset, source.Length).CopyFromCPU(Stream, source);
        Interlocked.Increment(ref uploads);
    }

    public override void CopyOut(Storage source, long offset, Span<float> destination)
    {
        if (destination.IsEmpty) return;
        ((GpuStorage)source).View.SubView(offset, destination.Length).CopyToCPU(Stream, destination);
        Stream.Synchronize();
        Interlocked.Increment(ref hostSyncs);
    }

    public override void Copy(Storage source, long sourceOffset, Storage destination, long destinationOffset, long length)
    {
        if (length == 0) return;
        ((GpuStorage)source).View.SubView(sourceOffset, length)
            .CopyTo(Stream, ((GpuStorage)destination).View.SubView(destinationOffset, length));
    }

    public override void Synchronize()
    {
        Accelerator.Synchronize();
        Interlocked.Increment(ref hostSyncs);
    }

    public override void Dispose()
    {
        Accelerator.Synchronize();
        Pool.Dispose();
        Accelerator.Dispose();
        context.Dispose();
        base.Dispose();
    }
}

/// <summary>A reading of <see cref="GpuDevice.Counters"/>; subtract two for what happened between them.</summary>
public readonly record struct GpuCounters(long Launches, long HostSyncs, long Uploads, long KernelLoads, long DriverAllocations)
{
    public static GpuCounters operator +(GpuCounters a, GpuCounters b) => new(a.Launches + b.Launches, a.HostSyncs + b.HostSyncs,
        a.Uploads + b.Uploads, a.KernelLoads + b.KernelLoads, a.DriverAllocations + b.DriverAllocations);

    public static GpuCounters operator -(GpuCounters a, GpuCounters b) => new(a.Launches - b.Launches, a.HostSyncs - b.HostSyncs,
        a.Uploads - b.Uploads, a.KernelLoads - b.KernelLoads, a.DriverAllocations - b.DriverAllocations);

    /// <summary>The counts divided by <paramref name="steps"/>, as text ("612 launches, 3 host syncs, ..." a step).</summary>
    public string PerStep(int steps) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Launches / (double)steps:0.#} launches, {HostSyncs / (double)steps:0.#} host syncs, {Uploads / (double)steps:0.#} uploads, {KernelLoads / (double)steps:0.#} kernel loads, {DriverAllocations / (double)steps:0.#} driver allocations");
}
