namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// Compose (Debian's docker-compose 1.29, or the Compose v2 plugin) and the docker CLI, driving one compose project: a generated compose file and .env,
/// built from the repository's containers/ folder, with variables set the way a user sets them in the shell.
/// </summary>
public sealed class DockerCompose(string project, string composeFile, string environmentFile, IDictionary<string, string> variables)
{
    public string Project { get; } = project;

    private const string InstallEngine =
        "apt-get install docker.io docker-compose and start dockerd (Debian/Ubuntu), or Docker Desktop (macOS); .ci/run installs and starts them";

    private static readonly Lazy<Task<string[]?>> s_compose = new(FindComposeAsync);

    /// <summary>
    /// Whether a Docker engine answers and a compose implementation is installed, and, when not, the one line the
    /// stack tests skip with: what is missing and how to install it.
    /// </summary>
    public static async Task<(bool Available, string Reason)> EngineAsync()
    {
        try
        {
            var info = await CommandRunner.RunAsync("docker", ["info", "--format", "{{.ServerVersion}}"], TestPaths.RepositoryRoot, timeout: TimeSpan.FromSeconds(20));
            if (info.ExitCode != 0)
            {
                return (false, $"no Docker engine answers (docker info: {FirstLine(info.Output)}): {InstallEngine}");
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (false, $"docker is not installed: {InstallEngine}");
        }

        return await ComposeCommandAsync() is null ? (false, ComposeMissing) : (true, "");
    }

    private const string ComposeMissing =
        "neither docker-compose nor the docker compose plugin is installed: apt-get install docker-compose (Debian/Ubuntu), " +
        "or Docker Desktop (macOS); .ci/run installs it";

    /// <summary>
    /// The compose command line of this machine: Debian's docker-compose 1.29 when <c>docker-compose version</c>
    /// succeeds (what CI installs and runs), else the Compose v2 plugin when <c>docker compose version</c> succeeds, else
    /// null. Decided by exit codes: a docker CLI without the plugin words its refusal differently from one version to
    /// the next ("unknown flag", "unknown command", "is not a docker command").
    /// </summary>
    public static Task<string[]?> ComposeCommandAsync() => s_compose.Value;

    private static async Task<string[]?> FindComposeAsync()
    {
        foreach (string[] command in (IEnumerable<string[]>)[["docker-compose"], ["docker", "compose"]])
        {
            try
            {
                var version = await CommandRunner.RunAsync(command[0], [.. command[1..], "version"], TestPaths.RepositoryRoot, timeout: TimeSpan.FromSeconds(20));
                if (version.ExitCode == 0)
                {
                    return command;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed: try the next.
            }
        }

        return null;
    }

    /// <summary>
    /// Compose itself, run in <paramref name="directory"/> without a project (<c>config</c>, to check a generated file).
    /// A test that calls it is skipped, with the line saying how to install one, where no compose is installed.
    /// </summary>
    public static async Task<CommandRunner.Result> CliAsync(string directory, IEnumerable<string> arguments)
    {
        var compose = await ComposeCommandAsync();
        Skip.If(compose is null, ComposeMissing);
        return await CommandRunner.RunAsync(compose![0], [.. compose[1..], .. arguments], directory);
    }

    private static string FirstLine(string text) => text.Trim().Split('\n')[0];

    public async Task<CommandRunner.Result> RunAsync(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var compose = await ComposeCommandAsync() ?? throw new InvalidOperationException(ComposeMissing);
        return await CommandRunner.RunAsync(compose[0],
            // Paths in the file are relative to where it was generated, as on a server.
            [.. compose[1..], "--project-name", Project, "--file", composeFile, "--env-file", environmentFile, .. arguments],
            TestPaths.RepositoryRoot, variables, timeout);
    }

    public async Task<CommandRunner.Result> RequireAsync(IEnumerable<string> arguments, TimeSpan timeout)
    {
        string[] list = [.. arguments];
        var result = await RunAsync(list, timeout);
        Assert.True(result.ExitCode == 0, $"compose {string.Join(' ', list)} failed ({result.ExitCode}):\n{result.Output}");
        return result;
    }

    /// <summary>The container of a service (one per service here).</summary>
    public async Task<string> ContainerAsync(string service)
    {
        var result = await RequireAsync(["ps", "--all", "--quiet", service], TimeSpan.FromSeconds(30));
        return result.StandardOutput.Trim() is { Length: > 0 } id ? id : throw new InvalidOperationException($"service {service} has no container");
    }

    /// <summary><c>docker inspect --format</c> of a service's container.</summary>
    public async Task<string> InspectAsync(string service, string format)
    {
        var container = await ContainerAsync(service);
        var result = await CommandRunner.RunAsync("docker", ["inspect", "--format", format, container], TestPaths.RepositoryRoot, timeout: TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"docker inspect {service} failed:\n{result.Output}");
        return result.StandardOutput.Trim();
    }

    /// <summary>Waits until each service's health check passes (and one-shot services exited 0), or fails with their logs.</summary>
    public async Task WaitHealthyAsync(IEnumerable<string> services, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var service in services)
        {
            string status;
            while ((status = await InspectAsync(service, "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}} {{.State.ExitCode}}{{end}}")) is not ("healthy" or "exited 0"))
            {
                if (DateTime.UtcNow > deadline || status.StartsWith("exited", StringComparison.Ordinal))
                {
                    var logs = await RunAsync(["logs", "--tail", "40"], TimeSpan.FromSeconds(30));
                    Assert.Fail($"{service} is '{status}' after {timeout}; logs:\n{logs.Output}");
                }

                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }
}
