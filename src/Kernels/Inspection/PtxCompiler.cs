using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace NativeGan.Inspection;

/// <summary>
/// Compiles a registered kernel to PTX, NVIDIA's virtual assembly, with ILGPU's PTX backend: the same
/// code generator the CUDA accelerator uses, run without a GPU or a CUDA driver.
/// </summary>
/// <remarks>
/// The PTX ISA is 7.8, the newest that ptxas 11.8 (the one tools/fetch-ptxas.sh fetches) reads. Under
/// ISA 7.8 ILGPU 1.5.3 writes <c>.target sm_80</c> even when asked for sm_90 (measured; the tests pin it);
/// PTX written for sm_80 uses no sm_90-only feature, and ptxas assembles it for any later GPU
/// (<c>ptxas -arch=sm_90</c>), so the machine code is still Hopper's. <see cref="TargetOf"/> reads the line.
/// One compiler holds an ILGPU context; it is safe to share between threads.
/// </remarks>
public sealed class PtxCompiler : IDisposable
{
    readonly Context context;
    readonly PTXBackend backend;
    readonly object gate = new();

    public PtxCompiler(SmArchitecture arch)
    {
        Architecture = arch;
        context = GpuDevice.CreateContext(cuda: false, openCL: false);
        backend = new PTXBackend(context, new CudaCapabilityContext(arch.Ilgpu), arch.Ilgpu, CudaInstructionSet.ISA_78, nvvmAPI: null);
    }

    public SmArchitecture Architecture { get; }

    /// <summary>The PTX text of one kernel; a kernel ILGPU cannot compile throws <see cref="KernelCompileException"/> with ILGPU's message.</summary>
    public string Compile(KernelSpec spec)
    {
        var entry = spec.ExplicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(spec.Method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(spec.Method);
        try
        {
            lock (gate)
                return ((PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new KernelCompileException(
                $"{spec.Name} ({spec.Method.DeclaringType?.Name}.{spec.Method.Name}) does not compile to PTX for {Architecture.Name}: {Messages(e)}", e);
        }
    }

    /// <summary>The name ILGPU gives the kernel's entry in the PTX (the <c>.entry</c> line).</summary>
    public static string EntryName(string ptx)
    {
        foreach (var line in ptx.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith(".visible .entry ", StringComparison.Ordinal) || t.StartsWith(".entry ", StringComparison.Ordinal))
            {
                var rest = t[(t.IndexOf(".entry ", StringComparison.Ordinal) + 7)..];
                int end = rest.IndexOfAny(['(', ' ']);
                return end < 0 ? rest : rest[..end];
            }
        }
        throw new FormatException("the PTX has no .entry line");
    }

    /// <summary>The <c>.target</c> the PTX declares (for example <c>sm_80</c>).</summary>
    public static string TargetOf(string ptx)
    {
        foreach (var line in ptx.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith(".target ", StringComparison.Ordinal)) return t[8..].Split(',')[0].Trim();
        }
        throw new FormatException("the PTX has no .target line");
    }

    /// <summary>An exception's message and those of its inner exceptions, on one line.</summary>
    static string Messages(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x != null; x = x.InnerException) parts.Add($"{x.GetType().Name}: {x.Message}");
        return string.Join(" <- ", parts);
    }

    public void Dispose()
    {
        backend.Dispose();
        context.Dispose();
    }
}

/// <summary>ILGPU could not compile a kernel; the message names the kernel and carries ILGPU's reason.</summary>
public sealed class KernelCompileException(string message, Exception inner) : Exception(message, inner);
