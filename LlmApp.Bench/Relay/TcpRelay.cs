using System.Net;
using System.Net.Sockets;

namespace LlmApp.Bench.Relay;

/// <summary>
/// The floor of what any .NET gateway can cost per streamed token on a machine: a TCP relay that does nothing but an
/// awaited socket read and an awaited socket write for whatever arrives, in both directions, with no HTTP, no JSON and
/// no allocation per read. Run it with the gateway's runtime settings and compare its CPU per token with the gateway's.
/// </summary>
internal static class TcpRelay
{
    public static async Task RunAsync(IPEndPoint listen, DnsEndPoint upstream, TextWriter log, CancellationToken cancellationToken)
    {
        using var listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(listen);
        listener.Listen(512);
        await log.WriteLineAsync($"relay: {listener.LocalEndPoint} -> {upstream.Host}:{upstream.Port}");
        while (!cancellationToken.IsCancellationRequested)
        {
            var client = await listener.AcceptAsync(cancellationToken);
            _ = RelayAsync(client, upstream, cancellationToken);
        }
    }

    private static async Task RelayAsync(Socket client, DnsEndPoint upstream, CancellationToken cancellationToken)
    {
        using (client)
        using (var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true })
        {
            client.NoDelay = true;
            try
            {
                await server.ConnectAsync(upstream, cancellationToken);
                // Either direction ending ends both: llama-server closes after a streamed answer.
                await Task.WhenAny(CopyAsync(client, server, cancellationToken), CopyAsync(server, client, cancellationToken));
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
            }
        }
    }

    private static async Task CopyAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }
}
