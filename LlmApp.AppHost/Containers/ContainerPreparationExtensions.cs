// The pipeline API is marked for evaluation in Aspire 13.6; see ComposePublishingExtensions.
#pragma warning disable ASPIREPIPELINES001
using LlmApp.AppHost.Compose;
using LlmApp.AppHost.Steps;

namespace LlmApp.AppHost.Containers;

public static class ContainerPreparationExtensions
{
    /// <summary>
    /// The step that stages the images' build contexts, before <c>docker compose build</c>:
    /// <c>dotnet run --project LlmApp.AppHost -- --operation publish --step prepare-containers</c>
    /// </summary>
    public const string StepName = "prepare-containers";

    /// <summary>
    /// Adds the <see cref="StepName"/> step, which stages the repository's containers/ folder:
    /// the llama.cpp source and the self-contained gateway and model tool. It downloads and builds, so it is not part
    /// of <c>publish</c>, which must work offline.
    /// </summary>
    public static IDistributedApplicationBuilder AddContainerPreparation(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var root = ComposePublishingExtensions.RepositoryRoot(builder);
        builder.Pipeline.AddStep(StepName, StepFailure.Reported(context => ContainerContexts.PrepareAsync(root, cancellationToken: context.CancellationToken)));
        return builder;
    }
}
