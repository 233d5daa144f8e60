using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.OpenAI;

/// <summary>
/// An OpenAI embedding list, written straight to the response: each vector as numbers, or as <c>base64</c> of its
/// little-endian float32 bytes (what the OpenAI SDKs ask for by default, and decode), then the usage.
/// </summary>
internal sealed class EmbeddingListResult(GeneratedEmbeddings<Embedding<float>> embeddings, string model, bool base64) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.ContentType = "application/json";
        await using (var json = new Utf8JsonWriter(httpContext.Response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteString("object"u8, "list");
            json.WriteStartArray("data"u8);
            for (var i = 0; i < embeddings.Count; i++)
            {
                json.WriteStartObject();
                json.WriteString("object"u8, "embedding");
                json.WriteNumber("index"u8, i);
                var vector = embeddings[i].Vector.Span;
                if (base64)
                {
                    json.WriteBase64String("embedding"u8, MemoryMarshal.AsBytes(vector));
                }
                else
                {
                    json.WriteStartArray("embedding"u8);
                    foreach (var value in vector)
                    {
                        json.WriteNumberValue(value);
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("model"u8, model);
            if (embeddings.Usage is { InputTokenCount: { } input })
            {
                json.WriteStartObject("usage"u8);
                json.WriteNumber("prompt_tokens"u8, input);
                json.WriteNumber("total_tokens"u8, embeddings.Usage.TotalTokenCount ?? input);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }
}
