using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Configuration;

public static class GatewayRunExtensions
{
    /// <summary>The argument that checks the settings and exits, 0 when they are good, without listening.</summary>
    public const string CheckArgument = "--check";

    /// <summary>
    /// Builds and runs the gateway. Settings that are missing, out of range or of the wrong type stop it before it
    /// listens, with one line per problem naming the setting and exit code 1, instead of a stack trace.
    /// </summary>
    public static int RunGateway(this WebApplicationBuilder builder, Action<WebApplication> map, bool checkOnly = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(map);
        try
        {
            var app = builder.Build();
            // The check the host makes when it starts, made first so that the host does not log it with a stack trace.
            app.Services.GetService<IStartupValidator>()?.Validate();
            if (checkOnly)
            {
                Console.Out.WriteLine("gateway: the settings are good");
                return 0;
            }

            map(app);
            app.Run();
            return 0;
        }
        catch (Exception ex) when (SettingProblems(ex) is { Count: > 0 } problems)
        {
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"gateway: error: {problem}");
            }

            return 1;
        }
    }

    /// <summary>What is wrong with the settings, if that is what <paramref name="exception"/> is about; otherwise nothing.</summary>
    private static List<string>? SettingProblems(Exception exception) => exception switch
    {
        OptionsValidationException invalid => [.. invalid.Failures],
        // The configuration binder's own words name the setting: "Failed to convert configuration value 'x' at 'Backend:Kind' ...".
        InvalidOperationException { Message: var message } when message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => [message],
        AggregateException all when all.InnerExceptions.Select(SettingProblems).ToList() is var inner && inner.All(p => p is not null) =>
            [.. inner.SelectMany(p => p!)],
        _ => null,
    };
}
