using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>Unary elementwise ops. <c>p0</c>, <c>p1</c> are the op's scalar parameters where it has any.</summary>
public enum UnaryOp
{
    Neg, Exp, Log, Sqrt, Abs, Square,
    Relu,
    /// <summary>x &gt; 0 ? x : p0 * x (p0 = negative slope).</summary>
    LeakyRelu,
    Tanh, Sigmoid,
    /// <summary>log(1 + e^x), computed without overflow.</summary>
    Softplus,
    /// <summary>x ^ p0.</summary>
    Pow,
    /// <summary>min(max(x, p0), p1).</summary>
    Clamp,
    /// <summary>p0 * x + p1 (scale and shift by scalars).</summary>
    Affine,
    /// <summary>x &gt; 0 ? 1 : p0: the derivative of relu (p0 = 0) and of leaky relu (p0 = slope); x = 0 takes p0.</summary>
    Step,
    /// <summary>-1, 0 or 1: the sign of x (the derivative of abs, 0 at 0).</summary>
    Sign,
}

/// <summary>Binary elementwise ops with numpy broadcasting.</summary>
public enum BinaryOp { Add, Sub, Mul, Div, Pow, Max, Min }

/// <summary>
/// Elementwise ops, in the order every op file follows: the scalar math (one function serves the
/// cpu device and the GPU kernels), the float64 reference, the cpu kernels, the GPU kernels and
/// their launchers. Memory-bound: one read per input, one write per output.
/// </summary>
public static class Elementwise
{
    // ================================================================ scalar math

    /// <summary>The float32 math of a unary op, used by the cpu scalar path and inside the GPU kernels.</summary>
    public static float Apply(UnaryOp op, float x, float p0, float p1) => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Exp => MathF.Exp(x),
        UnaryOp.Log => MathF.Log(x),
        UnaryOp.Sqrt => MathF.Sqrt(x),
        UnaryOp.Abs => MathF.Abs(x),
        UnaryOp.Square => x * x,
        UnaryOp.Relu => x > 0f ? x : 0f,
        UnaryOp.LeakyRelu => x > 0f ? x : p0 * x,
        UnaryOp.Tanh => MathF.Tanh(x),
        UnaryOp.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        // max(x, 0) + log(1 + e^-|x|): never overflows, exact for large |x|.
        UnaryOp.Softplus => MathF.Max(x, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x))),
        UnaryOp.Pow => MathF.Pow(x, p0),
        UnaryOp.Clamp => MathF.Min(MathF.Max(x, p0), p1),
        UnaryOp.Step => x > 0f ? 1f : p0,
        UnaryOp.Sign => x > 0f ? 1f : x < 0f ? -1f : 0f,
        _ => p0 * x + p1, // Affine
    };

    /// <summary>The float32 math of a binary op.</summary>
    public static float Apply(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => MathF.Pow(a, b),
        BinaryOp.Max => MathF.Max(a, b),
        _ => MathF.Min(a, b),
    };

    // ================================================================ float64 reference

    /// <summary>The same ops in float64, written plainly: what tests and gradient checks compare against.</summary>
    public static class Reference
    {
        public static double Unary(UnaryOp op, double x, double p0 = 0, double p1 = 0) => op switch
        {
            UnaryOp.Neg => -x,
            UnaryOp.Exp => Math.Exp(x),
            UnaryOp.Log => Math.Log(x),
            UnaryOp.Sqrt => Math.Sqrt(x),
            UnaryOp.Abs => Math.Abs(x),
            UnaryOp.Square => x * x,
            UnaryOp.Relu => Math.Max(x, 0),
            UnaryOp.LeakyRelu => x > 0 ? x : p0 * x,
            UnaryOp.Tanh => Math.Tanh(x),
            UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-x)),
            UnaryOp.Softplus => Math.Log(1 + Math.Exp(x)),
            UnaryOp.Pow => Math.Pow(x, p0),
            UnaryOp.Clamp => Math.Min(Math.Max(x, p0), p1),
            UnaryOp.Step => x > 0 ? 1 : p0,
            UnaryOp.Sign => Math.Sign(x),
            _ => p0 * x + p1,
        };

        public static double Binary(BinaryOp op, double a, double b) => op switch
        {
            BinaryOp.Add => a + b,
            BinaryOp.Sub => a - b,
            BinaryOp.Mul => a * b,
            BinaryOp.Div => a / b,
            BinaryOp.Pow => Math.Pow(a, b),
            BinaryOp.Max => Math.Max(a, b),
            _ => Math.Min(a, b),
        };

        /// <summary>Broadcast binary op over row-major arrays: the textbook index arithmetic.</summary>
        public static double[] Binary(BinaryOp op, double[] a, int[] aShape, double[] b, int[] bShape, out int[] shape)
        {
            shape = Shapes.Broadcast("Reference.Binary", aShape, bShape);
            var y = new double[Shapes.Numel(shape)];
            var index = new int[shape.Length];
            for (int i = 0; i < y.Length; i++)
            {
                for (int r = shape.Length - 1, rest = i; r >= 0; r--) { index[r] = rest % shape[r]; rest /= shape[r]; }
                y[i] = Binary(op, a[Flat(index, aShape)], b[Flat(index, bShape)]);
            }
            return y;
        }

        static int Flat(int[] index, int[] shape)
        {
            int flat = 0, skip = index.Length - shape.Length;
            for (int r = 0; r < shape.Length; r++) flat = flat * shape[r] + (shape[r] == 1 ? 0 : index[skip + r]);
            return flat;
        }
    }

    // ================================================================ entry points

    public static Tensor Unary(UnaryOp op, Tensor x, float p0 = 0, float p1 = 0)
    {
        var y = Tensor.EmptyLike(x);
        UnaryInto(op, x, y, p0, p1);
        return y;
    }

    /// <summary>y = op(x); y may be x (in place).</summary>
    public static void UnaryInto(UnaryOp op, Tensor x, Tensor y, float p0 = 0, float p1 = 0)
    {
        Check.SameDevice($"{op}", x, y);
        Check.SameShape($"{op}", x, y);
        if (x.Length == 0) return;
        switch (x.Device)
        {
            case CpuDevice cpu: UnaryCpu(cpu, op, x, y, p0, p1); break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, float, float>>(UnarySpec)
                    (gpu.Stream, x.Length, x.View, y.View, (int)op, p0, p1);
                break;
        }
    }

    public static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        Check.SameDevice($"{op}", a, b);
        var y = Tensor.Empty(a.Device, Shapes.Broadcast($"{op}", a.Shape, b.Shape));
        BinaryInto(op, a, b, y);
        return y;
    }

    /// <summary>y = a op b with numpy broadcasting; y must have the broadcast shape.</summary>
    public static void BinaryInto(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        Check.SameDevice($"{op}", a, b, y);
        var shape = Shapes.Broadcast($"{op}", a.Shape, b.Shape);
        Check.Shape($"{op}", "the output", y, shape);
        if (y.Length == 0) return;
        // [N, C, 1, 1] + [1, C, 1, 1] is walked as [N, C] + [1, C]: rows of C, not N * C rows of one element.
        var (aShape, bShape, yShape) = BroadcastIndex.Coalesce(a.Shape, b.Shape, shape);
        bool same = Shapes.Equal(aShape, bShape);
        switch (y.Device)
        {
            case CpuDevice cpu:
                if (same) BinarySameShapeCpu(cpu, op, a, b, y);
                else BinaryBroadcastCpu(cpu, op, a, aShape, b, bShape, y, yShape);
                break;
            case GpuDevice gpu when same:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>>(BinarySpec)
                    (gpu.Stream, y.Length, a.View, b.View, y.View, (int)op);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, BroadcastIndex>>(BinaryBroadcastSpec)
                    (gpu.Stream, y.Length, a.View, b.View, y.View, (int)op, BroadcastIndex.Create(aShape, bShape, yShape));
                break;
        }
    }

    /// <summary>y = alpha * x + beta * y, in place (the fused scale-and-add, axpby).</summary>
    public static void ScaleAdd(Tensor y, float beta, Tensor x, float alpha)
    {
        Check.SameDevice("ScaleAdd", x, y);
        Check.SameShape("ScaleAdd", x, y);
        if (y.Length == 0) return;
        switch (y.Device)
        {
            case CpuDevice cpu:
                var (xa, xo) = x.CpuBuffer;
                var (ya, yo) = y.CpuBuffer;
                CpuParallel.For(cpu, y.Length, (start, count) =>
                {
                    var ys = ya.AsSpan(yo + start, count);
                    ScaleAddCpu(xa.AsSpan(xo + start, count), alpha, ys, beta);
                });
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, float, ArrayView<float>, float>>(ScaleAddSpec)
                    (gpu.Stream, y.Length, y.View, beta, x.View, alpha);
                break;
        }
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public static void Fill(Tensor t, float value)
    {
        if (t.Length == 0) return;
        switch (t.Device)
        {
            case CpuDevice: t.AsSpan().Fill(value); break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, float>>(FillSpec)(gpu.Stream, t.Length, t.View, value);
                break;
        }
    }

    // Named shorthands, as people expect to write them.
    public static Tensor Add(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);
    public static Tensor Sub(Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);
    public static Tensor Mul(Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);
    public static Tensor Div(Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);

    // ================================================================ cpu kernels

    static void UnaryCpu(CpuDevice cpu, UnaryOp op, Tensor x, Tensor y, float p0, float p1)
    {
        var (xa, xo) = x.CpuBuffer;
        var (ya, yo) = y.CpuBuffer;
        CpuParallel.For(cpu, x.Length, (start, count) =>
        {
            ReadOnlySpan<float> xs = xa.AsSpan(xo + start, count);
            var ys = ya.AsSpan(yo + start, count);
            switch (op)
            {
                // The vectorised library routines where they exist; the shared scalar math elsewhere.
                case UnaryOp.Neg: TensorPrimitives.Negate(xs, ys); break;
                case UnaryOp.Exp: TensorPrimitives.Exp(xs, ys); break;
                case UnaryOp.Log: TensorPrimitives.Log(xs, ys); break;
                case UnaryOp.Sqrt: TensorPrimitives.Sqrt(xs, ys); break;
                case UnaryOp.Abs: TensorPrimitives.Abs(xs, ys); break;
                case UnaryOp.Square: TensorPrimitives.Multiply(xs, xs, ys); break;
                case UnaryOp.Relu: TensorPrimitives.Max(xs, 0f, ys); break;
                case UnaryOp.Tanh: TensorPrimitives.Tanh(xs, ys); break;
                case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(xs, ys); break;
                case UnaryOp.Affine: AffineCpu(xs, ys, p0, p1); break;
                case UnaryOp.LeakyRelu: SelectCpu(xs, ys, 1f, 0f, p0, 0f); break; // x > 0 ? x : p0 x
                case UnaryOp.Step: SelectCpu(xs, ys, 0f, 1f, 0f, p0); break;      // x > 0 ? 1 : p0
                case UnaryOp.Clamp: TensorPrimitives.Min(xs, p1, ys); TensorPrimitives.Max(ys, p0, ys); break;
                case UnaryOp.Sign: SignCpu(xs, ys); break;
                default:
                    for (int i = 0; i < xs.Length; i++) ys[i] = Apply(op, xs[i], p0, p1);
                    break;
            }
        });
    }

    // One pass each (the library has no single routine for these): memory-bound ops should read and
    // write every element once.

    /// <summary>y = sign x (1, -1, or 0 at 0), vectorised: (x &gt; 0) - (x &lt; 0) with the comparison masks as 1s.</summary>
    static void SignCpu(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1f);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                var positive = Vector256.GreaterThan(v, Vector256<float>.Zero) & one;
                var negative = Vector256.LessThan(v, Vector256<float>.Zero) & one;
                (positive - negative).CopyTo(y.Slice(i));
            }
        }
        for (; i < x.Length; i++) y[i] = Apply(UnaryOp.Sign, x[i], 0f, 0f);
    }

    /// <summary>y = x &gt; 0 ? (posScale x + posShift) : (negScale x + negShift), vectorised.</summary>
    static void SelectCpu(ReadOnlySpan<float> x, Span<float> y, float posScale, float posShift, float negScale, float negShift)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> ps = Vector256.Create(posScale), pb = Vector256.Create(posShift);
            Vector256<float> ns = Vector256.Create(negScale), nb = Vector256.Create(negShift);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v * ps + pb, v * ns + nb).CopyTo(y.Slice(i));
            }
        }
        for (; i < x.Length; i++) y[i] = x[i] > 0f ? posScale * x[i] + posShift : negScale * x[i] + negShift;
    }

    /// <summary>y = scale x + shift, vectorised.</summary>
    static void AffineCpu(ReadOnlySpan<float> x, Span<float> y, float scale, float shift)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a = Vector256.Create(scale), b = Vector256.Create(shift);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                (Vector256.Create(x.Slice(i, Vector256<float>.Count)) * a + b).CopyTo(y.Slice(i));
        }
        for (; i < x.Length; i++) y[i] = scale * x[i] + shift;
    }

    /// <summary>y = alpha x + beta y, vectorised.</summary>
    static void ScaleAddCpu(ReadOnlySpan<float> x, float alpha, Span<float> y, float beta)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a = Vector256.Create(alpha), b = Vector256.Create(beta);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                (Vector256.Create(x.Slice(i, Vector256<float>.Count)) * a + Vector256.Create((ReadOnlySpan<float>)y.Slice(i, Vector256<float>.Count)) * b).CopyTo(y.Slice(i));
        }
        for (; i < x.Length; i++) y[i] = alpha * x[i] + beta * y[i];
    }

    static void BinarySameShapeCpu(CpuDevice cpu, BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        var (aa, ao) = a.CpuBuffer;
        var (ba, bo) = b.CpuBuffer;
        var (ya, yo) = y.CpuBuffer;
        CpuParallel.For(cpu, y.Length, (start, count) =>
            BinarySpan(op, aa.AsSpan(ao + start, count), 1, ba.AsSpan(bo + start, count), 1, ya.AsSpan(yo + start, count)));
    }

    /// <summary>
    /// Broadcasting on the cpu: the output is walked row by row (a row is the last axis); each row is one
    /// vectorised call, with an input of stride 0 along the row read as a scalar.
    /// </summary>
    static void BinaryBroadcastCpu(CpuDevice cpu, BinaryOp op, Tensor a, int[] aShape, Tensor b, int[] bShape, Tensor y, int[] yShape)
    {
        var ix = BroadcastIndex.Create(aShape, bShape, yShape);
        int rowLength = yShape.Length == 0 ? 1 : yShape[^1], rows = y.Length / rowLength;
        var (aa, ao) = a.CpuBuffer;
        var (ba, bo) = b.CpuBuffer;
        var (ya, yo) = y.CpuBuffer;
        int aStep = ix.AStride(BroadcastIndex.MaxRank - 1), bStep = ix.BStride(BroadcastIndex.MaxRank - 1);
        CpuParallel.For(cpu, rows, (start, count) =>
        {
            for (int r = start; r < start + count; r++)
            {
                var (aStart, bStart) = ix.Offsets(r * rowLength);
                BinarySpan(op,
                    aa.AsSpan(ao + aStart, aStep == 0 ? 1 : rowLength), aStep,
                    ba.AsSpan(bo + bStart, bStep == 0 ? 1 : rowLength), bStep,
                    ya.AsSpan(yo + r * rowLength, rowLength));
            }
        }, grain: Math.Max(1, 16384 / rowLength));
    }

    static void BinarySpan(BinaryOp op, ReadOnlySpan<float> a, int aStep, ReadOnlySpan<float> b, int bStep, Span<float> y)
    {
        if (aStep == 1 && bStep == 1)
        {
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(a, b, y); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); return;
                case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); return;
                case BinaryOp.Max: TensorPrimitives.Max(a, b, y); return;
                case BinaryOp.Min: TensorPrimitives.Min(a, b, y); return;
            }
        }
        else if (aStep == 1 && bStep == 0)
        {
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(a, b[0], y); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a, b[0], y); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(a, b[0], y); return;
                case BinaryOp.Div: TensorPrimitives.Divide(a, b[0], y); return;
            }
        }
        else if (aStep == 0 && bStep == 1)
        {
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(b, a[0], y); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(b, a[0], y); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(a[0], b, y); return;
                case BinaryOp.Div: TensorPrimitives.Divide(a[0], b, y); return;
            }
        }
        for (int i = 0; i < y.Length; i++) y[i] = Apply(op, a[i * aStep], b[i * bStep]);
    }

    // ================================================================ GPU kernels

    internal static readonly KernelSpec UnarySpec = KernelSpec.Implicit("Elementwise.Unary", typeof(Elementwise), nameof(UnaryKernel), hot: true, minOccupancy: 0.5);
    internal static readonly KernelSpec BinarySpec = KernelSpec.Implicit("Elementwise.Binary", typeof(Elementwise), nameof(BinaryKernel), hot: true, minOccupancy: 0.5);
    internal static readonly KernelSpec BinaryBroadcastSpec = KernelSpec.Implicit("Elementwise.BinaryBroadcast", typeof(Elementwise), nameof(BinaryBroadcastKernel), hot: true, minOccupancy: 0.5);
    internal static readonly KernelSpec ScaleAddSpec = KernelSpec.Implicit("Elementwise.ScaleAdd", typeof(Elementwise), nameof(ScaleAddKernel), hot: true, minOccupancy: 0.5);
    internal static readonly KernelSpec FillSpec = KernelSpec.Implicit("Elementwise.Fill", typeof(Elementwise), nameof(FillKernel), hot: true, minOccupancy: 0.5);

    // The op code is uniform across a warp, so the switch inside Apply costs no divergence.
    static void UnaryKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int op, float p0, float p1)
        => y[i] = Apply((UnaryOp)op, x[i], p0, p1);

    static void BinaryKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int op)
        => y[i] = Apply((BinaryOp)op, a[i], b[i]);

    static void BinaryBroadcastKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int op, BroadcastIndex ix)
    {
        var (ai, bi) = ix.Offsets(i);
        y[i] = Apply((BinaryOp)op, a[ai], b[bi]);
    }

    static void ScaleAddKernel(Index1D i, ArrayView<float> y, float beta, ArrayView<float> x, float alpha)
        => y[i] = alpha * x[i] + beta * y[i];

    static void FillKernel(Index1D i, ArrayView<float> y, float value) => y[i] = value;
}

/// <summary>
/// Maps a flat output index to the flat indices of two broadcast inputs. Shapes are right-aligned
/// and padded to <see cref="MaxRank"/> axes; a broadcast axis has stride 0. A plain struct of ints
/// so it travels to a GPU kernel as a parameter.
/// </summary>
public struct BroadcastIndex
{
    public const int MaxRank = 6;
    int d1, d2, d3, d4, d5;           // output sizes (axis 0 needs none)
    int a0, a1, a2, a3, a4, a5;       // a's strides (0 where broadcast)
    int b0, b1, b2, b3, b4, b5;       // b's strides

    public static BroadcastIndex Create(int[] aShape, int[] bShape, int[] outShape)
    {
        if (outShape.Length > MaxRank)
            throw new TensorShapeException($"broadcast: at most {MaxRank} axes, got {Shapes.Format(outShape)}");
        Span<int> d = stackalloc int[MaxRank], sa = stackalloc int[MaxRank], sb = stackalloc int[MaxRank];
        Strides(outShape, outShape, d, sizes: true);
        Strides(aShape, outShape, sa, sizes: false);
        Strides(bShape, outShape, sb, sizes: false);
        return new BroadcastIndex
        {
            d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4], d5 = d[5],
            a0 = sa[0], a1 = sa[1], a2 = sa[2], a3 = sa[3], a4 = sa[4], a5 = sa[5],
            b0 = sb[0], b1 = sb[1], b2 = sb[2], b3 = sb[3], b4 = sb[4], b5 = sb[5],
        };
    }

    /// <summary>
    /// The same broadcast over fewer axes: axes of output size 1 are dropped, and neighbouring axes are merged
    /// where each input is either whole along both or broadcast along both (contiguous storage makes the
    /// merged axis one stride). E.g. [8, 400, 1, 1] with [1, 400, 1, 1] becomes [8, 400] with [1, 400].
    /// </summary>
    public static (int[] A, int[] B, int[] Out) Coalesce(int[] aShape, int[] bShape, int[] outShape)
    {
        var a = new List<int>(outShape.Length);
        var b = new List<int>(outShape.Length);
        var o = new List<int>(outShape.Length);
        int pa = outShape.Length - aShape.Length, pb = outShape.Length - bShape.Length;
        for (int r = 0; r < outShape.Length; r++)
        {
            int size = outShape[r];
            if (size == 1) continue;
            int sa = r < pa ? 1 : aShape[r - pa], sb = r < pb ? 1 : bShape[r - pb];
            if (o.Count > 0 && (a[^1] == 1) == (sa == 1) && (b[^1] == 1) == (sb == 1))
            {
                o[^1] *= size;
                a[^1] *= sa;
                b[^1] *= sb;
                continue;
            }
            o.Add(size); a.Add(sa); b.Add(sb);
        }
        return ([.. a], [.. b], [.. o]);
    }

    static void Strides(int[] shape, int[] outShape, Span<int> result, bool sizes)
    {
        int pad = MaxRank - shape.Length, stride = 1;
        for (int r = MaxRank - 1; r >= 0; r--)
        {
            int size = r < pad ? 1 : shape[r - pad];
            if (sizes) { result[r] = r < MaxRank - outShape.Length ? 1 : size; continue; }
            result[r] = size == 1 ? 0 : stride;
            stride *= size;
        }
    }

    public readonly int AStride(int axis) => axis switch { 0 => a0, 1 => a1, 2 => a2, 3 => a3, 4 => a4, _ => a5 };

    public readonly int BStride(int axis) => axis switch { 0 => b0, 1 => b1, 2 => b2, 3 => b3, 4 => b4, _ => b5 };

    /// <summary>The flat indices into a and b of output element <paramref name="flat"/>.</summary>
    public readonly (int A, int B) Offsets(int flat)
    {
        int ai = 0, bi = 0, c;
        c = flat % d5; flat /= d5; ai += c * a5; bi += c * b5;
        c = flat % d4; flat /= d4; ai += c * a4; bi += c * b4;
        c = flat % d3; flat /= d3; ai += c * a3; bi += c * b3;
        c = flat % d2; flat /= d2; ai += c * a2; bi += c * b2;
        c = flat % d1; flat /= d1; ai += c * a1; bi += c * b1;
        ai += flat * a0; bi += flat * b0;
        return (ai, bi);
    }
}

/// <summary>Splits a range into chunks for the device's threads: small ranges run inline, large ones on every thread.</summary>
public static class CpuParallel
{
    /// <summary>Calls <paramref name="body"/>(start, count) over [0, length) in chunks of at least <paramref name="grain"/>.</summary>
    public static void For(CpuDevice cpu, int length, Action<int, int> body, int grain = 32768)
    {
        int chunks = Math.Min(cpu.Threads * 4, Math.Max(1, length / Math.Max(1, grain)));
        if (chunks <= 1) { body(0, length); return; }
        cpu.For(chunks, c =>
        {
            long start = (long)length * c / chunks, end = (long)length * (c + 1) / chunks;
            body((int)start, (int)(end - start));
        });
    }
}
