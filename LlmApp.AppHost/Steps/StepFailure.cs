// The pipeline API is marked for evaluation in Aspire 13.6; see ComposePublishingExtensions.
#pragma warning disable ASPIREPIPELINES001
using Aspire.Hosting.Pipelines;
using LlmApp.Models;

namespace LlmApp.AppHost.Steps;

/// <summary>
/// Runs a pipeline step so that a set-up problem reads as it does at start: one line naming the setting or step, and
/// a non-zero exit code (the host's own report of a failed step is a stack trace, and its exit code is 0).
/// </summary>
public static class StepFailure
{
    public static Func<PipelineStepContext, Task> Reported(Func<PipelineStepContext, Task> action) => async context =>
    {
        try
        {
            await action(context);
        }
        catch (SetupException ex)
        {
            Console.Error.WriteLine($"llmapp: error: {ex.Message}");
            Environment.ExitCode = 1;
        }
        catch
        {
            Environment.ExitCode = 1;
            throw;
        }
    };
}
