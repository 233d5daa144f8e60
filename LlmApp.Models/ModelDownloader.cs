using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace LlmApp.Models;

/// <summary>
/// Downloads a catalog model from Hugging Face (or a mirror) into the cache: shows progress, resumes a
/// partial download with a Range request, and verifies the sha256 before the file is used. A verified file
/// gets a sidecar <c>.sha256</c> so later starts do not hash gigabytes again.
/// </summary>
public static class ModelDownloader
{
    private const int BufferSize = 1 << 20;

    public static string TargetPath(CatalogEntry entry, string modelsDirectory) =>
        Path.Combine(modelsDirectory, entry.Repo.Replace('/', Path.DirectorySeparatorChar), entry.File);

    public static async Task<string> EnsureAsync(
        CatalogEntry entry, string modelsDirectory, Uri endpoint, HttpClient httpClient, string fallbackHint,
        CancellationToken cancellationToken = default)
    {
        var target = TargetPath(entry, modelsDirectory);
        var verifiedMarker = target + ".sha256";
        if (File.Exists(target) && File.Exists(verifiedMarker) &&
            string.Equals((await File.ReadAllTextAsync(verifiedMarker, cancellationToken)).Trim(), entry.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            return target;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = target + ".part";
        var url = new Uri(endpoint, $"{entry.Repo}/resolve/{entry.Revision}/{entry.File}");
        var step = $"model download '{entry.Name}' from {url}";

        try
        {
            await DownloadAsync(entry, url, partial, httpClient, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new SetupException(
                $"{step} failed: {ex.Message} {fallbackHint}", ex);
        }

        SetupLog.Info($"verifying sha256 of {entry.File}");
        var actual = await HashAsync(partial, cancellationToken);
        if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(partial);
            throw new SetupException(
                $"{step}: sha256 mismatch (expected {entry.Sha256}, got {actual}); the download was removed, start again to retry.");
        }

        File.Move(partial, target, overwrite: true);
        await File.WriteAllTextAsync(verifiedMarker, entry.Sha256, cancellationToken);
        return target;
    }

    private static async Task DownloadAsync(CatalogEntry entry, Uri url, string partial, HttpClient httpClient, CancellationToken cancellationToken)
    {
        var existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (existing == entry.Size)
        {
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (existing > 0 && existing < entry.Size)
        {
            request.Headers.Range = new RangeHeaderValue(existing, null);
        }

        if (Environment.GetEnvironmentVariable("HF_TOKEN") is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // What we have is not a prefix the server recognises: start over.
            File.Delete(partial);
            await DownloadAsync(entry, url, partial, httpClient, cancellationToken);
            return;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the server answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }

        var resuming = response.StatusCode == HttpStatusCode.PartialContent;
        var offset = resuming ? existing : 0;
        SetupLog.Info(resuming
            ? $"resuming download of {entry.Name} at {Format(offset)} of {Format(entry.Size)}"
            : $"downloading {entry.Name} ({Format(entry.Size)}) from {url}");

        await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var file = new FileStream(partial, resuming ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
        var buffer = new byte[BufferSize];
        var received = offset;
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            received += read;
            if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(2))
            {
                lastReport = clock.Elapsed;
                var rate = (received - offset) / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
                SetupLog.Info($"downloading {entry.Name}: {Format(received)} / {Format(entry.Size)} " +
                              $"({100.0 * received / entry.Size:F0}%), {Format((long)rate)}/s");
            }
        }

        if (received != entry.Size)
        {
            throw new IOException($"the download stopped at {received} of {entry.Size} bytes; start again to resume.");
        }
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken);
        return Convert.ToHexStringLower(hash);
    }

    private static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F0} KiB"),
    };
}
