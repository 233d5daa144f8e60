using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Configuration;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.Quotas;
using LlmApp.Gateway.Streaming;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Apis;

/// <summary>What the chat completions endpoint works with, bound from services with <c>[AsParameters]</c>.</summary>
internal sealed record ChatCompletionServices(
    IChatClient ChatClient,
    IOptions<BackendOptions> Backend,
    IOptions<StreamingOptions> Streaming,
    IOptions<RequestLimitsOptions> Limits,
    IOptions<SloOptions> Slo,
    KeyQuotas Quotas,
    TimeProvider Time);
