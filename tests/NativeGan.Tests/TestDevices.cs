using NativeGan;

namespace NativeGan.Tests;

/// <summary>
/// The devices every kernel test runs on. <c>cpu</c> runs at real sizes; <c>ilgpu-cpu</c> runs the GPU
/// kernels on ILGPU's CPU accelerator at tiny sizes; <c>cuda</c> runs them on a GPU when there is one
/// and reports itself skipped (with the reason) when there is none.
/// </summary>
public static class TestDevices
{
    /// <summary>Theory data: every device name.</summary>
    public static TheoryData<string> All => new("cpu", "ilgpu-cpu", "cuda");

    /// <summary>Theory data: the ILGPU devices only (GPU kernels).</summary>
    public static TheoryData<string> Gpu => new("ilgpu-cpu", "cuda");

    static readonly Lazy<string?> cudaMissing = new(() =>
        Device.Available().Any(d => d.Name == "cuda") ? null : "no CUDA device on this machine");

    /// <summary>The device, or a skipped test when it is not on this machine.</summary>
    public static Device Get(string name)
    {
        if (name == "cuda" && cudaMissing.Value is { } why) Assert.Skip(why);
        return Device.Get(name);
    }

    /// <summary>
    /// The device pool's bytes in use once storage that earlier tests let go of without Dispose has been finalised
    /// (0 on the cpu device, which has no pool): the baseline of a leak check. Without it such storage can go back to
    /// the pool inside the measured window and lower the count (a flaky CI failure once). Read the count after the
    /// window plainly (<see cref="BytesInUse"/>): collecting there would hide the window's own undisposed storage.
    /// </summary>
    public static long SettledBytesInUse(Device d)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return BytesInUse(d);
    }

    /// <summary>The device pool's bytes in use now (0 on the cpu device).</summary>
    public static long BytesInUse(Device d) => d is GpuDevice g ? g.Pool.BytesInUse : 0;

    /// <summary>True for devices that should only get tiny sizes (ILGPU's CPU accelerator is ~1000x slower than plain code).</summary>
    public static bool IsSlow(Device d) => d.Kind == DeviceKind.IlgpuCpu;
}

/// <summary>Random data, float64 comparison and poisoned outputs: the habits of every kernel test.</summary>
public static class Numerics
{
    /// <summary>Uniform values in [lo, hi), never all zeros.</summary>
    public static float[] Random(Random rng, int n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.NextSingle();
        return a;
    }

    public static double[] ToDouble(float[] a) => Array.ConvertAll(a, x => (double)x);

    /// <summary>A tensor filled with NaN, so an element a kernel forgets to write fails the comparison.</summary>
    public static Tensor Poisoned(Device d, params int[] shape) => Tensor.Full(d, float.NaN, shape);

    /// <summary>Asserts |actual - expected| &lt;= atol + rtol * |expected| everywhere, naming the first bad index.</summary>
    public static void AssertClose(double[] expected, float[] actual, double rtol = 1e-4, double atol = 1e-5, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            double tol = atol + rtol * Math.Abs(expected[i]);
            if (!(err <= tol))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (error {err:g3}, tolerance {tol:g3})");
        }
    }
}
