using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;

namespace LlmApp.Gateway.Logging;

internal static class LoggingExtensions
{
    /// <summary>
    /// Replaces .NET's console logger (which the web host adds) with <see cref="BufferedConsoleLoggerProvider"/>: the
    /// same lines, in the same format and under the same settings, written in batches.
    /// </summary>
    public static IHostApplicationBuilder UseBufferedConsoleLogging(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddConsole();
        foreach (var console in builder.Services.Where(d => d.ImplementationType == typeof(ConsoleLoggerProvider)).ToList())
        {
            builder.Services.Remove(console);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, BufferedConsoleLoggerProvider>());
        return builder;
    }
}
