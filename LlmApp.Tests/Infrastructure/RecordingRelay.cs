using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// A TCP pass-through between the gateway and a real backend that keeps a copy of every byte the gateway sends: the
/// way a test sees what a backend was asked, when the backend itself does not show it. Not a fake: every answer is the
/// real backend's, byte for byte.
/// </summary>
public sealed class RecordingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<byte> _sent = [];
    private readonly Task _accepting;

    public RecordingRelay(Uri upstream)
    {
        _upstream = upstream;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    /// <summary>Where the gateway is pointed instead of the backend.</summary>
    public Uri Address { get; }

    /// <summary>Everything sent towards the backend so far, as text (HTTP/1.1 request heads and JSON bodies).</summary>
    public string Sent => SentSince(0);

    /// <summary>Where the record ends now: what a test sends next is <see cref="SentSince"/> this mark.</summary>
    public int Mark()
    {
        lock (_sent)
        {
            return _sent.Count;
        }
    }

    public string SentSince(int mark)
    {
        lock (_sent)
        {
            return Encoding.UTF8.GetString([.. _sent.Skip(mark)]);
        }
    }

    /// <summary>The JSON body of the last <c>POST</c> to <paramref name="path"/> since <paramref name="mark"/>, by its Content-Length.</summary>
    public string LastRequestBody(string path, int mark)
    {
        var sent = SentSince(mark);
        var start = sent.LastIndexOf($"POST {path} HTTP/1.1\r\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"No POST {path} was sent; sent:\n{sent}");
        var headEnd = sent.IndexOf("\r\n\r\n", start, StringComparison.Ordinal);
        var length = sent[start..headEnd].Split("\r\n")
            .Select(line => line.Split(':', 2))
            .Where(header => header.Length == 2 && header[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(header => int.Parse(header[1].Trim(), System.Globalization.CultureInfo.InvariantCulture))
            .Single();
        return sent.Substring(headEnd + 4, length);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
                var toServer = PumpAsync(client.GetStream(), server.GetStream(), record: true);
                var toClient = PumpAsync(server.GetStream(), client.GetStream(), record: false);
                // Either side closing ends the exchange, as a connection through a proxy does.
                await Task.WhenAny(toServer, toClient);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool record)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (record)
                {
                    lock (_sent)
                    {
                        _sent.AddRange(buffer.AsSpan(0, read));
                    }
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
