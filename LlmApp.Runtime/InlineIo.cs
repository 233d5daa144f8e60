namespace LlmApp.Runtime;

/// <summary>
/// Socket completions run on the thread that polls the sockets instead of being handed to the thread pool: a
/// streamed token is then read, turned into a chunk and written without waking another thread, which measured as
/// the larger part of a token's CPU on 2 cores (docs/performance.md). It is safe only while nothing on those paths
/// blocks: the gateway's request path and the relay are asynchronous throughout, and the gateway's logging drops
/// lines rather than wait on a full queue. Set <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> to turn it off.
/// </summary>
public static class InlineIo
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Turns inline completions on unless the environment says otherwise; call before the first socket is used.</summary>
    public static bool Enable()
    {
        // System.Net.Sockets reads this once, when its first socket engine starts.
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }

        return Environment.GetEnvironmentVariable(Variable) == "1";
    }
}
