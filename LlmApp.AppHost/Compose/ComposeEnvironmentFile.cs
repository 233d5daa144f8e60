using System.Text;

namespace LlmApp.AppHost.Compose;

/// <summary>Writes the <c>.env</c> beside the compose file: one commented <c>NAME=value</c> per variable, sorted.</summary>
public static class ComposeEnvironmentFile
{
    public static string Serialize(IReadOnlyDictionary<string, ComposeVariable> variables, string header)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var text = new StringBuilder(header);
        foreach (var (name, variable) in variables.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            text.Append('\n');
            if (variable.Description is { Length: > 0 } description)
            {
                text.Append("# ").Append(description.ReplaceLineEndings(" ")).Append('\n');
            }

            text.Append(name).Append('=').Append(variable.Value).Append('\n');
        }

        return text.ToString();
    }
}
