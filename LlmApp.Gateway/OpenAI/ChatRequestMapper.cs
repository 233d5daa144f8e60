using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// Validates an OpenAI Chat Completions request and maps it onto <see cref="ChatMessage"/> and
/// <see cref="ChatOptions"/>, so that nothing invalid ever reaches the backend.
/// </summary>
public static class ChatRequestMapper
{
    public static bool TryMap(
        ChatCompletionRequest request,
        int? contextLength,
        [NotNullWhen(true)] out MappedChatRequest? mapped,
        [NotNullWhen(false)] out RequestError? error)
    {
        mapped = null;
        error = Validate(request, contextLength);
        if (error is not null)
        {
            return false;
        }

        var messages = new List<ChatMessage>(request.Messages!.Count);
        for (var i = 0; i < request.Messages.Count; i++)
        {
            if (!MessageMapper.TryMap(request.Messages[i], $"messages[{i}]", out var message, out error))
            {
                return false;
            }

            messages.Add(message);
        }

        if (!TryReadStop(request.Stop, out var stop, out error) ||
            !ResponseFormatMapper.TryMap(request.ResponseFormat, out var responseFormat, out var strict, out error) ||
            !ToolMapper.TryMap(request.Tools, request.ToolChoice, out var tools, out var toolMode, out error))
        {
            return false;
        }

        var options = new ChatOptions
        {
            Temperature = request.Temperature,
            TopP = request.TopP,
            MaxOutputTokens = request.MaxCompletionTokens ?? request.MaxTokens,
            StopSequences = stop,
            Seed = request.Seed,
            PresencePenalty = request.PresencePenalty,
            FrequencyPenalty = request.FrequencyPenalty,
            ResponseFormat = responseFormat,
            Tools = tools,
            ToolMode = toolMode,
            // A named tool_choice is one call of that tool, as vLLM makes it: a model free to add calls repeats it until max_tokens.
            AllowMultipleToolCalls = ToolMapper.AllowMultipleCalls(toolMode, request.ParallelToolCalls),
        };

        // What Microsoft.Extensions.AI has no property for rides in AdditionalProperties, under the keys the writer sends.
        if (strict is not null || request.Logprobs == true)
        {
            options.AdditionalProperties = [];
            if (strict is { } isStrict)
            {
                options.AdditionalProperties[ChatOptionKeys.StrictJsonSchema] = isStrict;
            }

            if (request.Logprobs == true)
            {
                options.AdditionalProperties[ChatOptionKeys.Logprobs] = true;
                if (request.TopLogprobs is { } top)
                {
                    options.AdditionalProperties[ChatOptionKeys.TopLogprobs] = top;
                }
            }
        }

        mapped = new MappedChatRequest(messages, options, request.Stream == true, request.StreamOptions?.IncludeUsage == true);
        return true;
    }

    private static RequestError? Validate(ChatCompletionRequest request, int? contextLength) => request switch
    {
        { Model: null or "" } => new("'model' is a required property.", "model"),
        { Messages: null } => new("'messages' is a required property.", "messages"),
        { Messages.Count: 0 } => new("'messages' must contain at least one message.", "messages"),
        { Temperature: < 0 or > 2 } => new("'temperature' must be between 0 and 2.", "temperature"),
        { TopP: < 0 or > 1 } => new("'top_p' must be between 0 and 1.", "top_p"),
        { MaxTokens: <= 0 } => new("'max_tokens' must be a positive integer.", "max_tokens"),
        { MaxCompletionTokens: <= 0 } => new("'max_completion_tokens' must be a positive integer.", "max_completion_tokens"),
        { MaxTokens: { } max } when max > contextLength =>
            new($"'max_tokens' is {max}, beyond this model's context of {contextLength} tokens.", "max_tokens", "context_length_exceeded"),
        { MaxCompletionTokens: { } max } when max > contextLength =>
            new($"'max_completion_tokens' is {max}, beyond this model's context of {contextLength} tokens.", "max_completion_tokens", "context_length_exceeded"),
        { PresencePenalty: < -2 or > 2 } => new("'presence_penalty' must be between -2 and 2.", "presence_penalty"),
        { FrequencyPenalty: < -2 or > 2 } => new("'frequency_penalty' must be between -2 and 2.", "frequency_penalty"),
        { N: not null and not 1 } => new("Only n=1 is supported: the backend generates one choice per request.", "n"),
        { TopLogprobs: < 0 or > 20 } => new("'top_logprobs' must be between 0 and 20.", "top_logprobs"),
        { TopLogprobs: not null, Logprobs: not true } => new("'top_logprobs' needs 'logprobs' to be true.", "top_logprobs"),
        { StreamOptions: not null, Stream: not true } => new("'stream_options' is only allowed when 'stream' is true.", "stream_options"),
        _ => null,
    };

    // llama-server looks for every stop string's partial match after each token it generates: a long one costs every token.
    private const int MaxStopLength = 256;

    private static bool TryReadStop(JsonElement stop, out IList<string>? sequences, [NotNullWhen(false)] out RequestError? error)
    {
        sequences = null;
        error = null;
        switch (stop.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return true;

            case JsonValueKind.String when stop.GetString()!.Length <= MaxStopLength:
                sequences = [stop.GetString()!];
                return true;

            case JsonValueKind.Array when stop.GetArrayLength() <= 4 &&
                                          stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String && s.GetString()!.Length is > 0 and <= MaxStopLength):
                sequences = [.. stop.EnumerateArray().Select(s => s.GetString()!)];
                return true;

            default:
                error = new($"'stop' must be a string or an array of up to 4 non-empty strings, each at most {MaxStopLength} characters.", "stop");
                return false;
        }
    }
}
