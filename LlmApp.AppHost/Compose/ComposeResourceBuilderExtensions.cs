namespace LlmApp.AppHost.Compose;

public static class ComposeResourceBuilderExtensions
{
    /// <summary>Customises the resource's service in the generated compose file (see <see cref="ComposePublisher"/>).</summary>
    public static IResourceBuilder<T> PublishAsComposeService<T>(this IResourceBuilder<T> builder, Action<ComposeService> configure)
        where T : IResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.WithAnnotation(new ComposeServiceAnnotation(configure), ResourceAnnotationMutationBehavior.Append);
    }

    /// <summary>
    /// Publishes the resource as an image built from <paramref name="dockerfile"/> in <paramref name="context"/>
    /// (both relative to the repository root, where the compose file lives), tagged <paramref name="image"/>.
    /// </summary>
    public static IResourceBuilder<T> PublishAsComposeImage<T>(this IResourceBuilder<T> builder, string image, string context, string dockerfile = "Dockerfile")
        where T : IResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.PublishAsComposeService(service =>
        {
            service.Image = image;
            service.Build = new ComposeBuild { Context = context, Dockerfile = dockerfile == "Dockerfile" ? null : dockerfile };
        });
    }

    /// <summary>Memory limit and CPUs of the service: the two limits both compose implementations enforce.</summary>
    public static IResourceBuilder<T> WithComposeLimits<T>(this IResourceBuilder<T> builder, int memoryMiB, double cpus)
        where T : IResource =>
        builder.PublishAsComposeService(service =>
        {
            service.MemoryLimit = $"{memoryMiB}m";
            service.Cpus = cpus;
        });

    /// <summary>Declares a <c>.env</c> variable the service's compose text refers to, with its value and what it does.</summary>
    public static IResourceBuilder<T> WithComposeVariable<T>(this IResourceBuilder<T> builder, string name, string value, string description)
        where T : IResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithAnnotation(new ComposeVariableAnnotation(name, value, description), ResourceAnnotationMutationBehavior.Append);
    }
}
