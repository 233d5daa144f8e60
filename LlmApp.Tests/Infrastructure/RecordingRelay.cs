using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LlmApp.Tests.Infrastructure;

/// <summary>
/// A TCP pass-through between the gateway and a real backend that keeps a copy of every byte the gateway sends, one
/// record per connection (so that a health probe on another connection never lands inside a request): the way a test
/// sees what a backend was asked, when the backend itself does not show it. Not a fake: every answer is the real
/// backend's, byte for byte.
/// </summary>
public sealed class RecordingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<List<byte>> _connections = [];
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

    /// <summary>Everything sent towards the backend so far, as text (HTTP/1.1 request heads and JSON bodies), connection by connection.</summary>
    public string Sent => string.Concat(SentSince(new RelayMark([])));

    /// <summary>Where each connection's record ends now: what a test sends next is <see cref="SentSince"/> this mark.</summary>
    public RelayMark Mark()
    {
        lock (_connections)
        {
            return new RelayMark([.. _connections.Select(c => c.Count)]);
        }
    }

    /// <summary>What each connection sent since <paramref name="mark"/> (connections opened since then, all of it).</summary>
    public IReadOnlyList<string> SentSince(RelayMark mark)
    {
        ArgumentNullException.ThrowIfNull(mark);
        lock (_connections)
        {
            return [.. _connections.Select((sent, i) => Encoding.UTF8.GetString([.. sent.Skip(i < mark.Lengths.Length ? mark.Lengths[i] : 0)]))];
        }
    }

    /// <summary>The JSON body of the one <c>POST</c> to <paramref name="path"/> sent since <paramref name="mark"/>, by its Content-Length.</summary>
    public string RequestBody(string path, RelayMark mark)
    {
        var bodies = SentSince(mark).SelectMany(sent => Bodies(sent, path)).ToList();
        Assert.True(bodies.Count == 1, $"{bodies.Count} POSTs to {path} were sent, not one:\n{string.Join("\n", SentSince(mark))}");
        return bodies[0];
    }

    private static IEnumerable<string> Bodies(string sent, string path)
    {
        for (var start = sent.IndexOf($"POST {path} HTTP/1.1\r\n", StringComparison.Ordinal); start >= 0;
             start = sent.IndexOf($"POST {path} HTTP/1.1\r\n", start + 1, StringComparison.Ordinal))
        {
            var headEnd = sent.IndexOf("\r\n\r\n", start, StringComparison.Ordinal);
            var length = sent[start..headEnd].Split("\r\n")
                .Select(line => line.Split(':', 2))
                .Where(header => header.Length == 2 && header[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                .Select(header => int.Parse(header[1].Trim(), System.Globalization.CultureInfo.InvariantCulture))
                .Single();
            yield return sent.Substring(headEnd + 4, length);
        }
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
                var record = new List<byte>();
                lock (_connections)
                {
                    _connections.Add(record);
                }

                var toServer = PumpAsync(client.GetStream(), server.GetStream(), record);
                var toClient = PumpAsync(server.GetStream(), client.GetStream(), record: null);
                // Either side closing ends the exchange, as a connection through a proxy does.
                await Task.WhenAny(toServer, toClient);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, List<byte>? record)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (record is not null)
                {
                    lock (_connections)
                    {
                        record.AddRange(buffer.AsSpan(0, read));
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

/// <summary>Where each of a <see cref="RecordingRelay"/>'s connection records ended at a moment.</summary>
public sealed record RelayMark(int[] Lengths);
