using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using LlmApp.Gateway.Admission;
using Microsoft.Extensions.Options;
using LlmApp.ApiKeys;
using LlmApp.Gateway.Observability;

namespace LlmApp.Gateway.Authentication;

/// <summary>
/// Says at start whether <c>/v1</c> is open, and reads the keys file again when it changes. Every second it hashes the
/// file's content, instead of waiting for file-system events (a file bind-mounted into a container gets none when the
/// host changes it) or comparing its write time and length (which <c>cp -p</c>, <c>rsync -t</c> and <c>tar</c> keep when
/// a key is replaced by one as long). A file replaced by rename (an editor's save, <c>sed -i</c>, <c>mv</c>) is read
/// by its path, so the new one is seen. A file that has become invalid keeps the keys in force, with one error line and
/// a count on <c>llmapp.gateway.api_keys.reload_failures</c>. The requests waiting for a slot with a key the new file
/// no longer takes are sent away with 401.
/// </summary>
internal sealed partial class ApiKeysMonitor : BackgroundService
{
    /// <summary>How often the file is looked at: a change takes effect within this.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly ApiKeyStore _store;
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ApiKeysMonitor> _logger;
    private readonly Counter<long> _reloadFailures;
    private readonly AdmissionControl _admission;

    public ApiKeysMonitor(ApiKeyStore store, IOptions<AuthOptions> options, IMeterFactory meterFactory, TimeProvider time, ILogger<ApiKeysMonitor> logger,
        AdmissionControl admission)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _store = store;
        _admission = admission;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _reloadFailures = meterFactory.Create(GatewayMetrics.MeterName).CreateCounter<long>("llmapp.gateway.api_keys.reload_failures", "{reload}",
            "Changes of Auth:KeysFile that were not taken because the file was missing or invalid; the keys before them stay in force.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_store.IsOpen)
        {
            LogOpen(_logger);
            return;
        }

        LogKeys(_logger, _store.Count);
        if (_options.KeysFile is not { Length: > 0 } path)
        {
            return;
        }

        // A change between the first reading and this stamp is missed until the next one; the window is a few milliseconds at start.
        var seen = Stamp(path);
        using var timer = new PeriodicTimer(PollInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = Stamp(path);
            if (now == seen)
            {
                continue;
            }

            seen = now;
            var (keys, problems) = ApiKeyLoader.Load(_options.Keys, _options.KeysFile);
            if (problems.Count > 0)
            {
                _reloadFailures.Add(1);
                LogReloadFailed(_logger, string.Join(" ", problems));
                continue;
            }

            var revoked = _store.Replace(keys);
            LogReloaded(_logger, path, keys.Length);
            if (revoked.Count > 0)
            {
                _admission.Revoke(revoked);
            }
        }
    }

    /// <summary>
    /// What tells a changed file from an unchanged one: a hash of its content (the file holds a few keys, so reading it
    /// each second costs nothing). A missing or unreadable file has a stamp of its own, so its return is a change too.
    /// </summary>
    private static string Stamp(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return Convert.ToHexString(SHA256.HashData(file));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.GetType().Name;
        }
    }

    [LoggerMessage(EventId = 1, EventName = "ApiKeysOpen", Level = LogLevel.Warning,
        Message = "No API key is configured: /v1 is open to anyone who can reach this port. Set Auth:Keys or Auth:KeysFile (from the AppHost: Llm:ApiKey or Llm:ApiKeysFile).")]
    private static partial void LogOpen(ILogger logger);

    [LoggerMessage(EventId = 2, EventName = "ApiKeys", Level = LogLevel.Information, Message = "/v1 takes API keys: {Count} configured")]
    private static partial void LogKeys(ILogger logger, int count);

    [LoggerMessage(EventId = 3, EventName = "ApiKeysReloaded", Level = LogLevel.Information, Message = "Reloaded API keys from {Path}: {Count} keys")]
    private static partial void LogReloaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 4, EventName = "ApiKeysReloadFailed", Level = LogLevel.Error, Message = "Kept the API keys in force: {Problem}")]
    private static partial void LogReloadFailed(ILogger logger, string problem);
}
