namespace NativeGan;

/// <summary>
/// The differentiable ops. Each op is one function: the forward calls a raw kernel of src/Kernels,
/// then <see cref="Autograd.Record"/> stores the backward rule right beside it. Rules are written
/// with these same ops (never raw kernels), so a backward run with <c>createGraph: true</c> is recorded
/// and can be differentiated again. Every op is also an extension method: <c>x.Mul(w).Add(b).Relu()</c>.
/// <para>Notation in the rules: <c>g</c> is the gradient of the output, <c>n.Saved[i]</c> the tensors the
/// op kept, <c>n.NeedsGrad(i)</c> whether input i wants a gradient at all.</para>
/// </summary>
public static partial class Ops
{
    // ================================================================ binary, with numpy broadcasting
    // An input that was broadcast (a bias of shape [C] added to [N, C]) was used once per copy, so its
    // gradient is the sum over the copies: SumToShape brings g back to the input's shape.

    /// <summary>a + b.</summary>
    public static Tensor Add(this Tensor a, Tensor b)
    {
        int[] aShape = a.Shape, bShape = b.Shape;
        return Autograd.Record("Add", Elementwise.Add(a, b), [a, b],
            (g, n) => [n.NeedsGrad(0) ? SumToShape(g, aShape) : null,
                       n.NeedsGrad(1) ? SumToShape(g, bShape) : null]);
    }

    /// <summary>a - b.</summary>
    public static Tensor Sub(this Tensor a, Tensor b)
    {
        int[] aShape = a.Shape, bShape = b.Shape;
        return Autograd.Record("Sub", Elementwise.Sub(a, b), [a, b],
            (g, n) => [n.NeedsGrad(0) ? SumToShape(g, aShape) : null,
                       n.NeedsGrad(1) ? SumToShape(g.Neg(), bShape) : null]);
    }

    /// <summary>a * b (elementwise).</summary>
    public static Tensor Mul(this Tensor a, Tensor b)
    {
        int[] aShape = a.Shape, bShape = b.Shape;
        return Autograd.Record("Mul", Elementwise.Mul(a, b), [a, b],
            (g, n) => [n.NeedsGrad(0) ? SumToShape(g.Mul(n.Saved[1]), aShape) : null,   // d(ab)/da = b
                       n.NeedsGrad(1) ? SumToShape(g.Mul(n.Saved[0]), bShape) : null],  // d(ab)/db = a
            save: [a, b]);
    }

    /// <summary>a / b (elementwise).</summary>
    public static Tensor Div(this Tensor a, Tensor b)
    {
        int[] aShape = a.Shape, bShape = b.Shape;
        return Autograd.Record("Div", Elementwise.Div(a, b), [a, b],
            (g, n) => [n.NeedsGrad(0) ? SumToShape(g.Div(n.Saved[1]), aShape) : null,                                  // 1/b
                       n.NeedsGrad(1) ? SumToShape(g.Mul(n.Saved[0]).Div(n.Saved[1].Square()).Neg(), bShape) : null], // -a/b^2
            save: [a, b]);
    }

    /// <summary>
    /// max(a, b) elementwise, with numpy broadcasting (the existing <see cref="BinaryOp.Max"/> kernel).
    /// Backward: the gradient goes to the larger input, through the constant mask m = step(a - b)
    /// (1 where a &gt; b, else 0; ties go to b, as any subgradient may): da = g m, db = g (1 - m).
    /// Piecewise linear, so its second derivative is 0 and the rule is itself differentiable.
    /// </summary>
    public static Tensor Maximum(this Tensor a, Tensor b)
    {
        int[] aShape = a.Shape, bShape = b.Shape;
        return Autograd.Record("Maximum", Elementwise.Binary(BinaryOp.Max, a, b), [a, b],
            (g, n) =>
            {
                using var diff = Elementwise.Binary(BinaryOp.Sub, n.Saved[0], n.Saved[1]);
                var mask = Constant(UnaryOp.Step, diff, 0f); // broadcast shape of a and b
                var ga = g.Mul(mask);
                return [n.NeedsGrad(0) ? SumToShape(ga, aShape) : null,
                        n.NeedsGrad(1) ? SumToShape(g.Sub(ga), bShape) : null];
            },
            save: [a, b]);
    }

    // ================================================================ with a scalar

    /// <summary>scale * x + shift, for float scalars (one kernel).</summary>
    public static Tensor Affine(this Tensor x, float scale, float shift) =>
        Autograd.Record("Affine", Elementwise.Unary(UnaryOp.Affine, x, scale, shift), [x],
            (g, n) => [g.Mul(scale)]);

    public static Tensor Mul(this Tensor x, float s) => x.Affine(s, 0f);

    public static Tensor Div(this Tensor x, float s) => x.Affine(1f / s, 0f);

    public static Tensor Add(this Tensor x, float s) => x.Affine(1f, s);

    public static Tensor Sub(this Tensor x, float s) => x.Affine(1f, -s);

    // ================================================================ unary

    /// <summary>-x.</summary>
    public static Tensor Neg(this Tensor x) =>
        Autograd.Record("Neg", Elementwise.Unary(UnaryOp.Neg, x), [x], (g, n) => [g.Neg()]);

    /// <summary>e^x; d/dx = e^x, the output itself.</summary>
    public static Tensor Exp(this Tensor x) =>
        Autograd.Record("Exp", Elementwise.Unary(UnaryOp.Exp, x), [x],
            (g, n) => [g.Mul(n.Saved[0])], saveOutput: true);

    /// <summary>ln x; d/dx = 1/x.</summary>
    public static Tensor Log(this Tensor x) =>
        Autograd.Record("Log", Elementwise.Unary(UnaryOp.Log, x), [x],
            (g, n) => [g.Div(n.Saved[0])], save: [x]);

    /// <summary>sqrt x; d/dx = 1 / (2 sqrt x), from the output. Infinite at 0: add an epsilon first where x can be 0.</summary>
    public static Tensor Sqrt(this Tensor x) =>
        Autograd.Record("Sqrt", Elementwise.Unary(UnaryOp.Sqrt, x), [x],
            (g, n) => [g.Div(n.Saved[0]).Mul(0.5f)], saveOutput: true);

    /// <summary>x^p for a scalar exponent; d/dx = p x^(p-1).</summary>
    public static Tensor Pow(this Tensor x, float p) =>
        Autograd.Record("Pow", Elementwise.Unary(UnaryOp.Pow, x, p), [x],
            (g, n) => [g.Mul(n.Saved[0].Pow(p - 1f).Mul(p))], save: [x]);

    /// <summary>x²; d/dx = 2x.</summary>
    public static Tensor Square(this Tensor x) =>
        Autograd.Record("Square", Elementwise.Unary(UnaryOp.Square, x), [x],
            (g, n) => [g.Mul(n.Saved[0]).Mul(2f)], save: [x]);

    /// <summary>|x|; d/dx = sign x (0 at 0). The sign is a constant: its own derivative is 0 almost everywhere.</summary>
    public static Tensor Abs(this Tensor x) =>
        Autograd.Record("Abs", Elementwise.Unary(UnaryOp.Abs, x), [x],
            (g, n) => [g.Mul(Constant(UnaryOp.Sign, n.Saved[0]))], save: [x]);

    /// <summary>max(x, 0); d/dx = step(x) (0 at 0), a constant mask.</summary>
    public static Tensor Relu(this Tensor x) =>
        Autograd.Record("Relu", Elementwise.Unary(UnaryOp.Relu, x), [x],
            (g, n) => [g.Mul(Constant(UnaryOp.Step, n.Saved[0], 0f))], save: [x]);

    /// <summary>x &gt; 0 ? x : slope x; d/dx = 1 or slope, a constant mask.</summary>
    public static Tensor LeakyRelu(this Tensor x, float negativeSlope = 0.01f) =>
        Autograd.Record("LeakyRelu", Elementwise.Unary(UnaryOp.LeakyRelu, x, negativeSlope), [x],
            (g, n) => [g.Mul(Constant(UnaryOp.Step, n.Saved[0], negativeSlope))], save: [x]);

    /// <summary>tanh x; d/dx = 1 - tanh² x, from the output.</summary>
    public static Tensor Tanh(this Tensor x) =>
        Autograd.Record("Tanh", Elementwise.Unary(UnaryOp.Tanh, x), [x],
            (g, n) => [g.Mul(n.Saved[0].Square().Affine(-1f, 1f))], saveOutput: true);

    /// <summary>1 / (1 + e^-x); d/dx = s (1 - s), from the output s.</summary>
    public static Tensor Sigmoid(this Tensor x) =>
        Autograd.Record("Sigmoid", Elementwise.Unary(UnaryOp.Sigmoid, x), [x],
            (g, n) => [g.Mul(n.Saved[0].Mul(n.Saved[0].Affine(-1f, 1f)))], saveOutput: true);

    /// <summary>log(1 + e^x); d/dx = sigmoid x.</summary>
    public static Tensor Softplus(this Tensor x) =>
        Autograd.Record("Softplus", Elementwise.Unary(UnaryOp.Softplus, x), [x],
            (g, n) => [g.Mul(n.Saved[0].Sigmoid())], save: [x]);

    /// <summary>A unary op whose result is a constant to autograd (a mask such as step(x) or sign(x)).</summary>
    static Tensor Constant(UnaryOp op, Tensor x, float p0 = 0f) => TensorScope.Track(Elementwise.Unary(op, x, p0));
}
