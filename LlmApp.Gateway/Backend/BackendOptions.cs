using System.ComponentModel.DataAnnotations;
using LlmApp.Gateway.Configuration;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Where the OpenAI-compatible inference server (llama-server today, vLLM later) lives and what it serves.
/// Bound from the <c>Backend</c> section; the AppHost sets <c>Backend__Endpoint</c>, <c>Backend__Model</c> and
/// <c>Backend__Kind</c>.
/// </summary>
public sealed class BackendOptions
{
    public const string SectionName = "Backend";

    /// <summary>The backend's name in logs and metrics; the AppHost gives its resource name.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Name { get; set; } = "llm";

    /// <summary>Root URL of the backend, without <c>/v1</c>, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    [Required]
    [AbsoluteHttpUri]
    public Uri? Endpoint { get; set; }

    /// <summary>The model id clients send and see in <c>/v1/models</c>; the backend serves it under this alias.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Model { get; set; } = "";

    /// <summary>What kind of server it is; it decides how capacity is learned and who calls tools.</summary>
    public BackendKind Kind { get; set; } = BackendKind.LlamaCpp;

    /// <summary>API key the backend expects, if any (vLLM's <c>--api-key</c>, llama-server's <c>--api-key</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Tokens of context a request gets (llama-server's context per slot); bounds max_tokens. Unset: not checked.</summary>
    [Range(1, int.MaxValue)]
    public int? ContextLength { get; set; }

    /// <summary>
    /// Whether the backend does tool calling itself (vLLM with a tool parser, llama-server with --jinja). When false,
    /// the gateway constrains generation to a tool call with a JSON schema, which works on any model. Unset: true
    /// for an <see cref="BackendKind.OpenAI"/> backend, false for llama-server.
    /// </summary>
    public bool? NativeToolCalls { get; set; }

    public bool CallsToolsItself => NativeToolCalls ?? Kind == BackendKind.OpenAI;
}

/// <summary>The kinds of OpenAI-compatible server the gateway knows how to sit in front of.</summary>
public enum BackendKind
{
    /// <summary>llama.cpp's llama-server: its slots (from <c>/props</c>) are its capacity; tool calls are emulated.</summary>
    LlamaCpp,

    /// <summary>Any other OpenAI-compatible server (vLLM): capacity comes from settings, and it calls tools itself.</summary>
    OpenAI,
}
