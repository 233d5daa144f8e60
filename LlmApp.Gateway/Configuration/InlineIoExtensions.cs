using LlmApp.Runtime;
using Microsoft.Extensions.Logging.Console;

namespace LlmApp.Gateway.Configuration;

public static class InlineIoExtensions
{
    /// <summary>
    /// Runs socket completions, and Kestrel's request code with them, on the I/O threads (see <see cref="InlineIo"/>),
    /// and makes sure the one thing on that path that could block does not: the console logger drops a line when its
    /// queue is full instead of waiting.
    /// </summary>
    public static WebApplicationBuilder UseInlineIo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var inline = InlineIo.Enable();
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = inline);
        builder.Services.Configure<ConsoleLoggerOptions>(console => console.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite);
        return builder;
    }
}
