using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Configuration;

public static class GatewayRunExtensions
{
    /// <summary>
    /// Runs the gateway; a setting that is missing or out of range stops it with one line naming the setting and
    /// exit code 1, instead of a stack trace.
    /// </summary>
    public static int RunGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            app.Run();
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                Console.Error.WriteLine($"gateway: error: {failure}");
            }

            return 1;
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            // The configuration binder's own words name the setting: "Failed to convert configuration value at 'Backend:Kind' ...".
            Console.Error.WriteLine($"gateway: error: {ex.Message}");
            return 1;
        }
    }
}
