using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class GemmNaiveTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Gemm.V1Naive")]
    public void MatMulMatchesFloat64WithTransposes(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(5);
        int m = 7, n = 13, k = 9;
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var a = Random(rng, m * k);
            var b = Random(rng, k * n);
            using var at = Tensor.FromArray(a, ta ? [k, m] : [m, k], d);
            using var bt = Tensor.FromArray(b, tb ? [n, k] : [k, n], d);
            using var c = Poisoned(d, m, n);
            Gemm.Into(at, ta, bt, tb, c);
            AssertClose(Gemm.Reference.MatMul(ToDouble(a), ta, ToDouble(b), tb, m, n, k), c.ToArray(), what: $"transA={ta} transB={tb}");
        }
    }
}
