using YamlDotNet.Serialization;

namespace LlmApp.AppHost.Compose;

/// <summary>
/// A compose file in the shape of the compose specification (no <c>version:</c> key), holding only what the
/// publisher writes. Valid for Docker Compose v2 and for Debian's docker-compose 1.29. Properties are written in
/// declaration order, so the output is stable and diffs stay small.
/// </summary>
public sealed class ComposeFile
{
    [YamlMember(Alias = "name")]
    public string? Name { get; set; }

    [YamlMember(Alias = "services")]
    public SortedDictionary<string, ComposeService> Services { get; } = new(StringComparer.Ordinal);

    /// <summary>Named volumes; a null value is an empty mapping (a local volume with defaults).</summary>
    [YamlMember(Alias = "volumes")]
    public SortedDictionary<string, ComposeVolume> Volumes { get; } = new(StringComparer.Ordinal);

    /// <summary>The networks the services join (see <see cref="ComposeNetworks"/>).</summary>
    [YamlMember(Alias = "networks")]
    public SortedDictionary<string, ComposeNetwork> Networks { get; } = new(StringComparer.Ordinal);
}

/// <summary>A named volume; empty, so Docker's local driver keeps it across <c>down</c>.</summary>
public sealed class ComposeVolume;

/// <summary>A network; <c>internal</c> ones have no route out of the host, so what joins only them reaches nothing else.</summary>
public sealed class ComposeNetwork
{
    [YamlMember(Alias = "internal")]
    public bool? Internal { get; set; }
}

/// <summary>One compose service: the fields this app's services use, in the order people expect to read them.</summary>
public sealed class ComposeService
{
    [YamlMember(Alias = "image")]
    public string? Image { get; set; }

    [YamlMember(Alias = "build")]
    public ComposeBuild? Build { get; set; }

    [YamlMember(Alias = "profiles")]
    public List<string> Profiles { get; } = [];

    /// <summary>The user the container runs as (<c>uid:gid</c>), when not the image's own.</summary>
    [YamlMember(Alias = "user")]
    public string? User { get; set; }

    /// <summary>More groups for the container's user: the group that may read the backend key.</summary>
    [YamlMember(Alias = "group_add")]
    public List<string> GroupAdd { get; } = [];

    /// <summary>Replaces the image's entrypoint (vLLM's, to read its key from a file first).</summary>
    [YamlMember(Alias = "entrypoint")]
    public List<string> Entrypoint { get; } = [];

    [YamlMember(Alias = "command")]
    public List<string> Command { get; } = [];

    [YamlMember(Alias = "environment")]
    public SortedDictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    [YamlMember(Alias = "ports")]
    public List<string> Ports { get; } = [];

    [YamlMember(Alias = "volumes")]
    public List<string> Volumes { get; } = [];

    [YamlMember(Alias = "depends_on")]
    public SortedDictionary<string, ComposeDependency> DependsOn { get; } = new(StringComparer.Ordinal);

    [YamlMember(Alias = "healthcheck")]
    public ComposeHealthCheck? HealthCheck { get; set; }

    [YamlMember(Alias = "restart")]
    public string? Restart { get; set; }

    /// <summary>Memory limit (<c>mem_limit</c>), which Compose v2 and 1.29 both honour, unlike <c>deploy.resources</c> in 1.29.</summary>
    [YamlMember(Alias = "mem_limit")]
    public string? MemoryLimit { get; set; }

    [YamlMember(Alias = "cpus")]
    public double? Cpus { get; set; }

    /// <summary>The IPC namespace: <c>host</c> for vLLM, whose workers share tensors through shared memory.</summary>
    [YamlMember(Alias = "ipc")]
    public string? Ipc { get; set; }

    /// <summary>Devices the service reserves (a GPU), which Compose v2 and docker-compose 1.28+ both honour.</summary>
    [YamlMember(Alias = "deploy")]
    public ComposeDeploy? Deploy { get; set; }

    [YamlMember(Alias = "stop_grace_period")]
    public string? StopGracePeriod { get; set; }

    /// <summary>The container's root file system read-only; what it writes goes to its volumes and <see cref="Tmpfs"/>.</summary>
    [YamlMember(Alias = "read_only")]
    public bool? ReadOnly { get; set; }

    [YamlMember(Alias = "tmpfs")]
    public List<string> Tmpfs { get; } = [];

    [YamlMember(Alias = "cap_drop")]
    public List<string> CapDrop { get; } = [];

    [YamlMember(Alias = "security_opt")]
    public List<string> SecurityOpt { get; } = [];

    /// <summary>Most processes and threads the container may have: a fork bomb, or a thread leak, stops there.</summary>
    [YamlMember(Alias = "pids_limit")]
    public int? PidsLimit { get; set; }

    [YamlMember(Alias = "networks")]
    public List<string> Networks { get; } = [];

    /// <summary>
    /// A one-shot run of this service's image with its settings: the same image (and build, so that <c>up</c> never
    /// tries to pull it), environment, mounts, user and limits, no published port, no health check, never restarted,
    /// and <paramref name="command"/> as its command.
    /// </summary>
    public ComposeService OneShot(params string[] command)
    {
        var copy = new ComposeService
        {
            Image = Image, Build = Build, User = User, Restart = "no", MemoryLimit = MemoryLimit, Cpus = Cpus, ReadOnly = ReadOnly, PidsLimit = PidsLimit,
        };
        copy.GroupAdd.AddRange(GroupAdd);
        copy.Entrypoint.AddRange(Entrypoint);
        copy.Command.AddRange(command);
        foreach (var (name, value) in Environment)
        {
            copy.Environment[name] = value;
        }

        copy.Volumes.AddRange(Volumes);
        copy.Tmpfs.AddRange(Tmpfs);
        copy.CapDrop.AddRange(CapDrop);
        copy.SecurityOpt.AddRange(SecurityOpt);
        copy.Networks.AddRange(Networks);
        return copy;
    }
}

/// <summary><c>deploy:</c>, holding only the device reservations compose takes a GPU from.</summary>
public sealed class ComposeDeploy
{
    [YamlMember(Alias = "resources")]
    public required ComposeResources Resources { get; init; }

    /// <summary>One NVIDIA GPU, through the NVIDIA container toolkit on the host.</summary>
    public static ComposeDeploy OneNvidiaGpu() => new()
    {
        Resources = new ComposeResources
        {
            Reservations = new ComposeReservations { Devices = [new ComposeDevice { Driver = "nvidia", Count = 1, Capabilities = ["gpu"] }] },
        },
    };
}

public sealed class ComposeResources
{
    [YamlMember(Alias = "reservations")]
    public required ComposeReservations Reservations { get; init; }
}

public sealed class ComposeReservations
{
    [YamlMember(Alias = "devices")]
    public required List<ComposeDevice> Devices { get; init; }
}

public sealed class ComposeDevice
{
    [YamlMember(Alias = "driver")]
    public required string Driver { get; init; }

    [YamlMember(Alias = "count")]
    public int Count { get; init; }

    [YamlMember(Alias = "capabilities")]
    public required List<string> Capabilities { get; init; }
}

/// <summary>A build from a Dockerfile; paths are relative to the compose file.</summary>
public sealed class ComposeBuild
{
    [YamlMember(Alias = "context")]
    public required string Context { get; set; }

    [YamlMember(Alias = "dockerfile")]
    public string? Dockerfile { get; set; }
}

/// <summary>What a dependent service waits for: <c>service_healthy</c>, <c>service_started</c> or <c>service_completed_successfully</c>.</summary>
public sealed class ComposeDependency
{
    public const string Healthy = "service_healthy";
    public const string Started = "service_started";
    public const string CompletedSuccessfully = "service_completed_successfully";

    [YamlMember(Alias = "condition")]
    public required string Condition { get; set; }
}

/// <summary>A container health check; durations in compose's notation (<c>10s</c>).</summary>
public sealed class ComposeHealthCheck
{
    [YamlMember(Alias = "test")]
    public required List<string> Test { get; init; }

    [YamlMember(Alias = "interval")]
    public string Interval { get; init; } = "10s";

    [YamlMember(Alias = "timeout")]
    public string Timeout { get; init; } = "5s";

    [YamlMember(Alias = "retries")]
    public int Retries { get; init; } = 3;

    [YamlMember(Alias = "start_period")]
    public string? StartPeriod { get; init; }

    /// <summary>An HTTP GET inside the container that must answer 2xx: the image needs curl.</summary>
    public static ComposeHealthCheck Http(int port, string path, TimeSpan startPeriod) => new()
    {
        Test = ["CMD", "curl", "-fsS", "-o", "/dev/null", $"http://127.0.0.1:{port}{path}"],
        StartPeriod = $"{(int)startPeriod.TotalSeconds}s",
    };
}
