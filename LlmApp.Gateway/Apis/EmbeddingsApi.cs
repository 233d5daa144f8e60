using System.Text.Json;
using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Authentication;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Embeddings;
using LlmApp.Gateway.Failures;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.Quotas;
using LlmApp.Gateway.Resilience;
using LlmApp.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Apis;

public static class EmbeddingsApi
{
    public static RouteGroupBuilder MapEmbeddingsApi(this RouteGroupBuilder api)
    {
        api.MapPost("/embeddings", CreateEmbeddings).WithRequestLog(Operations.Embeddings);
        return api;
    }

    /// <summary>
    /// <c>POST /v1/embeddings</c>, the same way as chat: validation, admission (the embedding server's own slots), the
    /// pipeline (spans, metrics, the backend), then the list, as floats or base64.
    /// </summary>
    internal static async Task<IResult> CreateEmbeddings(
        HttpContext context, IOptions<EmbeddingsOptions> settings, IOptions<ResilienceOptions> resilience, AdmissionControl admission,
        IServiceProvider services, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(resilience);
        ArgumentNullException.ThrowIfNull(admission);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(time);
        var requestAborted = context.RequestAborted;
        var call = context.Features.GetRequiredFeature<ChatCall>();
        var options = settings.Value;

        // The key's requests per minute before a byte of the body is read.
        var key = context.Features.Get<ApiKeyIdentity>() ?? ApiKeyIdentity.Open;
        var quotas = services.GetRequiredService<KeyQuotas>();
        if (quotas.TakeRequest(key, context.Response) is { } overLimit)
        {
            return overLimit.ToResult();
        }

        var limits = services.GetRequiredService<IOptions<RequestLimitsOptions>>().Value;
        EmbeddingRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(context.Request.Body, OpenAIJsonContext.Default.EmbeddingRequest, requestAborted);
        }
        catch (JsonException ex)
        {
            return ChatRequestReader.InvalidJson(ex).ToResult();
        }
        catch (BadHttpRequestException ex) when (RequestCaps.FromBadRequest(ex, limits) is { } refused)
        {
            return refused.ToResult();
        }

        if (request is null)
        {
            return GatewayFailure.InvalidRequest("The request body must be a JSON object.").ToResult();
        }

        if (request.Model is { Length: > 0 } model && (!options.IsEnabled || model != options.Model))
        {
            // No embedding model (Llm:EmbeddingModel unset), or another model's name: as OpenAI answers an unknown model.
            return GatewayFailure.ModelNotFound(model).ToResult();
        }

        List<EmbeddingInput>? inputs;
        try
        {
            if (!EmbeddingRequestMapper.TryMap(request, options.Matryoshka, out inputs, out var error))
            {
                return GatewayFailure.InvalidRequest(error.Message, error.Param, error.Code).ToResult();
            }
        }
        catch (InvalidOperationException ex) when (ChatRequestReader.IsInvalidText(ex))
        {
            return ChatRequestReader.InvalidText().ToResult();
        }

        call.Model = options.Model;
        var (quota, limited) = quotas.Acquire(key, TokenReservation.Embeddings(EstimateTokens(inputs)), context.Response);
        if (limited is not null)
        {
            return limited.ToResult();
        }

        try
        {
            return await EmbedAsync(context, call, key, request, inputs, options, resilience.Value, admission, services, time);
        }
        finally
        {
            quota!.Settle(call);
        }
    }

    private static async Task<IResult> EmbedAsync(HttpContext context, ChatCall call, ApiKeyIdentity key, EmbeddingRequest request,
        IReadOnlyList<EmbeddingInput> inputs, EmbeddingsOptions options, ResilienceOptions resilience, AdmissionControl admission,
        IServiceProvider services, TimeProvider time)
    {
        var requestAborted = context.RequestAborted;
        var deadline = resilience.TotalTimeoutBase - time.GetElapsedTime(call.ArrivalTimestamp);
        var admitted = await admission.AdmitAsync(new AdmissionRequest(Operations.Embeddings, key.Name, deadline, key.Limits.MaxConcurrent), requestAborted);
        if (admitted.Outcome == AdmissionOutcome.ClientLeft)
        {
            throw new OperationCanceledException(requestAborted);
        }

        if (!admitted.IsAdmitted)
        {
            return AdmissionRefusals.For(admitted.Outcome).ToResult();
        }

        using var lease = admitted.Lease!;
        call.Backend = lease.Backend.Name;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        // What is left of the deadline after the wait for a slot.
        timeout.CancelAfter(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond,
            (resilience.TotalTimeoutBase - time.GetElapsedTime(call.ArrivalTimestamp)).Ticks)));
        try
        {
            var generator = services.GetRequiredService<IEmbeddingGenerator<EmbeddingInput, Embedding<float>>>();
            var embeddings = await generator.GenerateAsync(inputs, new GatewayEmbeddingOptions(call) { Dimensions = request.Dimensions }, timeout.Token);
            return new EmbeddingListResult(embeddings, options.Model, request.EncodingFormat == "base64");
        }
        catch (EmbeddingRequestException ex)
        {
            return GatewayFailure.InvalidRequest(ex.Message, ex.Param, ex.Code).ToResult();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !requestAborted.IsCancellationRequested)
        {
            return FailureClassifier.Classify(new GenerationTimeoutException(GenerationTimeout.Total)).ToResult();
        }
        catch (Exception ex) when (!requestAborted.IsCancellationRequested && ex is not OperationCanceledException)
        {
            return FailureClassifier.Classify(ex).ToResult();
        }
    }

    /// <summary>The inputs' tokens: given as tokens, counted; given as text, estimated at four characters a token.</summary>
    private static long EstimateTokens(IReadOnlyList<EmbeddingInput> inputs) =>
        inputs.Sum(input => input.Tokens?.Count ?? TokenReservation.EstimatePrompt(input.Text?.Length ?? 0, messages: 0));
}
