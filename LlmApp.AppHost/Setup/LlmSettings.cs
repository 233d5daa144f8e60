namespace LlmApp.AppHost.Setup;

/// <summary>
/// The <c>Llm</c> configuration section of the AppHost (appsettings.json, <c>Llm__*</c> environment
/// variables or <c>--Llm:*</c> arguments). The README's configuration table documents each one.
/// </summary>
public sealed class LlmSettings
{
    public const string SectionName = "Llm";

    /// <summary>A catalog name (see models/catalog.json) or a path to a .gguf file.</summary>
    public string Model { get; set; } = "llama-3.1-8b-instruct";

    /// <summary>The model id clients send; defaults to the catalog name or the file name without .gguf.</summary>
    public string? ServedModelName { get; set; }

    /// <summary>A llama-server binary to use instead of looking on PATH or building one.</summary>
    public string? ServerPath { get; set; }

    /// <summary>Where downloaded models and built llama-server binaries live; defaults to the user's cache directory.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Base URL models are downloaded from (a Hugging Face mirror, say).</summary>
    public Uri HuggingFaceEndpoint { get; set; } = new("https://huggingface.co");

    /// <summary>Port of the gateway's OpenAI API on localhost.</summary>
    public int GatewayPort { get; set; } = 8000;

    /// <summary>llama.cpp CPU and memory settings.</summary>
    public LlamaCppSettings LlamaCpp { get; set; } = new();
}
