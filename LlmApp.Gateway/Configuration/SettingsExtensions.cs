using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Configuration;

internal static class SettingsExtensions
{
    /// <summary>Binds <typeparamref name="TOptions"/> to <paramref name="section"/> and validates it when the gateway starts.</summary>
    public static OptionsBuilder<TOptions> AddSettings<TOptions>(this IHostApplicationBuilder builder, string section) where TOptions : class
    {
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new SectionValidator<TOptions>(section));
        return builder.Services.AddOptions<TOptions>()
            .Bind(builder.Configuration.GetSection(section))
            .ValidateOnStart();
    }
}
