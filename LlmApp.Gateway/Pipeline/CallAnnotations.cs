using System.Collections;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Pipeline;

/// <summary>
/// How the layer that routes a call says where it went, on what the call returns: the first update of a stream, the
/// answer, or the exception it threw. The telemetry layer above reads it into the <see cref="CallRecord"/>.
/// </summary>
public static class CallAnnotations
{
    private const string BackendKey = "llmapp.backend";
    private const string FailoversKey = "llmapp.failovers";
    private const string PredictedKey = "llmapp.predicted_ttft";
    private const string ResumesKey = "llmapp.resumes";
    private const string ResumePromptKey = "llmapp.resume_prompt_tokens";

    public static void Annotate(AdditionalPropertiesDictionary properties, string backend, int failovers, TimeSpan? predictedFirstToken = null)
    {
        ArgumentNullException.ThrowIfNull(properties);
        properties[BackendKey] = backend;
        properties[FailoversKey] = failovers;
        if (predictedFirstToken is { } predicted)
        {
            properties[PredictedKey] = predicted;
        }
    }

    /// <summary>The time to first token admission predicted for the call when it asked for a slot, from its arrival; null if none said.</summary>
    public static TimeSpan? PredictedFirstToken(AdditionalPropertiesDictionary? properties) =>
        properties is not null && properties.TryGetValue(PredictedKey, out TimeSpan predicted) ? predicted : null;

    public static void Annotate(Exception exception, string backend, int failovers, int resumes = 0)
    {
        ArgumentNullException.ThrowIfNull(exception);
        exception.Data[BackendKey] = backend;
        exception.Data[FailoversKey] = failovers;
        exception.Data[ResumesKey] = resumes;
    }

    /// <summary>
    /// An answer continued after a cut: on its last updates (the finish and the usage) or on the answer, the replica that
    /// ended it, how many times it was continued, and the prompt tokens the continuations cost (the gateway's, not the client's).
    /// </summary>
    public static void AnnotateResumes(AdditionalPropertiesDictionary properties, string backend, int resumes, long promptTokens)
    {
        ArgumentNullException.ThrowIfNull(properties);
        properties[BackendKey] = backend;
        properties[ResumesKey] = resumes;
        properties[ResumePromptKey] = promptTokens;
    }

    /// <summary>How many times the answer was continued, on which replica it ended, and what the continuations' prompts cost; null if it never was.</summary>
    public static (string Backend, int Resumes, long PromptTokens)? ReadResumes(AdditionalPropertiesDictionary? properties) =>
        properties is not null && properties.TryGetValue(ResumesKey, out int resumes) && properties.TryGetValue(BackendKey, out string? backend) && backend is not null
            ? (backend, resumes, properties.TryGetValue(ResumePromptKey, out long tokens) ? tokens : 0)
            : null;

    /// <summary>How many times a call that then failed had been continued.</summary>
    public static int ReadResumes(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current.Data is IDictionary data && data[ResumesKey] is int resumes)
            {
                return resumes;
            }
        }

        return 0;
    }

    public static (string? Backend, int Failovers) Read(AdditionalPropertiesDictionary? properties) =>
        properties is not null && properties.TryGetValue(BackendKey, out string? backend)
            ? (backend, properties.TryGetValue(FailoversKey, out int failovers) ? failovers : 0)
            : (null, 0);

    public static (string? Backend, int Failovers) Read(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current.Data is IDictionary data && data[BackendKey] is string backend)
            {
                return (backend, data[FailoversKey] as int? ?? 0);
            }
        }

        return (null, 0);
    }
}
