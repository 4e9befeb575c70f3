using BenchmarkDotNet.Running;

// Runs the BenchmarkDotNet suites of this folder: dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- --filter '*'
// 'gemm-quick [MxNxK...]' runs the quick stand-alone GEMM measurement instead.
if (args is ["gemm-quick", .. var shapes]) { NativeGan.Benchmarks.GemmQuick.Run(shapes); return; }
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
