namespace LlmApp.Gateway.Backend;

/// <summary>
/// Makes a client that leaves close the backend connection at once. A streamed response is read long after
/// <c>SendAsync</c> returns, through layers (the OpenAI SDK, Microsoft.Extensions.AI) that do not all pass the
/// request's token to each read; disposing the response when the client's request is aborted closes the
/// connection, which is how llama-server and vLLM learn that nobody is listening and free the slot.
/// </summary>
internal sealed class AbortOnCancelHandler(IHttpContextAccessor httpContextAccessor) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var clientAborted = httpContextAccessor.HttpContext?.RequestAborted ?? CancellationToken.None;
        var response = await base.SendAsync(request, cancellationToken);

        // Both registrations live only as long as their sources: one request each.
        cancellationToken.UnsafeRegister(static state => ((HttpResponseMessage)state!).Dispose(), response);
        clientAborted.UnsafeRegister(static state => ((HttpResponseMessage)state!).Dispose(), response);
        return response;
    }
}
