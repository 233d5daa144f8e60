using System.Globalization;
using System.Text;
using LlmApp.AppHost.Compose;
using LlmApp.AppHost.LlamaCpp;
using LlmApp.AppHost.Settings;
using LlmApp.Models;

namespace Aspire.Hosting;

public static class PrometheusBuilderExtensions
{
    /// <summary>
    /// Runs a local Prometheus (the distribution's binary) scraping the given targets' <c>/metrics</c>, when one is
    /// installed; otherwise says how to get one and adds nothing. Its configuration is written at start, once the
    /// targets' ports are known, into the cache; <c>containers/prometheus/prometheus.yml</c> is the compose twin.
    /// </summary>
    public static IResourceBuilder<ExecutableResource>? AddPrometheusIfInstalled(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, LlmSettings settings,
        params (string Job, EndpointReference Endpoint)[] targets)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var prometheus = settings.Prometheus;
        if (!prometheus.Enabled)
        {
            return null;
        }

        var binary = prometheus.Path is { Length: > 0 } configured ? UserPath.Resolve(configured) : LlamaServerLocator.FindOnPath("prometheus");
        if (binary is null || !File.Exists(binary))
        {
            SetupLog.Info("prometheus: not installed, so not started (apt-get install prometheus, or brew install prometheus); " +
                          "the gateway's /metrics is served all the same");
            return null;
        }

        SetupLog.Info($"prometheus: {binary}");
        var directory = Path.Combine(CachePaths.Root(settings), "prometheus");
        Directory.CreateDirectory(directory);
        var configFile = Path.Combine(directory, "prometheus.yml");

        var resource = builder.AddExecutable(name, binary, directory)
            .WithHttpEndpoint(port: prometheus.Port > 0 ? prometheus.Port : null, name: "http", isProxied: false)
            .WithHttpHealthCheck("/-/ready");
        var endpoint = resource.GetEndpoint("http");
        resource.WithArgs(context =>
        {
            context.Args.Add($"--config.file={configFile}");
            context.Args.Add($"--storage.tsdb.path={Path.Combine(directory, "data")}");
            context.Args.Add("--storage.tsdb.retention.time=2d");
            context.Args.Add(ReferenceExpression.Create($"--web.listen-address=127.0.0.1:{endpoint.Property(EndpointProperty.TargetPort)}"));
        });

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(resource.Resource, async (_, cancellationToken) =>
        {
            var keyFiles = await WriteKeyFilesAsync(directory, targets, cancellationToken);
            await File.WriteAllTextAsync(configFile, Configuration(prometheus.ScrapeInterval, targets, keyFiles, AlertRules(builder)), cancellationToken);
        });

        foreach (var (_, target) in targets)
        {
            resource.WaitFor(builder.CreateResourceBuilder<IResource>(target.Resource));
        }

        return resource;
    }

    /// <summary>
    /// The keys of the targets that require one (llama-server), each in a file only this user can read, which the
    /// scrape job names (<c>credentials_file</c>): the key stays out of prometheus.yml and off its command line.
    /// </summary>
    private static async Task<Dictionary<string, string>> WriteKeyFilesAsync(
        string directory, (string Job, EndpointReference Endpoint)[] targets, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        // Replicas share a job and their key: one file per job.
        foreach (var (job, endpoint) in targets.DistinctBy(t => t.Job))
        {
            if (endpoint.Resource.BackendKey() is not { } key)
            {
                continue;
            }

            var file = Path.Combine(directory, $"{job}.key");
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var writer = new StreamWriter(file, options))
            {
                await writer.WriteAsync(await key.GetValueAsync(cancellationToken));
            }

            files[job] = file;
        }

        return files;
    }

    /// <summary>The SLO's alert rules, the compose deployment's own file, when the AppHost runs from the repository.</summary>
    private static string? AlertRules(IDistributedApplicationBuilder builder)
    {
        var rules = Path.Combine(ComposePublishingExtensions.RepositoryRoot(builder), "containers", "prometheus", "alerts.yml");
        return File.Exists(rules) ? rules : null;
    }

    private static string Configuration(
        TimeSpan scrapeInterval, (string Job, EndpointReference Endpoint)[] targets, Dictionary<string, string> keyFiles, string? alertRules)
    {
        var text = new StringBuilder()
            .AppendLine("# Written by LlmApp.AppHost at start; containers/prometheus/prometheus.yml is the compose version.")
            .AppendLine("global:")
            .AppendLine(CultureInfo.InvariantCulture, $"  scrape_interval: {(int)scrapeInterval.TotalSeconds}s");
        if (alertRules is not null)
        {
            text.AppendLine("rule_files:").AppendLine(CultureInfo.InvariantCulture, $"  - '{alertRules}'");
        }

        text.AppendLine("scrape_configs:");
        // One job per kind of target; replicas of llama-server are targets of one job, told apart by their instance label.
        foreach (var job in targets.GroupBy(t => t.Job, t => t.Endpoint))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  - job_name: {job.Key}");
            if (keyFiles.TryGetValue(job.Key, out var keyFile))
            {
                text.AppendLine("    authorization:")
                    .AppendLine(CultureInfo.InvariantCulture, $"      credentials_file: '{keyFile}'");
            }

            text.AppendLine("    static_configs:")
                .AppendLine(CultureInfo.InvariantCulture, $"      - targets: [{string.Join(", ", job.Select(e => $"'{e.Host}:{e.Port}'"))}]");
        }

        return text.ToString();
    }
}
