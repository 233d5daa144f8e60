using LlmApp.Bench.Measurement;

namespace LlmApp.Bench.Workload;

/// <summary>
/// An endpoint under test: an OpenAI base URL (ending in <c>/v1</c>), the API it is asked through (chat completions
/// unless said), and the processes whose CPU it costs.
/// </summary>
internal sealed record Target(string Name, Uri BaseUrl, ProcessCpu? Cpu, BenchApi Api = BenchApi.Chat)
{
    public Uri ChatCompletions => new($"{BaseUrl.AbsoluteUri.TrimEnd('/')}/chat/completions");

    /// <summary>Where requests go: the target's API's path under its base URL.</summary>
    public Uri Endpoint => new($"{BaseUrl.AbsoluteUri.TrimEnd('/')}/{ApiDialect.Path(Api)}");

    public Uri Models => new($"{BaseUrl.AbsoluteUri.TrimEnd('/')}/models");

    /// <summary>llama-server's <c>/tokenize</c>, beside <c>/v1</c>.</summary>
    public Uri Tokenize
    {
        get
        {
            var path = BaseUrl.AbsolutePath.TrimEnd('/');
            var root = path.EndsWith("/v1", StringComparison.Ordinal) ? path[..^"/v1".Length] : path;
            return new UriBuilder(BaseUrl) { Path = $"{root}/tokenize" }.Uri;
        }
    }
}
