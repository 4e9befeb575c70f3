using NativeGan;

namespace NativeGan.Tests.Core;

public class DeviceTests
{
    [Fact]
    public void UnknownNamesListTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Device.Get("tpu"));
        Assert.Contains("tpu", e.Message);
        Assert.Contains("cuda", e.Message);
        Assert.Contains("ilgpu-cpu", e.Message);
    }

    [Fact]
    public void AMissingCudaDeviceIsAClearErrorListingWhatWasFound()
    {
        if (Device.Available().Any(a => a.Name == "cuda")) Assert.Skip("this machine has a CUDA device");
        var e = Assert.Throws<DeviceNotFoundException>(() => Device.Get("cuda"));
        Assert.Contains("no Cuda device", e.Message);
        Assert.Contains("cpu", e.Message);
    }

    [Fact]
    public void AutoPicksCpuWithoutAGpuAndSaysSo()
    {
        if (Device.Available().Any(a => a.Name is "cuda" or "opencl")) Assert.Skip("this machine has a GPU");
        var d = Device.Get("auto");
        Assert.Equal(DeviceKind.Cpu, d.Kind);
        Assert.Contains("auto picked cpu", Device.LastAutoChoice);
    }

    [Fact]
    public void TheSameNameGivesTheSameDevice()
    {
        Assert.Same(Device.Get("ilgpu-cpu"), Device.Get("ILGPU-CPU"));
        Assert.Same(Device.Cpu, Device.Get("cpu"));
    }

    [Fact]
    public void TheIlgpuCpuDeviceIsNvidiaShaped()
    {
        var d = (GpuDevice)Device.Get("ilgpu-cpu");
        Assert.Equal(32, d.Accelerator.WarpSize);
        Assert.Equal(1024, d.Accelerator.MaxNumThreadsPerGroup);
    }
}
