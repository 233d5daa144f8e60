namespace LlmApp.AppHost.Compose;

public static class ComposeHardeningExtensions
{
    /// <summary>
    /// The group that may read the deployment's backend key (the file is 0640, owned by the model fetcher's user):
    /// the gateway's user has it as its own, llama-server and Prometheus are given it.
    /// </summary>
    public const string BackendKeyGroup = "1654";

    /// <summary>
    /// The service's least privilege: every Linux capability dropped, no gaining more (<c>no-new-privileges</c>), a cap on
    /// processes, the given networks only and, unless <paramref name="readOnly"/> is false, a read-only root file system
    /// with <paramref name="tmpfs"/> (default <c>/tmp</c>) as the only writable places besides its volumes. Every service
    /// of LlmApp's own images runs as a user of its own, never root (the images say which).
    /// </summary>
    public static IResourceBuilder<T> WithComposeHardening<T>(
        this IResourceBuilder<T> builder, string[] networks, bool readOnly = true, int pidsLimit = 256, string[]? tmpfs = null)
        where T : IResource =>
        builder.PublishAsComposeService(service =>
        {
            service.CapDrop.Add("ALL");
            service.SecurityOpt.Add("no-new-privileges:true");
            service.PidsLimit = pidsLimit;
            service.Networks.AddRange(networks);
            if (readOnly)
            {
                service.ReadOnly = true;
                service.Tmpfs.AddRange(tmpfs ?? ["/tmp"]);
            }
        });

    /// <summary>The service's user may read the backend key (see <see cref="BackendKeyGroup"/>).</summary>
    public static IResourceBuilder<T> WithBackendKeyGroup<T>(this IResourceBuilder<T> builder) where T : IResource =>
        builder.PublishAsComposeService(service => service.GroupAdd.Add(BackendKeyGroup));
}
