using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// What DataAnnotations cannot say about <c>Backend</c>: that there is a backend at all, and that a list of them has
/// unique names, absolute http(s) URLs and positive capacities. Each problem is one line naming the setting.
/// </summary>
internal sealed class BackendOptionsValidator : IValidateOptions<BackendOptions>
{
    public ValidateOptionsResult Validate(string? name, BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Backends.Count == 0)
        {
            return options.Endpoint is null
                ? ValidateOptionsResult.Fail("Backend:Endpoint is required (the backend's root URL, such as http://127.0.0.1:8080), or Backend:Backends, a list of them.")
                : ValidateOptionsResult.Success;
        }

        var problems = new List<string>();
        if (options.Endpoint is not null)
        {
            problems.Add("Backend:Endpoint and Backend:Backends are both set; give one backend or a list, not both.");
        }

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < options.Backends.Count; i++)
        {
            var backend = options.Backends[i];
            var setting = $"Backend:Backends:{i}";
            if (string.IsNullOrWhiteSpace(backend.Name))
            {
                problems.Add($"{setting}:Name is required.");
            }
            else if (seen.TryGetValue(backend.Name, out var first))
            {
                problems.Add($"{setting}:Name '{backend.Name}' is also Backend:Backends:{first}:Name; each backend needs a name of its own.");
            }
            else
            {
                seen[backend.Name] = i;
            }

            if (backend.Endpoint is not { IsAbsoluteUri: true, Scheme: "http" or "https" })
            {
                problems.Add($"{setting}:Endpoint must be an absolute http or https URL, such as http://127.0.0.1:8080{(backend.Endpoint is null ? "" : $"; it is '{backend.Endpoint}'")}.");
            }

            if (backend.Capacity is <= 0)
            {
                problems.Add($"{setting}:Capacity must be a positive number of requests, or unset to learn it from the backend.");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
