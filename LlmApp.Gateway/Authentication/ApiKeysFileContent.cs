using System.Text.Json.Serialization;

namespace LlmApp.Gateway.Authentication;

/// <summary>The keys file: <c>{"keys":[{"name":"app1","key":"sk-...","enabled":true,...}]}</c>.</summary>
internal sealed class ApiKeysFileContent
{
    public List<ApiKeyEntry?>? Keys { get; set; }
}

/// <summary>Source-generated JSON for the keys file, in camelCase; comments and trailing commas allowed, as people edit it by hand.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(ApiKeysFileContent))]
internal sealed partial class ApiKeysJsonContext : JsonSerializerContext;
