namespace NativeGan;

/// <summary>The kinds of device a tensor can live on.</summary>
public enum DeviceKind
{
    /// <summary>Vectorised, multi-threaded managed code on this machine's CPU.</summary>
    Cpu,
    /// <summary>ILGPU's CPU accelerator running the GPU kernels (warp 32): for conformance tests at tiny sizes.</summary>
    IlgpuCpu,
    /// <summary>An NVIDIA GPU through ILGPU's CUDA accelerator.</summary>
    Cuda,
    /// <summary>An OpenCL 2.0+ device through ILGPU's OpenCL accelerator.</summary>
    OpenCL,
}

/// <summary>
/// The whole device contract, as small as tinygrad's: allocate, copy in, copy out, synchronise.
/// It knows no ops; each op dispatches on the concrete device (<see cref="CpuDevice"/> runs managed
/// code, <see cref="GpuDevice"/> launches ILGPU kernels), so adding an op never touches this file.
/// </summary>
public abstract class Device : IDisposable
{
    /// <summary>The name used by <c>--device</c> and <c>NATIVEGAN_DEVICE</c>: cpu, ilgpu-cpu, cuda, opencl.</summary>
    public abstract string Name { get; }

    public abstract DeviceKind Kind { get; }

    /// <summary>A human description: the hardware behind the device.</summary>
    public abstract string Description { get; }

    /// <summary>Uninitialised storage for <paramref name="length"/> floats.</summary>
    public abstract Storage Allocate(long length);

    /// <summary>Host to device: <paramref name="source"/> into <paramref name="destination"/> at <paramref name="offset"/>.</summary>
    public abstract void CopyIn(ReadOnlySpan<float> source, Storage destination, long offset);

    /// <summary>Device to host; waits for the work queued before it.</summary>
    public abstract void CopyOut(Storage source, long offset, Span<float> destination);

    /// <summary>Device to device, on this device's stream.</summary>
    public abstract void Copy(Storage source, long sourceOffset, Storage destination, long destinationOffset, long length);

    /// <summary>Waits until all work queued on the device has finished.</summary>
    public abstract void Synchronize();

    public override string ToString() => Name;

    public virtual void Dispose() => GC.SuppressFinalize(this);

    // ---------------------------------------------------------------- selection

    /// <summary>The device names <see cref="Get"/> accepts.</summary>
    public static readonly string[] Names = ["auto", "cuda", "opencl", "cpu", "ilgpu-cpu"];

    /// <summary>The managed CPU device (one per process).</summary>
    public static CpuDevice Cpu => CpuDevice.Instance;

    static readonly Dictionary<string, Device> opened = new();
    static readonly object openLock = new();

    /// <summary>
    /// Opens a device by name (cached: the same name gives the same instance).
    /// <c>auto</c> takes CUDA, then OpenCL, then cpu; <see cref="LastAutoChoice"/> says which and why.
    /// A named device that is not present throws <see cref="DeviceNotFoundException"/> listing what was found.
    /// </summary>
    public static Device Get(string name)
    {
        name = name.Trim().ToLowerInvariant();
        if (!Names.Contains(name))
            throw new ArgumentException($"unknown device '{name}': expected one of {string.Join(", ", Names)}");
        if (name == "cpu") return Cpu;
        lock (openLock)
        {
            if (opened.TryGetValue(name, out var d)) return d;
            d = name switch
            {
                "auto" => PickAuto(),
                "cuda" => GpuDevice.Open(DeviceKind.Cuda),
                "opencl" => GpuDevice.Open(DeviceKind.OpenCL),
                _ => GpuDevice.Open(DeviceKind.IlgpuCpu),
            };
            opened[name] = d;
            return d;
        }
    }

    /// <summary>Opens the device named by <c>NATIVEGAN_DEVICE</c>, or <c>auto</c> when it is unset.</summary>
    public static Device FromEnvironment()
        => Get(Environment.GetEnvironmentVariable("NATIVEGAN_DEVICE") is { Length: > 0 } v ? v : "auto");

    /// <summary>What <c>auto</c> picked and why, once it has run.</summary>
    public static string? LastAutoChoice { get; private set; }

    static Device PickAuto()
    {
        var found = GpuDevice.Probe();
        foreach (var kind in new[] { DeviceKind.Cuda, DeviceKind.OpenCL })
        {
            if (found.Any(f => f.Kind == kind))
            {
                var d = GpuDevice.Open(kind);
                LastAutoChoice = $"auto picked {d.Name}: {d.Description}";
                return d;
            }
        }
        LastAutoChoice = "auto picked cpu: no CUDA or usable OpenCL device was found";
        return Cpu;
    }

    /// <summary>Every device this machine offers, with a description, without opening any.</summary>
    public static IReadOnlyList<(string Name, string Description)> Available()
    {
        var list = new List<(string, string)> { ("cpu", Cpu.Description) };
        foreach (var f in GpuDevice.Probe())
            list.Add((f.Kind switch { DeviceKind.Cuda => "cuda", DeviceKind.OpenCL => "opencl", _ => "ilgpu-cpu" }, f.Description));
        return list;
    }
}

/// <summary>A device that was asked for by name is not on this machine.</summary>
public sealed class DeviceNotFoundException(string message) : Exception(message);

/// <summary>The GPU has no room for an allocation, even after the pool released what it cached.</summary>
public sealed class DeviceOutOfMemoryException(string message, Exception? inner) : Exception(message, inner);
