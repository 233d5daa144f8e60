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
        builder.Services.RemoveAll<ILoggerProvider>(typeof(ConsoleLoggerProvider));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, BufferedConsoleLoggerProvider>());
        return builder;
    }

    private static void RemoveAll<TService>(this IServiceCollection services, Type implementation)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(TService) && services[i].ImplementationType == implementation)
            {
                services.RemoveAt(i);
            }
        }
    }
}
