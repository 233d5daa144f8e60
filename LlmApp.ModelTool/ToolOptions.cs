using LlmApp.Models;

namespace LlmApp.ModelTool;

/// <summary>
/// What llmapp-model was asked to do. Each option comes from its flag or else its environment variable, so the compose
/// file can set the variables once and a person at a shell can override them with flags.
/// </summary>
public sealed record ToolOptions(string Model, string ModelsDirectory, string Link, string? Mounted, Uri Endpoint, string? CatalogPath, string? BackendKeyFile = null, bool KeyOnly = false)
{
    public const string Usage = """
        llmapp-model: fetch a catalog model into a models directory and link it for llama-server.

        Usage:
          llmapp-model --model <catalog name> --models-dir <dir> --link <path>
                       [--mounted <file>] [--endpoint <url>] [--catalog <path>] [--backend-key-file <path>]
          llmapp-model --key-only --backend-key-file <path>

        Options (each also read from the environment variable shown; the flag wins):
          --model <name>       LLMAPP_MODEL         catalog name of the model to fetch
          --models-dir <dir>   LLMAPP_MODELS_DIR    where models are downloaded (kept across runs)
          --link <path>        LLMAPP_MODEL_LINK    symlink pointed at the model llama-server loads
          --mounted <file>     LLMAPP_MODEL_MOUNTED a local .gguf to use instead; a missing, empty or
                                                    non-regular file (/dev/null) counts as not mounted,
                                                    a directory is an error
          --endpoint <url>     LLMAPP_HF_ENDPOINT   Hugging Face or a mirror (default https://huggingface.co)
          --catalog <path>                          catalog JSON (default: models/catalog.json beside the tool)
          --backend-key-file <path>
                               LLMAPP_BACKEND_KEY_FILE
                                                    where the key llama-server and the gateway share is kept;
                                                    made (random, 256 bits) if it does not exist yet
          --key-only                                only make the backend key (for a backend such as vLLM
                                                    that fetches its own model); no model options needed
          -h, --help                                show this help

        A download resumes a partial file and is verified against the catalog's sha256; a verified file is
        not fetched again. HF_TOKEN, when set, is sent as a bearer token.

        Exit codes: 0 when the link points at a usable model; 1 on an error (one line on stderr);
        130 or 143 when stopped by SIGINT or SIGTERM (a partial download is kept and resumed next time).
        """;

    private static readonly Uri s_defaultEndpoint = new("https://huggingface.co/");

    // Flag → environment variable; the catalog path has no variable because the image ships its catalog.
    private static readonly Dictionary<string, string?> s_options = new(StringComparer.Ordinal)
    {
        ["--model"] = "LLMAPP_MODEL",
        ["--models-dir"] = "LLMAPP_MODELS_DIR",
        ["--link"] = "LLMAPP_MODEL_LINK",
        ["--mounted"] = "LLMAPP_MODEL_MOUNTED",
        ["--endpoint"] = "LLMAPP_HF_ENDPOINT",
        ["--catalog"] = null,
        ["--backend-key-file"] = "LLMAPP_BACKEND_KEY_FILE",
    };

    /// <summary>The options, or null when help was asked for. A mistake is a <see cref="SetupException"/> naming the flag.</summary>
    public static ToolOptions? Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var keyOnly = false;
        for (var i = 0; i < args.Count; i++)
        {
            var (name, value) = args[i].Split('=', 2) is [var n, var v] ? (n, (string?)v) : (args[i], null);
            if (name is "-h" or "--help")
            {
                return null;
            }

            if (name == "--key-only" && value is null)
            {
                keyOnly = true;
                continue;
            }

            if (!s_options.ContainsKey(name))
            {
                throw new SetupException($"unknown option '{args[i]}'; see --help.");
            }

            value ??= i + 1 < args.Count ? args[++i] : throw new SetupException($"{name} needs a value.");
            flags[name] = value;
        }

        string? Get(string flag) =>
            flags.TryGetValue(flag, out var value) ? value
            : s_options[flag] is { } variable && environment(variable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : null;

        string Required(string flag) =>
            Get(flag) is { Length: > 0 } value ? value : throw new SetupException($"{flag} (or {s_options[flag]}) is required.");

        if (keyOnly)
        {
            return new ToolOptions("", "", "", null, s_defaultEndpoint, null, Path.GetFullPath(Required("--backend-key-file")), KeyOnly: true);
        }

        return new ToolOptions(
            Required("--model"),
            Path.GetFullPath(Required("--models-dir")),
            Path.GetFullPath(Required("--link")),
            Get("--mounted") is { Length: > 0 } mounted ? Path.GetFullPath(mounted) : null,
            Get("--endpoint") is { } endpoint ? ParseEndpoint(endpoint) : s_defaultEndpoint,
            Get("--catalog"),
            Get("--backend-key-file") is { Length: > 0 } keyFile ? Path.GetFullPath(keyFile) : null);
    }

    private static Uri ParseEndpoint(string value)
    {
        // A trailing slash keeps a mirror's path prefix when the downloader appends "<repo>/resolve/...".
        var text = value.EndsWith('/') ? value : value + "/";
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new SetupException($"--endpoint '{value}' is not an http(s) URL.");
    }
}
