// The pipeline API is marked for evaluation in Aspire 13.6; see ComposePublishingExtensions.
#pragma warning disable ASPIREPIPELINES001, ASPIREPIPELINES004
using Aspire.Hosting.Pipelines;
using LlmApp.AppHost.Setup;
using Microsoft.Extensions.DependencyInjection;

namespace LlmApp.AppHost.Containers;

public static class ContainerPreparationExtensions
{
    /// <summary>
    /// The step that stages the images' build contexts, before <c>docker compose build</c>:
    /// <c>dotnet run --project LlmApp.AppHost -- --operation publish --step prepare-containers --output-path .</c>
    /// </summary>
    public const string StepName = "prepare-containers";

    /// <summary>
    /// Adds the <see cref="StepName"/> step, which stages containers/ under the output path (the repository root):
    /// the llama.cpp source and the self-contained gateway and model tool. It downloads and builds, so it is not part
    /// of <c>publish</c>, which must work offline.
    /// </summary>
    public static IDistributedApplicationBuilder AddContainerPreparation(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Pipeline.AddStep(StepName, StepFailure.Reported(async context =>
        {
            var root = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
            if (!File.Exists(Path.Combine(root, "containers", "llama-cpp", "Dockerfile")))
            {
                throw new SetupException(
                    $"{StepName}: {root} is not the repository root (it has no containers/llama-cpp/Dockerfile); run it there with --output-path .");
            }

            await ContainerContexts.PrepareAsync(root, cancellationToken: context.CancellationToken);
        }));
        return builder;
    }
}
