namespace Aspire.Hosting;

public static class BackendKeyExtensions
{
    /// <summary>
    /// Gives <paramref name="backend"/> a key of its own, generated at each start (a secret parameter, masked in the
    /// dashboard), which it then requires on everything but <c>/health</c>, in <paramref name="variable"/>. Whatever is
    /// wired to it (<see cref="LlmBackendExtensions.WithLlmBackend"/>, Prometheus) finds the key on the resource.
    /// </summary>
    public static IResourceBuilder<TBackend> WithGeneratedKey<TBackend>(this IResourceBuilder<TBackend> backend, string variable)
        where TBackend : ILlmBackendResource, IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(backend);
        return backend.WithBackendKey(backend.ApplicationBuilder.AddBackendKey($"{backend.Resource.Name}-key"), variable);
    }

    /// <summary>A key generated at each start: a secret parameter, masked in the dashboard. Replicas of one model share one.</summary>
    public static IResourceBuilder<ParameterResource> AddBackendKey(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddParameter(name, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
    }

    /// <summary><paramref name="backend"/> requires <paramref name="key"/>, passed in <paramref name="variable"/>; whatever calls it finds the key on the resource.</summary>
    public static IResourceBuilder<TBackend> WithBackendKey<TBackend>(this IResourceBuilder<TBackend> backend, IResourceBuilder<ParameterResource> key, string variable)
        where TBackend : ILlmBackendResource, IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(variable);
        return backend.WithEnvironment(variable, key).WithAnnotation(new BackendKeyAnnotation(key.Resource));
    }

    /// <summary>The key <paramref name="backend"/> requires, if it has one.</summary>
    public static ParameterResource? BackendKey(this IResource backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return backend.TryGetLastAnnotation<BackendKeyAnnotation>(out var annotation) ? annotation.Key : null;
    }

    /// <summary>Sends <paramref name="backend"/>'s key, if it has one, as <paramref name="variable"/>; read at start, so the order of the calls does not matter.</summary>
    internal static IResourceBuilder<T> WithBackendKeyIn<T>(this IResourceBuilder<T> resource, IResource backend, string variable)
        where T : IResourceWithEnvironment =>
        resource.WithEnvironment(context =>
        {
            if (backend.BackendKey() is { } key)
            {
                context.EnvironmentVariables[variable] = key;
            }
        });
}
