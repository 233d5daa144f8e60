using System.ComponentModel.DataAnnotations;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Where the OpenAI-compatible inference server (llama-server today, vLLM later) lives and what it serves.
/// Bound from the <c>Backend</c> section; the AppHost sets <c>Backend__Endpoint</c> and <c>Backend__Model</c>.
/// </summary>
public sealed class BackendOptions
{
    public const string SectionName = "Backend";

    /// <summary>Root URL of the backend, without <c>/v1</c>, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    [Required]
    public Uri? Endpoint { get; set; }

    /// <summary>The model id clients send and see in <c>/v1/models</c>; the backend serves it under this alias.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Model { get; set; } = "";

    /// <summary>API key the backend expects, if any (vLLM's <c>--api-key</c>, llama-server's <c>--api-key</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Tokens of context a request gets (llama-server's context per slot); bounds max_tokens. Unset: not checked.</summary>
    [Range(1, int.MaxValue)]
    public int? ContextLength { get; set; }

    /// <summary>
    /// Whether the backend does tool calling itself (vLLM with a tool parser, llama-server with --jinja). When false,
    /// the gateway constrains generation to a tool call with a JSON schema, which works on any model.
    /// </summary>
    public bool NativeToolCalls { get; set; }
}
