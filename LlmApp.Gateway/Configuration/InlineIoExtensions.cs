using LlmApp.Runtime;

namespace LlmApp.Gateway.Configuration;

public static class InlineIoExtensions
{
    /// <summary>
    /// Runs socket completions, and Kestrel's request code with them, on the I/O threads (see <see cref="InlineIo"/>).
    /// Nothing on that path may block: the one thing that could, the console log, is written by its own thread, which
    /// drops lines rather than make a request wait when standard output takes nothing (<c>BufferedConsoleWriter</c>).
    /// </summary>
    public static WebApplicationBuilder UseInlineIo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var inline = InlineIo.Enable();
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = inline);
        return builder;
    }
}
