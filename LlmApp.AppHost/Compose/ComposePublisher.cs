using System.Globalization;

namespace LlmApp.AppHost.Compose;

/// <summary>
/// Makes a compose file from the app model, in the shape of Aspire.Hosting.Docker's publisher (not served on the
/// NuGet feeds LlmApp is built from): one service per container or project resource, its environment and arguments
/// resolved for the compose network, <c>WaitFor</c> as <c>depends_on</c> conditions, named volumes, external
/// endpoints as published ports, then each resource's <see cref="ComposeServiceAnnotation"/> customisations. Paths
/// are written relative to <paramref name="repositoryRoot"/> by the resources (<c>./containers/gateway</c>) and
/// relative to <paramref name="outputDirectory"/> in the file, so the file works wherever it is generated.
/// </summary>
public sealed class ComposePublisher(
    DistributedApplicationModel model, DistributedApplicationExecutionContext executionContext, string repositoryRoot, string outputDirectory)
{
    /// <summary>The restart policy of every long-running service: back after a crash, not after <c>docker compose stop</c>.</summary>
    public const string DefaultRestart = "unless-stopped";

    public async Task<(ComposeFile File, SortedDictionary<string, ComposeVariable> EnvironmentFile)> BuildAsync(CancellationToken cancellationToken)
    {
        var resolver = new ComposeValueResolver();
        var file = new ComposeFile();
        var published = model.Resources.Where(IsService).ToList();
        foreach (var resource in published)
        {
            var service = await ServiceAsync(resource, published, file, resolver, cancellationToken);
            file.Services[resource.Name] = service;
            foreach (var network in service.Networks)
            {
                file.Networks[network] = ComposeNetworks.For(network);
            }

            foreach (var declared in resource.Annotations.OfType<ComposeVariableAnnotation>())
            {
                resolver.EnvironmentFile[declared.Name] = declared.Variable;
            }
        }

        foreach (var whole in published.SelectMany(r => r.Annotations.OfType<ComposeFileAnnotation>()))
        {
            whole.Configure(file);
        }

        return (file, resolver.EnvironmentFile);
    }

    private static bool IsService(IResource resource) =>
        resource is ContainerResource or ProjectResource || resource.Annotations.OfType<ComposeServiceAnnotation>().Any();

    private async Task<ComposeService> ServiceAsync(
        IResource resource, List<IResource> services, ComposeFile file, ComposeValueResolver resolver, CancellationToken cancellationToken)
    {
        var service = new ComposeService { Restart = DefaultRestart };
        if (resource.Annotations.OfType<ContainerImageAnnotation>().LastOrDefault() is { } image)
        {
            service.Image = image.Tag is { Length: > 0 } tag ? $"{image.Image}:{tag}" : image.Image;
        }

        await EnvironmentAsync(resource, service, resolver, cancellationToken);
        await ArgumentsAsync(resource, service, resolver, cancellationToken);
        Mounts(resource, service, file);
        Ports(resource, service);
        foreach (var wait in resource.Annotations.OfType<WaitAnnotation>().Where(w => services.Contains(w.Resource)))
        {
            service.DependsOn[wait.Resource.Name] = new ComposeDependency { Condition = Condition(wait.WaitType) };
        }

        foreach (var customisation in resource.Annotations.OfType<ComposeServiceAnnotation>())
        {
            customisation.Configure(service);
        }

        RelocatePaths(service);
        if (service.Image is null && service.Build is null)
        {
            throw new InvalidOperationException($"{resource.Name}: no image to publish; give it PublishAsComposeImage.");
        }

        return service;
    }

    private async Task EnvironmentAsync(IResource resource, ComposeService service, ComposeValueResolver resolver, CancellationToken cancellationToken)
    {
        var variables = new Dictionary<string, object>(StringComparer.Ordinal);
        var context = new EnvironmentCallbackContext(executionContext, resource, variables, cancellationToken);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        foreach (var (name, value) in variables)
        {
            service.Environment[name] = await resolver.ResolveAsync(value, $"{resource.Name}: environment {name}", cancellationToken);
        }
    }

    private async Task ArgumentsAsync(IResource resource, ComposeService service, ComposeValueResolver resolver, CancellationToken cancellationToken)
    {
        var arguments = new List<object>();
        var context = new CommandLineArgsCallbackContext(arguments, resource, cancellationToken) { ExecutionContext = executionContext };
        foreach (var callback in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        foreach (var argument in arguments)
        {
            service.Command.Add(await resolver.ResolveAsync(argument, $"{resource.Name}: argument", cancellationToken));
        }
    }

    private static void Mounts(IResource resource, ComposeService service, ComposeFile file)
    {
        foreach (var mount in resource.Annotations.OfType<ContainerMountAnnotation>())
        {
            var mode = mount.IsReadOnly ? ":ro" : "";
            if (mount.Type == ContainerMountType.Volume && mount.Source is { Length: > 0 } volume)
            {
                file.Volumes[volume] = new ComposeVolume();
            }

            service.Volumes.Add(mount.Source is { Length: > 0 } source ? $"{source}:{mount.Target}{mode}" : mount.Target);
        }
    }

    private static void Ports(IResource resource, ComposeService service)
    {
        foreach (var endpoint in resource.Annotations.OfType<EndpointAnnotation>().Where(e => e.IsExternal && e.TargetPort is not null))
        {
            var target = endpoint.TargetPort!.Value.ToString(CultureInfo.InvariantCulture);
            service.Ports.Add(endpoint.Port is { } port ? $"{port.ToString(CultureInfo.InvariantCulture)}:{target}" : target);
        }
    }

    /// <summary>The build context and the bind mounts that start with <c>./</c>, from the repository's root to the output's.</summary>
    private void RelocatePaths(ComposeService service)
    {
        if (service.Build is { } build)
        {
            build.Context = Relocate(build.Context);
        }

        for (var i = 0; i < service.Volumes.Count; i++)
        {
            if (service.Volumes[i].StartsWith("./", StringComparison.Ordinal) && service.Volumes[i].IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
            {
                service.Volumes[i] = Relocate(service.Volumes[i][..colon]) + service.Volumes[i][colon..];
            }
        }
    }

    private string Relocate(string repositoryPath)
    {
        var relative = Path.GetRelativePath(outputDirectory, Path.GetFullPath(repositoryPath, repositoryRoot)).Replace('\\', '/');
        // Compose takes a bind mount's source as a path only when it starts with . or /.
        return relative.StartsWith("..", StringComparison.Ordinal) ? relative : "./" + relative;
    }

    private static string Condition(WaitType waitType) => waitType switch
    {
        WaitType.WaitUntilHealthy => ComposeDependency.Healthy,
        WaitType.WaitForCompletion => ComposeDependency.CompletedSuccessfully,
        _ => ComposeDependency.Started,
    };
}
