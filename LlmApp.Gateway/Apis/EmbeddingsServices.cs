using LlmApp.Gateway.Backend;
using LlmApp.Gateway.Limits;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Quotas;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Apis;

/// <summary>What the embeddings endpoint works with, bound from services with <c>[AsParameters]</c>.</summary>
internal sealed record EmbeddingsServices(
    IEmbeddingGenerator<EmbeddingInput, Embedding<float>> Generator,
    IOptions<EmbeddingsOptions> Embeddings,
    IOptions<RequestLimitsOptions> Limits,
    KeyQuotas Quotas);
