using System.Net;
using System.Text.Json;

namespace LlmApp.Bench.Workload;

/// <summary>
/// The model to ask for when <c>--model</c> is not given: the first of the endpoint's <c>GET /models</c>. When there is
/// none, says why in one line (the server is not there, wants a key, or the URL is not its OpenAI base), before any
/// request is measured.
/// </summary>
internal static class ModelDiscovery
{
    public static async Task<string> FirstModelAsync(HttpClient http, Target target, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(target.Models, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new BenchSetupException($"GET {target.Models} failed ({ex.Message}): is the server up, and is --base-url its OpenAI base URL?");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BenchSetupException($"GET {target.Models} did not answer in {http.Timeout.TotalSeconds:0} s.");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var hint = response.StatusCode switch
                {
                    HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => "pass its key with --api-key",
                    HttpStatusCode.NotFound => "--base-url should be the server's OpenAI base URL, e.g. http://localhost:8000/v1; or pass --model",
                    _ => "pass --model",
                };
                throw new BenchSetupException($"GET {target.Models} answered {(int)response.StatusCode} {response.ReasonPhrase}: {hint}.");
            }

            try
            {
                using var models = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                return models.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).FirstOrDefault(id => id is { Length: > 0 })
                    ?? throw new BenchSetupException($"GET {target.Models} lists no model; pass --model.");
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new BenchSetupException($"GET {target.Models} did not answer with an OpenAI model list; pass --model.");
            }
        }
    }
}

/// <summary>Something to set right before a run can start: reported as one line, with exit code 2.</summary>
internal sealed class BenchSetupException(string message) : Exception(message);
