using LlmApp.Gateway.Configuration;
using Microsoft.Extensions.Options;
using LlmApp.ApiKeys;

namespace LlmApp.Gateway.Authentication;

/// <summary>
/// At start, a keys file that is missing, not a file or invalid, an empty key or two keys of one name stop the gateway,
/// one line each; so does having no key at all where other machines can reach <c>/v1</c>, unless that is asked for.
/// </summary>
internal sealed class ApiKeysValidator(IConfiguration configuration) : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = ApiKeyLoader.Load(options.Keys, options.KeysFile).Problems;
        if (options.IsOpen && !options.AllowAnonymous && ReachableFromOtherMachines(options) is { } where)
        {
            problems.Add($"No API key is configured and /v1 would be open to other machines ({where}): set Auth:Keys or Auth:KeysFile " +
                         "(compose: LLMAPP_API_KEY or LLMAPP_API_KEYS_DIR; dotnet run: Llm:ApiKey or Llm:ApiKeysFile), or " +
                         "Auth:AllowAnonymous=true (compose: LLMAPP_ALLOW_ANONYMOUS=true) to serve it without keys on purpose.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>Where <c>/v1</c> would face the network ("published on 0.0.0.0", "listening on http://*:8080"), or null on loopback only.</summary>
    private string? ReachableFromOtherMachines(AuthOptions options)
    {
        if (options.PublishedAddress is { Length: > 0 } published)
        {
            return ListenAddresses.IsLoopback(published) ? null : $"published on {published}";
        }

        var open = ListenAddresses.From(configuration).Where(address => !ListenAddresses.IsLoopback(ListenAddresses.HostOf(address))).ToList();
        return open.Count > 0 ? $"listening on {string.Join(", ", open)}" : null;
    }
}
