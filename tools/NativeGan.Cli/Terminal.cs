using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// What the program's output goes to. A terminal gets the live progress line and lines wrapped at its width (Spectre's
/// way); anything else (a log file, a pipe, CI, a test's writer) gets whole lines: Spectre would otherwise wrap every
/// line at 80 columns (or the width of the terminal the pipe was started from), splitting paths and messages mid-word.
/// </summary>
public static class Terminal
{
    /// <summary>The width lines are laid out at where the output is not a terminal: wide enough that nothing wraps.</summary>
    public const int UnwrappedWidth = 100_000;

    /// <summary>Makes <paramref name="console"/> write whole lines when its output is not a terminal.</summary>
    public static void Unwrap(IAnsiConsole console)
    {
        if (!console.Profile.Out.IsTerminal) console.Profile.Width = UnwrappedWidth;
    }

    /// <summary>Whether <paramref name="console"/> can redraw a line in place: a terminal, interactive, with ANSI codes.</summary>
    public static bool CanAnimate(IAnsiConsole console) =>
        console.Profile.Out.IsTerminal && console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;
}
