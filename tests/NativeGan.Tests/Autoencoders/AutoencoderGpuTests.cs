using NativeGan;
using NativeGan.Gan.Autoencoders;
using NativeGan.Gan.Data;

namespace NativeGan.Tests.Autoencoders;

/// <summary>
/// One tiny VAE step on ilgpu-cpu (the GPU kernels on ILGPU's CPU accelerator) against the same step on cpu:
/// the weights and the reparameterisation noise come from the same Philox stream on both devices, so the
/// step's loss, reconstruction and KL agree. Few steps: ilgpu-cpu takes seconds per step even at this size.
/// </summary>
[Collection("MemoryTests")] // pool leak checks: not beside other tests on the same device
public class AutoencoderGpuTests
{
    [Fact]
    public void VaeStepMatchesCpuOnIlgpuCpu()
    {
        var gpu = TestDevices.Get("ilgpu-cpu");
        var config = new Dictionary<string, string>
        {
            ["kind"] = "vae", ["data_shape"] = "1,4,4", ["code"] = "3", ["hidden"] = "", ["lr"] = "0.01", ["seed"] = "5",
        };
        var data = AutoencoderJobTests.Images(4, 1).Take(4 * 16).ToArray();
        using var onCpu = AutoencoderJob.Create(AutoencoderOptions.Parse(config), Device.Cpu);
        using var onGpu = AutoencoderJob.Create(AutoencoderOptions.Parse(config), gpu);
        using var xc = Tensor.FromArray(data, [4, 1, 4, 4]);
        using var xg = Tensor.FromArray(data, [4, 1, 4, 4], gpu);
        var a = onCpu.Step(new Batch(xc, null, 0, 0), 0);
        var b = onGpu.Step(new Batch(xg, null, 0, 0), 0);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys)
            Assert.True(Math.Abs(a[key] - b[key]) <= 1e-4 + 1e-4 * Math.Abs(a[key]), $"{key}: cpu {a[key]}, ilgpu-cpu {b[key]}");
        var wc = onCpu.Modules["decoder"].StateDict();
        foreach (var (name, t) in onGpu.Modules["decoder"].StateDict())
            Numerics.AssertClose(Numerics.ToDouble(wc[name].ToArray()), t.ToArray(), 1e-4, 1e-5, "decoder." + name + " after the step");

        // A second step leaves nothing behind in the pool (the noise eps, z, every activation go back).
        var pool = ((GpuDevice)gpu).Pool;
        long inUse = TestDevices.SettledBytesInUse(gpu);
        onGpu.Step(new Batch(xg, null, 0, 1), 1);
        Assert.Equal(inUse, pool.BytesInUse);
    }

    /// <summary>
    /// Every handle a deterministic step makes goes back to the pool: the corrupted input, the contractive
    /// penalty's input leaf and its gradient, the k vector-Jacobian products, the logged mean activation.
    /// </summary>
    [Fact]
    public void RegularisedStepLeavesNothingInThePool()
    {
        var gpu = (GpuDevice)TestDevices.Get("ilgpu-cpu");
        var config = new Dictionary<string, string>
        {
            ["kind"] = "sparse", ["data_shape"] = "4", ["code"] = "2", ["hidden"] = "", ["code_activation"] = "sigmoid",
            ["noise"] = "0.1", ["lambda"] = "0.1", ["jacobian"] = "autodiff", ["seed"] = "5",
        };
        using var job = AutoencoderJob.Create(AutoencoderOptions.Parse(config), gpu);
        using var x = Tensor.FromArray(Numerics.Random(new Random(1), 3 * 4), [3, 4], gpu);
        var batch = new Batch(x, null, 0, 0);
        job.Step(batch, 0);                       // Adam's state appears at the first step
        long inUse = TestDevices.SettledBytesInUse(gpu);
        var scalars = job.Step(batch, 1);
        Assert.Equal(inUse, gpu.Pool.BytesInUse);
        Assert.Contains("contractive", scalars.Keys);
        Assert.Contains("mean_activation", scalars.Keys);
    }
}
