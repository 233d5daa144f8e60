namespace Aspire.Hosting;

/// <summary>
/// One llama-server setting in both of its forms: the command line (the native executable) and the
/// <c>LLAMA_ARG_*</c> environment variable (the container, where compose shows each setting by name). A setting
/// without an environment form goes on the container's command line.
/// </summary>
internal sealed record LlamaServerOption(string? EnvironmentVariable, string EnvironmentValue, params string[] Arguments);
