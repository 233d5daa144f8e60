using System.Buffers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// The bottom of the embeddings pipeline: one OpenAI <c>/v1/embeddings</c> call to the embedding server for a batch of
/// inputs, through the backend's retries and circuit breaker. Vectors are asked for as floats, so that the gateway can
/// shorten them (<see cref="EmbeddingGenerationOptions.Dimensions"/>, which llama-server does not take) and encode
/// them as the client asked.
/// </summary>
internal sealed partial class BackendEmbeddingGenerator(ModelBackend backend, HttpMessageInvoker http, EmbeddingsOptions options)
    : IEmbeddingGenerator<EmbeddingInput, Embedding<float>>
{
    private readonly Uri _uri = new(backend.Options.Endpoint!, "v1/embeddings");

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<EmbeddingInput> values, EmbeddingGenerationOptions? generationOptions = null, CancellationToken cancellationToken = default)
    {
        var inputs = values as IReadOnlyList<EmbeddingInput> ?? [.. values];
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, backend.InService);
        byte[] body;
        try
        {
            using var response = await BackendSender.SendAsync(backend, http, _uri, Write(inputs, backend.Options.Model), closeConnection: false, call.Token);
            body = await response.Content.ReadAsByteArrayAsync(call.Token);
        }
        catch (BackendFailureException ex) when (TooLong(ex) is { } tooLong)
        {
            throw tooLong;
        }
        catch (Exception ex) when (backend.InService.IsCancellationRequested && !cancellationToken.IsCancellationRequested &&
                                   ex is OperationCanceledException or IOException)
        {
            throw new BackendFailureException(BackendFault.OutOfService, "The embedding server stopped answering and was taken out of service.");
        }

        var embeddings = Read(body, inputs.Count, out var usage);
        if (generationOptions?.Dimensions is { } dimensions)
        {
            embeddings = Shorten(embeddings, dimensions);
        }

        return new GeneratedEmbeddings<Embedding<float>>(embeddings) { Usage = usage };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static byte[] Write(IReadOnlyList<EmbeddingInput> inputs, string model)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, model);
            json.WriteStartArray("input"u8);
            foreach (var input in inputs)
            {
                if (input.Tokens is { } tokens)
                {
                    json.WriteStartArray();
                    foreach (var token in tokens)
                    {
                        json.WriteNumberValue(token);
                    }

                    json.WriteEndArray();
                }
                else
                {
                    json.WriteStringValue(input.Text);
                }
            }

            json.WriteEndArray();
            json.WriteString("encoding_format"u8, "float");
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private List<Embedding<float>> Read(byte[] body, int count, out UsageDetails? usage)
    {
        usage = null;
        var vectors = new float[count][];
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            foreach (var item in root.GetProperty("data").EnumerateArray())
            {
                var index = item.TryGetProperty("index", out var i) ? i.GetInt32() : Array.IndexOf(vectors, null);
                var values = item.GetProperty("embedding");
                var vector = new float[values.GetArrayLength()];
                var n = 0;
                foreach (var value in values.EnumerateArray())
                {
                    vector[n++] = value.GetSingle();
                }

                vectors[index] = vector;
            }

            if (root.TryGetProperty("usage", out var counts) && counts.ValueKind == JsonValueKind.Object)
            {
                usage = new UsageDetails
                {
                    InputTokenCount = counts.TryGetProperty("prompt_tokens", out var prompt) ? prompt.GetInt32() : null,
                    TotalTokenCount = counts.TryGetProperty("total_tokens", out var total) ? total.GetInt32() : null,
                };
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            throw new BackendFailureException(BackendFault.MalformedEvent, "The embedding server sent an answer that is not an embedding list.");
        }

        if (Array.IndexOf(vectors, null) is var missing and >= 0)
        {
            // A vector short is an answer cut short: never hand the client fewer vectors than inputs.
            throw new BackendFailureException(BackendFault.MalformedEvent, $"The embedding server sent no vector for input {missing}.");
        }

        return [.. vectors.Select(v => new Embedding<float>(v) { ModelId = options.Model, CreatedAt = DateTimeOffset.UtcNow })];
    }

    private List<Embedding<float>> Shorten(List<Embedding<float>> embeddings, int dimensions)
    {
        var native = embeddings[0].Vector.Length;
        if (dimensions > native)
        {
            throw new InvalidCallException($"'dimensions' is {dimensions}, more than the {native} of model '{options.Model}'.", "dimensions");
        }

        return dimensions == native
            ? embeddings
            : [.. embeddings.Select(e => new Embedding<float>(VectorShortener.Shorten(e.Vector.Span, dimensions)) { ModelId = e.ModelId, CreatedAt = e.CreatedAt })];
    }

    /// <summary>llama-server's refusal of an input longer than its batch, as a 400 that names the limit.</summary>
    private InvalidCallException? TooLong(BackendFailureException failure)
    {
        var match = TooLargeMessage().Match(failure.Message);
        if (!match.Success)
        {
            return null;
        }

        var limit = match.Groups["limit"].Success ? match.Groups["limit"].Value : options.MaxInputTokens?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";
        return new InvalidCallException(
            $"An input has {match.Groups["tokens"].Value} tokens, more than the {limit} tokens the embedding server takes in one input (its batch size).",
            "input", "context_length_exceeded");
    }

    // llama-server: "input (202 tokens) is too large to process. increase the physical batch size (current batch size: 64)".
    [GeneratedRegex(@"input \((?<tokens>\d+) tokens\) is too large to process(.*current batch size: (?<limit>\d+))?")]
    private static partial Regex TooLargeMessage();
}
