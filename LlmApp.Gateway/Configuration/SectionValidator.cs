using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Configuration;

/// <summary>
/// Checks a settings class's DataAnnotations and words each failure with the setting's full name, as the user
/// writes it (<c>Resilience:IdleTimeout</c>, environment <c>Resilience__IdleTimeout</c>), so that a bad value
/// names what to fix.
/// </summary>
internal sealed class SectionValidator<TOptions>(string section) : IValidateOptions<TOptions> where TOptions : class
{
    private static readonly PropertyInfo[] s_properties = typeof(TOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.GetCustomAttributes<ValidationAttribute>().Any())
        .ToArray();

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = new List<string>();
        foreach (var property in s_properties)
        {
            var context = new ValidationContext(options) { MemberName = property.Name, DisplayName = $"{section}:{property.Name}" };
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateProperty(property.GetValue(options), context, results))
            {
                failures.AddRange(results.Select(r => r.ErrorMessage ?? $"{context.DisplayName} is not valid."));
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
