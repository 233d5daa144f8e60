using System.Globalization;

namespace LlmApp.AppHost.Compose;

/// <summary>
/// Turns the app model's values (environment and arguments) into compose text: an endpoint becomes
/// <c>http://service:port</c> on the compose network, a parameter becomes <c>${NAME}</c> with its value in
/// <c>.env</c>, an expression is formatted from its parts. What cannot be expressed in compose is an error naming it.
/// </summary>
public sealed class ComposeValueResolver
{
    /// <summary>The <c>.env</c> entries the resolved values refer to, by variable name.</summary>
    public SortedDictionary<string, ComposeVariable> EnvironmentFile { get; } = new(StringComparer.Ordinal);

    public async ValueTask<string> ResolveAsync(object? value, string usedBy, CancellationToken cancellationToken)
    {
        switch (value)
        {
            case null:
                return "";
            case string text:
                return text;
            case bool flag:
                return flag ? "true" : "false";
            case IFormattable formattable:
                return formattable.ToString(null, CultureInfo.InvariantCulture);
            case ParameterResource parameter:
                return await ParameterAsync(parameter, cancellationToken);
            case EndpointReference endpoint:
                return Url(endpoint, usedBy);
            case EndpointReferenceExpression expression:
                return Property(expression, usedBy);
            case ReferenceExpression expression:
                var parts = new object[expression.ValueProviders.Count];
                for (var i = 0; i < parts.Length; i++)
                {
                    parts[i] = await ResolveAsync(expression.ValueProviders[i], usedBy, cancellationToken);
                }

                return string.Format(CultureInfo.InvariantCulture, expression.Format, parts);
            default:
                throw new InvalidOperationException($"{usedBy}: a {value.GetType().Name} cannot be written into a compose file.");
        }
    }

    /// <summary>The variable name of a parameter in <c>.env</c>: <c>llmapp-model</c> is <c>LLMAPP_MODEL</c>.</summary>
    public static string VariableName(string parameterName) =>
        parameterName.Replace('-', '_').ToUpperInvariant();

    private async ValueTask<string> ParameterAsync(ParameterResource parameter, CancellationToken cancellationToken)
    {
        var name = VariableName(parameter.Name);
        // A secret never goes into a file: .env names it empty, to be set in the shell or filled in on the server.
        var value = parameter.Secret ? "" : await parameter.GetValueAsync(cancellationToken) ?? "";
        EnvironmentFile[name] = new ComposeVariable(value, parameter.Description);
        return $"${{{name}}}";
    }

    private static string Url(EndpointReference endpoint, string usedBy) =>
        $"{endpoint.EndpointAnnotation.UriScheme}://{endpoint.Resource.Name}:{TargetPort(endpoint, usedBy)}";

    private static string Property(EndpointReferenceExpression expression, string usedBy) => expression.Property switch
    {
        EndpointProperty.Url => Url(expression.Endpoint, usedBy),
        EndpointProperty.Host or EndpointProperty.IPV4Host => expression.Endpoint.Resource.Name,
        EndpointProperty.Port or EndpointProperty.TargetPort => TargetPort(expression.Endpoint, usedBy),
        EndpointProperty.HostAndPort => $"{expression.Endpoint.Resource.Name}:{TargetPort(expression.Endpoint, usedBy)}",
        EndpointProperty.Scheme => expression.Endpoint.EndpointAnnotation.UriScheme,
        _ => throw new InvalidOperationException($"{usedBy}: endpoint property {expression.Property} has no compose equivalent."),
    };

    // Services reach each other on the compose network at the port the container listens on.
    private static string TargetPort(EndpointReference endpoint, string usedBy) =>
        endpoint.EndpointAnnotation.TargetPort?.ToString(CultureInfo.InvariantCulture)
        ?? throw new InvalidOperationException(
            $"{usedBy}: the endpoint '{endpoint.EndpointName}' of '{endpoint.Resource.Name}' has no container port; set its TargetPort for publishing.");
}
