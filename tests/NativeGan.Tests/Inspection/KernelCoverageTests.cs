using System.Collections;
using System.Reflection;
using System.Reflection.Emit;

namespace NativeGan.Tests.Inspection;

/// <summary>
/// The registry is complete and every kernel in it is tested: each registered kernel has a conformance
/// test on ILGPU's CPU accelerator (a test carrying <c>[Trait("Kernel", name)]</c> that runs on
/// <c>ilgpu-cpu</c>), and no code of the engine can load a kernel the registry does not list.
/// </summary>
public class KernelCoverageTests
{
    /// <summary>Test methods of this assembly with their <c>Kernel</c> traits.</summary>
    static List<(MethodInfo Test, string Kernel)> KernelTraits()
        => typeof(KernelCoverageTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .SelectMany(m => m.GetCustomAttributesData()
                .Where(a => a.AttributeType == typeof(TraitAttribute)
                            && a.ConstructorArguments.Count == 2
                            && (string?)a.ConstructorArguments[0].Value == "Kernel")
                .Select(a => (m, (string)a.ConstructorArguments[1].Value!)))
            .ToList();

    [Fact]
    public void EveryRegisteredKernelHasAConformanceTestOnIlgpuCpu()
    {
        var traits = KernelTraits();
        var missing = new List<string>();
        foreach (var spec in KernelRegistry.All)
        {
            var tests = traits.Where(t => t.Kernel == spec.Name).Select(t => t.Test).ToList();
            if (tests.Count == 0)
                missing.Add($"{spec.Name} (no test carries [Trait(\"Kernel\", \"{spec.Name}\")])");
            else if (!tests.Any(RunsOnIlgpuCpu))
                missing.Add($"{spec.Name} (its tests {string.Join(", ", tests.Select(t => t.DeclaringType!.Name + "." + t.Name))} do not run on ilgpu-cpu)");
        }
        Assert.True(missing.Count == 0,
            $"{missing.Count} registered kernel(s) without a conformance test on ilgpu-cpu: {string.Join("; ", missing)}");
    }

    [Fact]
    public void EveryKernelTraitNamesARegisteredKernel()
    {
        var known = KernelRegistry.All.Select(k => k.Name).ToHashSet();
        var unknown = KernelTraits().Where(t => !known.Contains(t.Kernel))
            .Select(t => $"{t.Test.DeclaringType!.Name}.{t.Test.Name}: '{t.Kernel}'").ToList();
        Assert.True(unknown.Count == 0, $"Kernel traits that name no registered kernel (a typo, or a renamed kernel): {string.Join("; ", unknown)}");
    }

    /// <summary>
    /// A test runs on ilgpu-cpu when it is a test (Fact or Theory) and either one of its data rows
    /// (InlineData or MemberData) has the argument "ilgpu-cpu", or its body names "ilgpu-cpu" itself.
    /// </summary>
    static bool RunsOnIlgpuCpu(MethodInfo test)
    {
        if (test.GetCustomAttribute<FactAttribute>() == null) return false; // TheoryAttribute derives from FactAttribute
        foreach (var inline in test.GetCustomAttributes<InlineDataAttribute>())
            if (inline.Data.Contains("ilgpu-cpu")) return true;
        foreach (var member in test.GetCustomAttributes<MemberDataAttribute>())
        {
            var owner = member.MemberType ?? test.DeclaringType!;
            const BindingFlags any = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.FlattenHierarchy;
            object? data = owner.GetProperty(member.MemberName, any)?.GetValue(null)
                           ?? owner.GetField(member.MemberName, any)?.GetValue(null)
                           ?? owner.GetMethod(member.MemberName, any)?.Invoke(null, member.Arguments);
            if (data is IEnumerable rows)
                foreach (var row in rows)
                {
                    var args = row switch { ITheoryDataRow r => r.GetData(), object?[] a => a, _ => [] };
                    if (args.Contains("ilgpu-cpu")) return true;
                }
        }
        return IlReader.StringsLoadedBy(test).Contains("ilgpu-cpu");
    }

    // ---------------------------------------------------------------- the registry is complete

    /// <summary>The engine's assemblies: NativeGan.* and the nativegan tool, everything but the tests.</summary>
    static List<Assembly> EngineAssemblies()
    {
        var found = new Dictionary<string, Assembly>();
        var queue = new Queue<Assembly>([typeof(KernelCoverageTests).Assembly]);
        while (queue.Count > 0)
            foreach (var name in queue.Dequeue().GetReferencedAssemblies())
                if ((name.Name!.StartsWith("NativeGan.", StringComparison.Ordinal) || name.Name == "nativegan") && !found.ContainsKey(name.Name))
                    queue.Enqueue(found[name.Name] = Assembly.Load(name));
        return found.Values.ToList();
    }

    /// <summary>
    /// A KernelSpec can only come from KernelSpec.Implicit / Explicit, its constructor or a <c>with</c>
    /// copy. If every such call in the engine is the initialiser of a static KernelSpec field in
    /// NativeGan.Kernels (where <see cref="KernelRegistry"/> looks), every KernelSpec that exists is
    /// registered; and if only <see cref="GpuDevice.Kernel{TLauncher}(KernelSpec)"/> loads kernels into an
    /// accelerator, every kernel the engine launches is registered, whatever the tests run and in what
    /// order. This reads the IL of every method of the engine to check both.
    /// </summary>
    [Fact]
    public void TheRegistryListsEveryKernelTheEngineCanLoad()
    {
        var registered = KernelRegistry.All.ToHashSet(ReferenceEqualityComparer.Instance);
        var kernelsAssembly = typeof(KernelSpec).Assembly;
        var gpuKernel = typeof(GpuDevice).GetMethod(nameof(GpuDevice.Kernel))!;
        var problems = new List<string>();
        int specsCreated = 0;
        foreach (var assembly in EngineAssemblies())
            foreach (var method in IlReader.MethodsOf(assembly))
            {
                var where = $"{method.DeclaringType!.FullName}.{method.Name}";
                if (method.DeclaringType == typeof(KernelSpec)) continue; // its own factories
                var code = IlReader.Read(method);
                for (int i = 0; i < code.Count; i++)
                {
                    if (code[i].Operand is not MethodBase callee) continue;
                    if (callee.DeclaringType == typeof(KernelSpec) && (callee.IsConstructor || callee.Name is "Implicit" or "Explicit" or "<Clone>$"))
                    {
                        specsCreated++;
                        var next = i + 1 < code.Count ? code[i + 1] : default;
                        if (method.DeclaringType.Assembly != kernelsAssembly || method.Name != ConstructorInfo.TypeConstructorName
                            || next.OpCode != OpCodes.Stsfld || next.Operand is not FieldInfo field)
                            problems.Add($"{where} makes a KernelSpec that is not a static field's initialiser in NativeGan.Kernels, so the registry cannot see it");
                        else if (!registered.Contains(field.GetValue(null)))
                            problems.Add($"{where} stores a KernelSpec in {field.Name}, which the registry does not list");
                    }
                    else if (callee.Name.StartsWith("Load", StringComparison.Ordinal) && callee.Name.Contains("Kernel", StringComparison.Ordinal)
                             && callee.DeclaringType?.Namespace?.StartsWith("ILGPU", StringComparison.Ordinal) == true
                             && !IsInside(method, gpuKernel))
                        problems.Add($"{where} loads a kernel with {callee.DeclaringType.Name}.{callee.Name}, bypassing GpuDevice.Kernel and the registry");
                    else if (callee.DeclaringType?.Namespace?.StartsWith("ILGPU.Algorithms", StringComparison.Ordinal) == true
                             && callee.GetParameters() is [var first, ..] && typeof(ILGPU.Runtime.Accelerator).IsAssignableFrom(first.ParameterType))
                        problems.Add($"{where} calls {callee.DeclaringType.Name}.{callee.Name}, which compiles an ILGPU.Algorithms kernel the registry does not list");
                }
            }
        Assert.True(problems.Count == 0, string.Join("; ", problems));
        Assert.Equal(registered.Count, specsCreated); // every registered spec was found being made
    }

    /// <summary>True for the method itself and the lambdas the compiler moved out of it (<c>&lt;Kernel&gt;b__0</c>).</summary>
    static bool IsInside(MethodBase method, MethodInfo outer)
        => method == outer || (method.DeclaringType!.DeclaringType == outer.DeclaringType || method.DeclaringType == outer.DeclaringType)
                              && method.Name.StartsWith($"<{outer.Name}>", StringComparison.Ordinal);

    [Fact]
    public void LoadedKernelsAreRegistered()
    {
        // The same fact at run time, on a device of this test's own: what it compiled is in the registry.
        using var device = GpuDevice.Open(DeviceKind.IlgpuCpu);
        using var a = Tensor.FromArray([1f, 2f, 3f, 4f], [2, 2], device);
        using var c = Gemm.MatMul(a, a);
        Elementwise.UnaryInto(UnaryOp.Relu, c, c);
        var loaded = device.LoadedKernels.ToList();
        Assert.Contains(Gemm.V1NaiveSpec, loaded);
        Assert.All(loaded, k => Assert.Contains(k, KernelRegistry.All));
        // And on the shared ilgpu-cpu device, whatever the other tests have run on it so far.
        if (Device.Get("ilgpu-cpu") is GpuDevice shared)
            Assert.All(shared.LoadedKernels, k => Assert.Contains(k, KernelRegistry.All));
    }
}

/// <summary>Just enough of an IL reader to list the calls, field stores and strings of a method body.</summary>
static class IlReader
{
    public readonly record struct Instruction(OpCode OpCode, object? Operand);

    static readonly Dictionary<short, OpCode> opCodes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    const BindingFlags Everything = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    /// <summary>Every method and constructor with a body, compiler-generated ones (lambdas, iterators) included.</summary>
    public static IEnumerable<MethodBase> MethodsOf(Assembly assembly)
        => assembly.GetTypes().SelectMany(t => t.GetMethods(Everything).Cast<MethodBase>().Concat(t.GetConstructors(Everything)))
            .Where(m => m.GetMethodBody() != null);

    public static List<Instruction> Read(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        var module = method.Module;
        var typeArgs = method.DeclaringType is { IsGenericType: true } dt ? dt.GetGenericArguments() : null;
        var methodArgs = method is MethodInfo { IsGenericMethod: true } ? method.GetGenericArguments() : null;
        var list = new List<Instruction>();
        for (int pc = 0; pc < il.Length;)
        {
            short value = il[pc++];
            if (value == 0xFE) value = unchecked((short)(0xFE00 | il[pc++]));
            var op = opCodes[value];
            object? operand = null;
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, pc),
                _ => 4,
            };
            if (size == 4)
            {
                int token = BitConverter.ToInt32(il, pc);
                operand = op.OperandType switch
                {
                    OperandType.InlineMethod => Try(() => module.ResolveMethod(token, typeArgs, methodArgs)),
                    OperandType.InlineField => Try(() => module.ResolveField(token, typeArgs, methodArgs)),
                    OperandType.InlineString => Try(() => module.ResolveString(token)),
                    _ => null,
                };
            }
            pc += size;
            list.Add(new Instruction(op, operand));
        }
        return list;
    }

    public static HashSet<string> StringsLoadedBy(MethodBase method)
        => Read(method).Where(i => i.OpCode == OpCodes.Ldstr).Select(i => (string)i.Operand!).ToHashSet();

    /// <summary>A token that does not resolve (a member of an assembly that is not there) is left unread.</summary>
    static object? Try(Func<object?> resolve)
    {
        try { return resolve(); }
        catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or MissingMemberException or FileNotFoundException) { return null; }
    }
}
