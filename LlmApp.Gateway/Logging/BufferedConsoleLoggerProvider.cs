using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Logging;

/// <summary>
/// The console logger, with its lines formatted as .NET's console logger formats them (the configured
/// <see cref="ConsoleFormatter"/>: <c>Logging:Console:FormatterName</c>, simple by default) but written in batches
/// (<see cref="BufferedConsoleWriter"/>). .NET's own wakes its writing thread and writes once for every line: on a
/// 2-core box that was 30 µs of CPU and 0.3 ms of latency on every single answer (docs/performance.md), for the
/// request's one log line. Takes the <c>Console</c> alias, so the <c>Logging:Console</c> settings apply to it.
/// </summary>
[ProviderAlias("Console")]
internal sealed class BufferedConsoleLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentDictionary<string, BufferedConsoleLogger> _loggers = new(StringComparer.Ordinal);
    private readonly BufferedConsoleWriter _writer = new(Console.OpenStandardOutput());
    private readonly IOptionsMonitor<ConsoleLoggerOptions> _options;
    private readonly Dictionary<string, ConsoleFormatter> _formatters;
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public BufferedConsoleLoggerProvider(IOptionsMonitor<ConsoleLoggerOptions> options, IEnumerable<ConsoleFormatter> formatters)
    {
        _options = options;
        _formatters = formatters.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);
    }

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new BufferedConsoleLogger(name, this));

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    internal IExternalScopeProvider Scopes => _scopes;

    internal BufferedConsoleWriter Writer => _writer;

    /// <summary>The formatter the options name, as .NET's console logger picks it (simple when the name is unknown).</summary>
    internal ConsoleFormatter Formatter =>
        _formatters.TryGetValue(_options.CurrentValue.FormatterName ?? ConsoleFormatterNames.Simple, out var formatter)
            ? formatter
            : _formatters[ConsoleFormatterNames.Simple];

    public void Dispose() => _writer.Dispose();
}
