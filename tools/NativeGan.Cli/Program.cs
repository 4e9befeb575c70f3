return NativeGan.Cli.Cli.Run(args);
