using NativeGan;
using NativeGan.Nn;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Nn;

/// <summary>Saving an optimizer's state and restoring it into a fresh optimizer continues the run exactly.</summary>
public class OptimStateTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static readonly (string Name, Func<Tensor[], Optimizer> Make, Func<Tensor[], Optimizer> MakeOther)[] Kinds =
    [
        ("Sgd", ps => new Sgd(ps, 0.05f, momentum: 0.9f, dampening: 0.1f, weightDecay: 0.01f), ps => new Sgd(ps, 1f)),
        ("RmsProp", ps => new RmsProp(ps, 0.01f, momentum: 0.5f, centered: true).ClipAfterStep(0.8f), ps => new RmsProp(ps)),
        ("Adam", ps => new Adam(ps, 0.01f, 0f, 0.9f, weightDecay: 0.1f), ps => new Adam(ps, 0.5f)),
        ("AdamW", ps => new AdamW(ps, 0.01f, 0.5f, 0.99f), ps => new AdamW(ps)),
    ];

    /// <summary>Sets a fixed pseudo-random gradient on each parameter (the same for the same step and seed).</summary>
    static void SetGrads(Tensor[] ps, int step, bool skipLast)
    {
        for (int i = 0; i < ps.Length; i++)
        {
            ps[i].Grad?.Dispose();
            ps[i].Grad = skipLast && i == ps.Length - 1 ? null
                : Tensor.FromArray(Random(new Random(1000 * step + i), ps[i].Length), ps[i].Shape, ps[i].Device);
        }
    }

    static Tensor[] MakeParameters(Device d)
    {
        var rng = new Random(3);
        int n = TestDevices.IsSlow(d) ? 19 : 1003;
        return [Tensor.FromArray(Random(rng, n), [n], d), Tensor.FromArray(Random(rng, 15), [3, 5], d), Tensor.FromArray(Random(rng, 4), [4], d)];
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.Sgd"), Trait("Kernel", "OptimizerUpdates.RmsProp"), Trait("Kernel", "OptimizerUpdates.Adam")]
    public void RestoredStateContinuesTheTrajectoryExactly(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        foreach (var (name, make, makeOther) in Kinds)
        {
            var a = MakeParameters(d);
            var optA = make(a);
            // Three steps; the last parameter gets no gradient on the first two (its state starts later).
            for (int t = 0; t < 3; t++) { SetGrads(a, t, skipLast: t < 2); optA.Step(); }

            var sd = optA.StateDict();
            Assert.Equal(name, sd.Scalars["kind"]);
            Assert.Equal("3", sd.Scalars["step_count"]);
            Assert.Equal("1", sd.Scalars["state.2.step"]);

            var b = a.Select(p => p.Clone()).ToArray();
            var optB = makeOther(b); // other hyperparameters: the state dict brings the saved ones
            optB.LoadStateDict(sd);
            Assert.Equal(3, optB.StepCount);
            Assert.Equal(optA.LearningRate, optB.LearningRate);
            Assert.Equal(optA.ClipValue, optB.ClipValue);

            for (int t = 3; t < 7; t++)
            {
                SetGrads(a, t, false); optA.Step();
                SetGrads(b, t, false); optB.Step();
            }
            for (int i = 0; i < a.Length; i++)
                Assert.True(a[i].ToArray().AsSpan().SequenceEqual(b[i].ToArray()), $"{name} on {d.Name}: parameter {i} differs after restoring");
            foreach (var p in a.Concat(b)) { p.Grad?.Dispose(); p.Dispose(); }
        }
    }

    [Fact]
    public void MismatchedStatesAreRefusedWithoutChangingAnything()
    {
        var d = Device.Cpu;
        var ps = MakeParameters(d);
        var adam = new Adam(ps, 0.01f, 0f, 0.9f);
        SetGrads(ps, 0, false);
        adam.Step();
        var sd = adam.StateDict();

        string Refused(Optimizer opt, OptimizerStateDict bad) => Assert.Throws<ArgumentException>(() => opt.LoadStateDict(bad)).Message;

        Assert.Contains("saved by a Adam optimizer", Refused(new Sgd(ps, 0.1f), sd));
        Assert.Contains("saved by a Adam optimizer", Refused(new AdamW(ps), sd));
        Assert.Contains("for 3 parameters, this optimizer has 2", Refused(new Adam(ps.Take(2)), sd));

        var fresh = new Adam(ps, 0.5f, 0.8f, 0.95f);
        var copy = Copy(sd);
        copy.Tensors.Remove("state.1.exp_avg_sq");
        Assert.Contains("missing tensor 'state.1.exp_avg_sq'", Refused(fresh, copy));

        copy = Copy(sd);
        copy.Tensors["state.1.momentum_buffer"] = copy.Tensors["state.1.exp_avg"];
        Assert.Contains("unexpected tensor 'state.1.momentum_buffer'", Refused(fresh, copy));

        copy = Copy(sd);
        using var wrong = Tensor.Zeros(d, 5, 3);
        copy.Tensors["state.1.exp_avg"] = wrong;
        Assert.Contains("'state.1.exp_avg' has shape [5, 3], parameter 1 has shape [3, 5]", Refused(fresh, copy));

        copy = Copy(sd);
        copy.Scalars["beta2"] = "zero point nine";
        Assert.Contains("not a number", Refused(fresh, copy));

        copy = Copy(sd);
        copy.Scalars["beta1"] = "1";
        Assert.Contains("the saved settings are invalid: Adam: beta1 must be in [0, 1), got 1", Refused(fresh, copy));

        copy = Copy(sd);
        copy.Scalars.Remove("beta1");
        Assert.Contains("no 'beta1' entry", Refused(fresh, copy));

        // Nothing of the refused states stuck.
        Assert.Equal((0.5f, 0.8f, 0.95f, 0L), (fresh.LearningRate, fresh.Beta1, fresh.Beta2, fresh.StepCount));
        Assert.Null(fresh.State(0));
    }

    static OptimizerStateDict Copy(OptimizerStateDict sd)
    {
        var c = new OptimizerStateDict();
        foreach (var (k, v) in sd.Tensors) c.Tensors[k] = v;
        foreach (var (k, v) in sd.Scalars) c.Scalars[k] = v;
        return c;
    }
}
