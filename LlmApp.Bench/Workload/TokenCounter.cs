using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmApp.Bench.Workload;

/// <summary>How a prompt's tokens were counted.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TokenCount>))]
internal enum TokenCount
{
    /// <summary>The server's <c>/tokenize</c> (llama-server): the text's own tokens.</summary>
    [JsonStringEnumMemberName("tokenize")]
    Tokenize,

    /// <summary>
    /// The chat endpoint's <c>usage.prompt_tokens</c>, less what the same request with empty content counts (the chat
    /// template's tokens): the text's own tokens, from any OpenAI-compatible server.
    /// </summary>
    [JsonStringEnumMemberName("usage")]
    Usage,

    /// <summary>No server counted them: four characters a token.</summary>
    [JsonStringEnumMemberName("estimate")]
    Estimate,
}

/// <summary>Counts a text's tokens with the server under test: its <c>/tokenize</c>, or else its chat endpoint's usage.</summary>
internal sealed class TokenCounter
{
    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly string _model;
    private readonly int _templateTokens;

    private TokenCounter(HttpClient http, Uri url, string model, int templateTokens, TokenCount kind)
    {
        _http = http;
        _url = url;
        _model = model;
        _templateTokens = templateTokens;
        Kind = kind;
    }

    public TokenCount Kind { get; }

    /// <summary>The first of the targets' <c>/tokenize</c> that answers; else the first target's chat usage; else null.</summary>
    public static async Task<TokenCounter?> FindAsync(HttpClient http, IReadOnlyList<Target> targets, string model, CancellationToken cancellationToken)
    {
        foreach (var target in targets)
        {
            var tokenize = new TokenCounter(http, target.Tokenize, model: "", 0, TokenCount.Tokenize);
            if (await tokenize.CountAsync("Request 0: the light house", cancellationToken) is not null)
            {
                return tokenize;
            }
        }

        // A one-token answer to an empty message: the prompt the server reads is then the chat template alone.
        var usage = new TokenCounter(http, targets[0].ChatCompletions, model, 0, TokenCount.Usage);
        return await usage.CountAsync("", cancellationToken) is { } template
            ? new TokenCounter(http, targets[0].ChatCompletions, model, template, TokenCount.Usage)
            : null;
    }

    /// <summary>The tokens of <paramref name="text"/>, or null when the server would not count them.</summary>
    public async Task<int?> CountAsync(string text, CancellationToken cancellationToken)
    {
        try
        {
            using var response = Kind == TokenCount.Tokenize
                ? await _http.PostAsJsonAsync(_url, new Dictionary<string, string> { ["content"] = text }, cancellationToken)
                : await _http.PostAsync(_url, new ByteArrayContent(ApiDialect.Body(BenchApi.Chat, _model, [("user", text)], 1, false, 0, false))
                {
                    Headers = { ContentType = new("application/json") },
                }, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return Kind == TokenCount.Tokenize ? Tokens(body.RootElement) : PromptTokens(body.RootElement) - _templateTokens;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static int? Tokens(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("tokens", out var ids) && ids.ValueKind == JsonValueKind.Array ? ids.GetArrayLength() : null;

    private static int? PromptTokens(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object &&
        usage.TryGetProperty("prompt_tokens", out var tokens) && tokens.TryGetInt32(out var count)
            ? count
            : null;
}
