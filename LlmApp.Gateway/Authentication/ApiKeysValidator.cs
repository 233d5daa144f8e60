using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Authentication;

/// <summary>At start, a keys file that is missing or invalid, an empty key or two keys of one name stop the gateway, one line each.</summary>
internal sealed class ApiKeysValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = ApiKeyLoader.Load(options).Problems;
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
