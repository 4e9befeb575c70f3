using System.CommandLine;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>The <c>nativegan</c> command line. Each command is built by a small method here.</summary>
public static class Cli
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("NativeGan: a from-scratch GPU engine for GANs and autoencoders, in C#.")
        {
            DevicesCommand(),
            KernelsCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }

    static Command DevicesCommand()
    {
        var command = new Command("devices", "List the devices this machine offers (cpu, ilgpu-cpu, cuda, opencl).");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumn("device").AddColumn("what it is");
            foreach (var (name, description) in Device.Available()) table.AddRow(name, Markup.Escape(description));
            AnsiConsole.Write(table);
            var auto = Device.Get("auto");
            AnsiConsole.MarkupLine(Markup.Escape(Device.LastAutoChoice ?? $"auto picked {auto.Name}"));
            return 0;
        });
        return command;
    }
}
