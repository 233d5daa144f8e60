namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// Debian's docker-compose 1.29 and the docker CLI, driving one compose project: a generated compose file and .env,
/// built from the repository's containers/ folder, with variables set the way a user sets them in the shell.
/// </summary>
public sealed class DockerCompose(string project, string composeFile, string environmentFile, IDictionary<string, string> variables)
{
    public string Project { get; } = project;

    /// <summary>Whether a Docker engine answers, and what it said when it does not.</summary>
    public static async Task<(bool Available, string Reason)> EngineAsync()
    {
        try
        {
            var info = await CommandRunner.RunAsync("docker", ["info", "--format", "{{.ServerVersion}}"], TestPaths.RepositoryRoot, timeout: TimeSpan.FromSeconds(20));
            var compose = await CommandRunner.RunAsync("docker-compose", ["version", "--short"], TestPaths.RepositoryRoot, timeout: TimeSpan.FromSeconds(20));
            return info.ExitCode != 0 ? (false, $"no Docker engine answers (docker info: {info.StandardError.Trim()}); .ci/run installs and starts one")
                : compose.ExitCode != 0 ? (false, $"docker-compose is not installed ({compose.Output.Trim()}); .ci/run installs it")
                : (true, "");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (false, $"docker or docker-compose is not installed ({ex.Message}); .ci/run installs them");
        }
    }

    /// <summary>
    /// Compose itself, run in <paramref name="directory"/> without a project (<c>config</c>, to check a generated file):
    /// Debian's docker-compose 1.29 (CI installs it; the stack tests need it), or the Compose v2 plugin. A test that
    /// calls it is skipped, saying so, where neither is installed.
    /// </summary>
    public static async Task<CommandRunner.Result> CliAsync(string directory, IEnumerable<string> arguments)
    {
        string[] list = [.. arguments];
        foreach (var (command, prefix) in (IEnumerable<(string, string[])>)[("docker-compose", []), ("docker", ["compose"])])
        {
            try
            {
                var result = await CommandRunner.RunAsync(command, [.. prefix, .. list], directory);
                if (command == "docker" && result.Output.Contains("is not a docker command", StringComparison.Ordinal))
                {
                    continue;
                }

                return result;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed: try the next.
            }
        }

        Skip.If(true, "neither docker-compose nor the docker compose plugin is installed");
        throw new InvalidOperationException("unreachable: Skip.If(true) throws");
    }

    public Task<CommandRunner.Result> RunAsync(IEnumerable<string> arguments, TimeSpan timeout) =>
        CommandRunner.RunAsync("docker-compose",
            // Paths in the file are relative to where it was generated, as on a server.
            ["--project-name", Project, "--file", composeFile, "--env-file", environmentFile, .. arguments],
            TestPaths.RepositoryRoot, variables, timeout);

    public async Task<CommandRunner.Result> RequireAsync(IEnumerable<string> arguments, TimeSpan timeout)
    {
        string[] list = [.. arguments];
        var result = await RunAsync(list, timeout);
        Assert.True(result.ExitCode == 0, $"docker-compose {string.Join(' ', list)} failed ({result.ExitCode}):\n{result.Output}");
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
