using System.Net;
using System.Net.Sockets;

namespace LlmApp.Tests.Infrastructure;

public static class LocalPorts
{
    /// <summary>A port on 127.0.0.1 that nothing listens on now (the system's pick), for a process a test starts.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
