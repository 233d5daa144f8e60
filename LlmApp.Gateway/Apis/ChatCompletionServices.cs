using LlmApp.Gateway.Admission;
using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.Quotas;
using LlmApp.Gateway.Resilience;
using LlmApp.Gateway.Streaming;
using LlmApp.Gateway.Tenancy;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Apis;

/// <summary>What the chat completions endpoint works with, bound from services with <c>[AsParameters]</c>.</summary>
internal sealed record ChatCompletionServices(
    IChatClient ChatClient,
    AdmissionControl Admission,
    IOptions<BackendOptions> Backend,
    IOptions<ResilienceOptions> Resilience,
    IOptions<StreamingOptions> Streaming,
    IOptions<RequestLimitsOptions> Limits,
    KeyQuotas Quotas,
    ContextWindow ContextWindow,
    PromptCacheScope PromptCache,
    TimeProvider Time);
