using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NativeGan;

namespace NativeGan.Tests.Kernels;

/// <summary>
/// The normalisation kernels compile to PTX for sm_90 (no GPU needed): the warp shuffles and shared
/// memory of the reduction kernels are lowered by ILGPU's PTX backend, not only by its CPU accelerator.
/// </summary>
public class NormPtxTests
{
    public static TheoryData<string> NormKernels()
    {
        var data = new TheoryData<string>();
        foreach (var k in KernelRegistry.All.Where(k => k.Name.StartsWith("Norm.") || k.Name.StartsWith("BatchNorm2d.")))
            data.Add(k.Name);
        return data;
    }

    [Theory, MemberData(nameof(NormKernels))]
    public void CompilesToPtxForSm90(string name)
    {
        var spec = KernelRegistry.Get(name);
        using var context = GpuDevice.CreateContext(false, false);
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, null);
        var entry = spec.ExplicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(spec.Method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(spec.Method);
        var compiled = backend.Compile(entry, KernelSpecialization.Empty);
        var ptx = ((PTXCompiledKernel)compiled).PTXAssembly;
        Assert.Contains(".entry", ptx);
        if (spec.ExplicitlyGrouped)
        {
            Assert.Contains("shfl.sync", ptx);
            Assert.Contains("bar.sync", ptx);
        }
    }
}
