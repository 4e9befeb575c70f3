using BenchmarkDotNet.Running;

// Runs the BenchmarkDotNet suites of this folder: dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- --filter '*'
// 'gemm-quick [MxNxK...]' runs the quick stand-alone GEMM measurement instead.
if (args is ["gemm-quick", .. var shapes]) { NativeGan.Benchmarks.GemmQuick.Run(shapes); return; }
// 'norm-quick [NxC...]' times batch norm of [N, C] with the v1 and v2 cpu kernels.
if (args is ["norm-quick", .. var sizes]) { NativeGan.Benchmarks.NormQuick.Run(sizes); return; }
// 'maxout-quick [NxPxF...]' times the backward mask of a maximum over P: v1 (five kernels) against v2 (one).
if (args is ["maxout-quick", .. var layers]) { NativeGan.Benchmarks.MaxoutQuick.Run(layers); return; }
// 'mbd-quick [NxBxC...]' times a gradient of a gradient through minibatch discrimination: v1 (broadcast ops) against v2 (fused).
if (args is ["mbd-quick", .. var mbds]) { NativeGan.Benchmarks.MbdQuick.Run(mbds); return; }
// 'conv-quick [Cin-Cout-H-S-P...]' times conv2d's three passes with the v1, v2, v3 (and the forward's v4) cpu im2col / col2im, and the default.
if (args is ["conv-quick", .. var convs]) { NativeGan.Benchmarks.ConvQuick.Run(convs); return; }
// 'lstm-quick [LxHxTxN...]' times one forward and backward of an LSTM (layers x units x steps x batch) on the cpu.
if (args is ["lstm-quick", .. var lstms]) { NativeGan.Benchmarks.LstmQuick.Run(lstms); return; }
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
