using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace LlmApp.Gateway.OpenAI;

/// <summary>Validates an embeddings request and reads its <c>input</c>, in each of the four shapes OpenAI accepts.</summary>
internal static class EmbeddingRequestMapper
{
    /// <summary>OpenAI's limit on inputs in one request.</summary>
    public const int MaxInputs = 2048;

    public static bool TryMap(EmbeddingRequest request, bool matryoshka, [NotNullWhen(true)] out List<EmbeddingInput>? inputs, [NotNullWhen(false)] out RequestError? error)
    {
        inputs = null;
        error = request switch
        {
            { Model: null or "" } => new("'model' is a required property.", "model"),
            { EncodingFormat: not (null or "float" or "base64") } =>
                new($"'{request.EncodingFormat}' is not a valid encoding_format: use 'float' or 'base64'.", "encoding_format"),
            { Dimensions: <= 0 } => new("'dimensions' must be a positive integer.", "dimensions"),
            { Dimensions: not null } when !matryoshka =>
                new($"Model '{request.Model}' does not support 'dimensions': it was not trained for shortened vectors.", "dimensions"),
            _ => null,
        };

        return error is null && TryReadInput(request.Input, out inputs, out error);
    }

    private static bool TryReadInput(JsonElement input, [NotNullWhen(true)] out List<EmbeddingInput>? inputs, [NotNullWhen(false)] out RequestError? error)
    {
        inputs = null;
        error = null;
        switch (input.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                error = new("'input' is a required property.", "input");
                return false;

            case JsonValueKind.String:
                return TryAddText(input, "input", inputs = [], out error);

            case JsonValueKind.Array when input.GetArrayLength() == 0:
                error = new("'input' must not be empty.", "input");
                return false;

            case JsonValueKind.Array when input.GetArrayLength() > MaxInputs:
                error = new($"'input' has {input.GetArrayLength()} items; at most {MaxInputs} are allowed.", "input");
                return false;

            case JsonValueKind.Array when input[0].ValueKind == JsonValueKind.Number:
                // One input as token ids.
                return TryAddTokens(input, "input", inputs = [], out error);

            case JsonValueKind.Array:
                inputs = new List<EmbeddingInput>(input.GetArrayLength());
                var i = 0;
                foreach (var item in input.EnumerateArray())
                {
                    var param = $"input[{i++}]";
                    var added = item.ValueKind switch
                    {
                        JsonValueKind.String => TryAddText(item, param, inputs, out error),
                        JsonValueKind.Array => TryAddTokens(item, param, inputs, out error),
                        _ => Fail(out error, param),
                    };
                    if (!added)
                    {
                        return Fail(out error, param, error);
                    }
                }

                return true;

            default:
                return Fail(out error, "input");
        }
    }

    private static bool TryAddText(JsonElement text, string param, List<EmbeddingInput> inputs, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        if (text.GetString() is not { Length: > 0 } value)
        {
            error = new($"'{param}' must not be an empty string.", param);
            return false;
        }

        inputs.Add(EmbeddingInput.FromText(value));
        return true;
    }

    private static bool TryAddTokens(JsonElement tokens, string param, List<EmbeddingInput> inputs, [NotNullWhen(false)] out RequestError? error)
    {
        error = null;
        var ids = new List<int>(tokens.GetArrayLength());
        foreach (var token in tokens.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Number || !token.TryGetInt32(out var id) || id < 0)
            {
                error = new($"'{param}' must be an array of token ids (non-negative integers).", param);
                return false;
            }

            ids.Add(id);
        }

        if (ids.Count == 0)
        {
            error = new($"'{param}' must not be an empty array of tokens.", param);
            return false;
        }

        inputs.Add(EmbeddingInput.FromTokens(ids));
        return true;
    }

    private static bool Fail([NotNullWhen(false)] out RequestError? error, string param, RequestError? reason = null)
    {
        error = reason ?? new($"'{param}' must be a string, an array of strings, an array of token ids, or an array of arrays of token ids.", param);
        return false;
    }
}
