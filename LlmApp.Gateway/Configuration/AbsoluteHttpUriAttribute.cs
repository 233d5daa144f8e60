using System.ComponentModel.DataAnnotations;

namespace LlmApp.Gateway.Configuration;

/// <summary>An absolute <c>http</c> or <c>https</c> URL, such as <c>http://127.0.0.1:8080</c>.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class AbsoluteHttpUriAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is null or Uri { IsAbsoluteUri: true, Scheme: "http" or "https" }
            ? ValidationResult.Success
            : new ValidationResult($"{validationContext.DisplayName} must be an absolute http or https URL, such as http://127.0.0.1:8080.",
                [validationContext.MemberName!]);
}
