using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmApp.Gateway.Logging;

/// <summary>One category's logger of <see cref="BufferedConsoleLoggerProvider"/>: formats on the caller's thread, then appends.</summary>
internal sealed class BufferedConsoleLogger(string category, BufferedConsoleLoggerProvider provider) : ILogger
{
    // One writer a thread to format into, as .NET's console logger keeps.
    [ThreadStatic]
    private static StringWriter? t_text;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider.Scopes.Push(state);

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        ArgumentNullException.ThrowIfNull(formatter);
        var text = t_text ??= new StringWriter(new StringBuilder(256));
        provider.Formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), provider.Scopes, text);
        var builder = text.GetStringBuilder();
        if (builder.Length == 0)
        {
            return;
        }

        var line = builder.ToString();
        builder.Clear();
        if (builder.Capacity > 4096)
        {
            builder.Capacity = 4096;
        }

        // A warning or worse is written at once, with whatever came before it.
        provider.Writer.Append(line, now: logLevel >= LogLevel.Warning);
    }
}
