namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// A tool some tests need beyond the README's prerequisites. Where it is missing, those tests skip with one line that
/// names it and how to install it; <c>.ci/run</c> installs every one of them and fails on any skip.
/// </summary>
public sealed record OptionalTool(string Command, string Install)
{
    private const string Prometheus = "apt-get install prometheus (Debian/Ubuntu) or brew install prometheus (macOS)";

    /// <summary>Prometheus's rule and metrics checker, which Debian's and Homebrew's prometheus packages ship.</summary>
    public static OptionalTool Promtool { get; } = new("promtool", Prometheus);

    /// <summary>Prometheus itself, which the AppHost starts when it finds it on PATH.</summary>
    public static OptionalTool PrometheusServer { get; } = new("prometheus", Prometheus);

    public bool IsInstalled => FindOnPath(Command) is not null;

    /// <summary>The one line a test skips with when the tool is missing.</summary>
    public string Missing => $"{Command} is not installed: {Install}; .ci/run installs it";

    /// <summary>Skips the calling <c>[SkippableFact]</c> when the tool is not on PATH.</summary>
    public void SkipUnlessInstalled() => Skip.IfNot(IsInstalled, Missing);

    public static string? FindOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, command))
            .FirstOrDefault(File.Exists);
}
