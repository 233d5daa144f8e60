using System.Globalization;

namespace LlmApp.Gateway.OpenAI;

/// <summary>An error result with a <c>Retry-After</c> header, for 429 and 503 answers that tell the client when to come back.</summary>
internal sealed class RetryAfterResult(IResult inner, TimeSpan retryAfter) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => (inner as IStatusCodeHttpResult)?.StatusCode;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return inner.ExecuteAsync(httpContext);
    }
}
