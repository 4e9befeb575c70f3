using BenchmarkDotNet.Running;

// Runs the BenchmarkDotNet suites of this folder: dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
