using NativeGan;

namespace NativeGan.Tests.AutogradTests;

/// <summary>The tape's rules: leaves, accumulation, retained and freed graphs, no-grad, detach, bad input.</summary>
public class TapeTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static Tensor Leaf(Device d, float[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, shape, d);
        t.RequiresGrad = true;
        return t;
    }

    [Theory, MemberData(nameof(Devices))]
    public void BackwardFillsLeafGradsAndMarksLeaves(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var x = Leaf(d, [1, 2, 3], 3);
        using var w = Leaf(d, [0.5f, -1, 2], 3);
        using var scope = new TensorScope();
        var y = x.Mul(w).Sum(); // y = sum x w
        Assert.True(x.IsLeaf);
        Assert.False(y.IsLeaf);
        Assert.True(y.RequiresGrad);
        Assert.Equal("Sum", y.GradFn!.Name);
        y.Backward();
        Assert.Equal([0.5f, -1, 2], x.Grad!.ToArray());
        Assert.Equal([1f, 2, 3], w.Grad!.ToArray());
        x.ZeroGrad();
        w.ZeroGrad();
    }

    [Theory, MemberData(nameof(Devices))]
    public void GradientsAccumulateAcrossBackwardCallsUntilZeroed(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var x = Leaf(d, [1, -2], 2);
        using var scope = new TensorScope();
        x.Square().Sum().Backward();        // 2x
        x.Mul(3f).Sum().Backward();         // + 3
        Assert.Equal([5f, -1], x.Grad!.ToArray());
        x.ZeroGrad();
        Assert.Null(x.Grad);
        x.Mul(3f).Sum().Backward();
        Assert.Equal([3f, 3], x.Grad!.ToArray());
        x.ZeroGrad();
    }

    [Theory, MemberData(nameof(Devices))]
    public void LeafGradIsItsOwnMemory(string deviceName)
    {
        // Add hands one gradient to both inputs; each leaf must still own its .Grad (an optimizer may update it in place).
        var d = TestDevices.Get(deviceName);
        using var a = Leaf(d, [1, 2], 2);
        using var b = Leaf(d, [3, 4], 2);
        using (new TensorScope()) a.Add(b).Sum().Backward();
        Elementwise.Fill(a.Grad!, 7f);
        Assert.Equal([1f, 1], b.Grad!.ToArray());
        a.ZeroGrad();
        b.ZeroGrad();
    }

    [Fact]
    public void RawReshapeRefusesGraphTensorsAndOpsReshapeCarriesTheGradient()
    {
        using var x = Leaf(Device.Cpu, [1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var e = Assert.Throws<InvalidOperationException>(() => x.Reshape(3, 2));
        Assert.Contains("Ops.Reshape", e.Message);
        using var y = Ops.Reshape(x, 3, 2).Square().Sum();
        y.Backward();
        Assert.Equal([2f, 4f, 6f, 8f, 10f, 12f], x.Grad!.ToArray());
        using var constant = x.Detach().Reshape(6); // a detached handle is a plain tensor
        Assert.Equal([6], constant.Shape);
    }

    [Fact]
    public void SecondBackwardOverAFreedGraphNamesTheOp()
    {
        using var x = Leaf(Device.Cpu, [1, 2], 2);
        using var scope = new TensorScope();
        var y = x.Tanh().Sum();
        y.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("Sum", e.Message);
        Assert.Contains("freed", e.Message);
        Assert.Contains("retainGraph", e.Message);
        x.ZeroGrad();
    }

    [Fact]
    public void RetainedGraphRunsBackwardTwice()
    {
        using var x = Leaf(Device.Cpu, [0.5f, -1], 2);
        using var scope = new TensorScope();
        var y = x.Tanh().Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        var expected = new[] { 0.5, -1 }.Select(v => 2 * (1 - Math.Tanh(v) * Math.Tanh(v))).ToArray();
        Numerics.AssertClose(expected, x.Grad!.ToArray());
        x.ZeroGrad();
    }

    [Fact]
    public void NoGradRecordsNothingAndDetachLeavesTheGraph()
    {
        using var x = Leaf(Device.Cpu, [1, 2], 2);
        using var scope = new TensorScope();
        Tensor y;
        using (Autograd.NoGrad()) y = x.Mul(x);
        Assert.False(y.RequiresGrad);
        Assert.True(Autograd.IsGradEnabled);
        var z = x.Mul(x);
        using var detached = z.Detach();
        Assert.False(detached.RequiresGrad);
        Assert.True(detached.IsLeaf);
        Assert.Equal(z.ToArray(), detached.ToArray());
        // the detached copy is a constant: only the direct path contributes
        x.Mul(detached).Sum().Backward();
        Assert.Equal([1f, 4], x.Grad!.ToArray());
        x.ZeroGrad();
    }

    [Fact]
    public void GradLeavesDotGradAlone()
    {
        using var x = Leaf(Device.Cpu, [3], 1);
        using var scope = new TensorScope();
        var g = Autograd.Grad([x.Square()], [x]);
        Assert.Equal([6f], g[0].ToArray());
        Assert.Null(x.Grad);
    }

    [Fact]
    public void GradWithRespectToANonLeaf()
    {
        using var x = Leaf(Device.Cpu, [0.5f], 1);
        using var scope = new TensorScope();
        var h = x.Mul(2f);
        var y = h.Square();
        var g = Autograd.Grad([y], [h, x]);
        Assert.Equal([2f], g[0].ToArray());   // 2h
        Assert.Equal([4f], g[1].ToArray());   // 2h * 2
    }

    [Fact]
    public void ThirdDerivativeOfACube()
    {
        using var x = Leaf(Device.Cpu, [1.5f], 1);
        using var scope = new TensorScope();
        var y = x.Pow(3f);                                                    // x³
        var d1 = Autograd.Grad([y], [x], createGraph: true)[0];              // 3x²
        var d2 = Autograd.Grad([d1], [x], createGraph: true)[0];             // 6x
        var d3 = Autograd.Grad([d2], [x])[0];                                // 6
        Assert.Equal(3 * 1.5f * 1.5f, d1.Item(), 5);
        Assert.Equal(6 * 1.5f, d2.Item(), 5);
        Assert.Equal(6f, d3.Item(), 5);
    }

    [Fact]
    public void BackwardWithCreateGraphLeavesADifferentiableGrad()
    {
        using var x = Leaf(Device.Cpu, [2], 1);
        using var scope = new TensorScope();
        x.Pow(3f).Sum().Backward(createGraph: true);     // x.Grad = 3x², recorded
        Assert.NotNull(x.Grad!.GradFn);
        var grad = x.Grad;
        var d2 = Autograd.Grad([grad.Sum()], [x])[0];   // 6x
        Assert.Equal(12f, d2.Item(), 5);
        x.ZeroGrad();
    }

    [Fact]
    public void PenaltyThroughANonLeafInputReachesWhatMadeIt()
    {
        // WGAN-GP's x̂ mixes real and generated samples, so it is a non-leaf whose gradient must flow on.
        using var x = Leaf(Device.Cpu, [0.5f], 1);
        using var scope = new TensorScope();
        var h = x.Mul(2f);                                              // h = 2x = 1
        var dh = Autograd.Grad([h.Pow(3f)], [h], createGraph: true)[0]; // 3h²
        dh.Sum().Backward();                                            // d(3h²)/dx = 6h * 2
        Assert.Equal(12f, x.Grad!.Item(), 5);
        x.ZeroGrad();
    }

    /// <summary>a * b recorded as an op whose rule notes which gradients the engine asked it for.</summary>
    static Tensor Probe(Tensor a, Tensor b, List<string> asked, string name)
    {
        Tensor product;
        using (Autograd.NoGrad()) product = a.Mul(b);
        return Autograd.Record(name, product, [a, b], (g, n) =>
        {
            asked.Add($"{name}:{(n.NeedsGrad(0) ? "a" : "")}{(n.NeedsGrad(1) ? "b" : "")}");
            return [n.NeedsGrad(0) ? g.Mul(n.Saved[1]) : null, n.NeedsGrad(1) ? g.Mul(n.Saved[0]) : null];
        }, save: [a, b]);
    }

    [Fact]
    public void GradAsksEachRuleOnlyForTheGradientsThatLeadToTheWantedInputs()
    {
        // y = sum(x w1 w2): the penalty's dD/dx needs no weight gradients, so Grad must not have the rules make them.
        using var x = Leaf(Device.Cpu, [0.5f, -2, 3], 3);
        using var w1 = Leaf(Device.Cpu, [1.5f, 0.25f, -1], 3);
        using var w2 = Leaf(Device.Cpu, [-0.75f, 2, 0.5f], 3);
        using var scope = new TensorScope();
        var asked = new List<string>();
        Tensor Y() => Probe(Probe(x, w1, asked, "first"), w2, asked, "second").Sum();

        var dx = Autograd.Grad([Y()], [x])[0];
        Assert.Equal(["second:a", "first:a"], asked);
        Assert.Equal([1.5f * -0.75f, 0.25f * 2, -1 * 0.5f], dx.ToArray());

        asked.Clear();
        var dw1 = Autograd.Grad([Y()], [w1])[0];
        Assert.Equal(["second:a", "first:b"], asked);
        Assert.Equal([0.5f * -0.75f, -2f * 2, 3 * 0.5f], dw1.ToArray());

        asked.Clear();
        var dw2 = Autograd.Grad([Y()], [w2], createGraph: true)[0];
        Assert.Equal(["second:b"], asked); // nothing behind w2: the first op's rule is not run at all
        Assert.Equal([0.5f * 1.5f, -2f * 0.25f, 3 * -1f], dw2.ToArray());

        asked.Clear();
        Y().Backward(); // every leaf wanted: every gradient asked for
        Assert.Equal(["second:ab", "first:ab"], asked);
        Assert.Equal(dx.ToArray(), x.Grad!.ToArray());
        Assert.Equal(dw1.ToArray(), w1.Grad!.ToArray());
        Assert.Equal(dw2.ToArray(), w2.Grad!.ToArray());
        foreach (var t in new[] { x, w1, w2 }) t.ZeroGrad();
    }

    [Fact]
    public void SeveralOutputsWithTheirOwnGradOutputs()
    {
        using var x = Leaf(Device.Cpu, [1, 2], 2);
        using var w1 = Tensor.FromArray([1, 1], [2]);
        using var w2 = Tensor.FromArray([10, 100], [2]);
        using var scope = new TensorScope();
        var g = Autograd.Grad([x.Square(), x.Mul(3f)], [x], [w1, w2])[0]; // 2x * w1 + 3 * w2
        Assert.Equal([32f, 304], g.ToArray());
    }

    [Fact]
    public void DeepChainsNeedNoRecursion()
    {
        using var x = Leaf(Device.Cpu, [1], 1);
        using var scope = new TensorScope();
        var y = x;
        for (int i = 0; i < 20_000; i++) y = y.Affine(1f, 0.001f);
        y.Backward();
        Assert.Equal([1f], x.Grad!.ToArray());
        x.ZeroGrad();
    }

    [Theory, MemberData(nameof(Devices))]
    public void FusedNormsWithoutAGraphMatchTheRecordedCompositions(string deviceName)
    {
        // Normalisations run a fused kernel when nothing is recorded and a composition of ops otherwise.
        var d = TestDevices.Get(deviceName);
        var rng = new Random(5);
        Tensor T(params int[] shape) => Tensor.FromArray(Numerics.Random(rng, Shapes.Numel(shape)), shape, d);
        using var x = T(2, 3, 3, 2);
        using var gamma = T(3);
        using var beta = T(3);
        using var lnGamma = T(3, 3, 2);
        using var lnBeta = T(3, 3, 2);
        using var scale = T(2, 3);
        using var bias = T(2, 3);
        Func<Tensor, Tensor>[] norms =
        [
            t => t.InstanceNorm2d(gamma, beta), t => t.LayerNorm(lnGamma, lnBeta),
            t => t.BatchNorm2d(gamma, beta), t => t.AdaIN(scale, bias),
        ];
        using var scope = new TensorScope();
        foreach (var norm in norms)
        {
            x.RequiresGrad = false;
            var fused = norm(x).ToArray();
            x.RequiresGrad = true;
            var composed = norm(x);
            Assert.NotNull(composed.GradFn);
            Numerics.AssertClose(Numerics.ToDouble(fused), composed.ToArray(), 1e-4, 1e-5, $"fused vs composed on {d.Name}");
        }
    }

    // ---------------------------------------------------------------- bad input

    [Fact]
    public void BackwardOnATensorThatNeedsNoGradientIsRefused()
    {
        using var x = Tensor.Ones(Device.Cpu, 2);
        using var scope = new TensorScope();
        var y = x.Mul(2f).Sum();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("does not require grad", e.Message);
    }

    [Fact]
    public void NonScalarNeedsAGradOutput()
    {
        using var x = Leaf(Device.Cpu, [1, 2, 3], 3);
        using var scope = new TensorScope();
        var y = x.Exp();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("Exp", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("gradOutput", e.Message);
    }

    [Fact]
    public void MismatchedGradOutputShapeNamesBothShapes()
    {
        using var x = Leaf(Device.Cpu, [1, 2, 3], 3);
        using var g = Tensor.Ones(Device.Cpu, 2);
        using var scope = new TensorScope();
        var y = x.Exp();
        var e = Assert.Throws<TensorShapeException>(() => y.Backward(g));
        Assert.Contains("Exp", e.Message);
        Assert.Contains("[2]", e.Message);
        Assert.Contains("[3]", e.Message);
    }

    [Fact]
    public void MixingDevicesIsRefusedNamingTheOp()
    {
        using var a = Leaf(Device.Cpu, [1, 2], 2);
        using var b = Leaf(Device.Get("ilgpu-cpu"), [1, 2], 2);
        var e = Assert.Throws<ArgumentException>(() => a.Mul(b));
        Assert.Contains("Mul", e.Message);
        Assert.Contains("different devices", e.Message);
        using var scope = new TensorScope();
        var y = a.Exp();
        using var g = Tensor.Ones(Device.Get("ilgpu-cpu"), 2);
        var e2 = Assert.Throws<ArgumentException>(() => y.Backward(g));
        Assert.Contains("Exp", e2.Message);
    }

    [Fact]
    public void UnusedInputIsAnErrorUnlessAllowed()
    {
        using var x = Leaf(Device.Cpu, [1], 1);
        using var unused = Leaf(Device.Cpu, [1], 1);
        using var scope = new TensorScope();
        var y = x.Square();
        var e = Assert.Throws<InvalidOperationException>(() => Autograd.Grad([y], [unused], retainGraph: true));
        Assert.Contains("not used", e.Message);
        var g = Autograd.Grad([y], [x, unused], allowUnused: true);
        Assert.Equal([0f], g[1].ToArray());
    }
}
