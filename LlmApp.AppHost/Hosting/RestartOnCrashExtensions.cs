using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

public static class RestartOnCrashExtensions
{
    /// <summary>
    /// Starts the resource again when its process exits with a non-zero code while the app is running (a crash, an
    /// out-of-memory kill), after a back-off that grows with each crash in a row. Aspire does not restart
    /// executables on its own.
    /// </summary>
    public static IResourceBuilder<T> WithRestartOnCrash<T>(this IResourceBuilder<T> builder) where T : ExecutableResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ApplicationBuilder.Services.AddHostedService(services => new CrashRestarter(
            builder.Resource,
            services.GetRequiredService<ResourceNotificationService>(),
            services.GetRequiredService<ResourceCommandService>(),
            services.GetRequiredService<ILogger<CrashRestarter>>()));
        return builder;
    }
}

internal sealed partial class CrashRestarter(
    IResource resource, ResourceNotificationService notifications, ResourceCommandService commands, ILogger<CrashRestarter> logger)
    : BackgroundService
{
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var crashesInARow = 0;
        DateTime? lastStart = null;
        try
        {
            await foreach (var change in notifications.WatchAsync(stoppingToken))
            {
                if (change.Resource != resource)
                {
                    continue;
                }

                var snapshot = change.Snapshot;
                if (snapshot.State?.Text == KnownResourceStates.Running && snapshot.StartTimeStamp != lastStart)
                {
                    lastStart = snapshot.StartTimeStamp;
                    continue;
                }

                if (snapshot.State?.Text != KnownResourceStates.Exited && snapshot.State?.Text != KnownResourceStates.Finished ||
                    snapshot.ExitCode is null or 0 || lastStart is null)
                {
                    continue;
                }

                // One restart per crash: forget the start we are answering.
                lastStart = null;
                crashesInARow = snapshot.StartTimeStamp is { } started && DateTime.UtcNow - started > TimeSpan.FromMinutes(1) ? 1 : crashesInARow + 1;
                var backoff = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, crashesInARow - 1), s_maxBackoff.TotalSeconds));
                LogCrash(logger, resource.Name, snapshot.ExitCode.Value, backoff.TotalSeconds);
                await Task.Delay(backoff, stoppingToken);
                await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Resource} exited with code {ExitCode}; starting it again in {Seconds} s.")]
    private static partial void LogCrash(ILogger logger, string resource, int exitCode, double seconds);
}
