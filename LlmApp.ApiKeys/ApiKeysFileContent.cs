using System.Text.Json.Serialization;

namespace LlmApp.ApiKeys;

/// <summary>The keys file: <c>{"keys":[{"name":"app1","key":"sk-...","enabled":true,...}]}</c>.</summary>
public sealed class ApiKeysFileContent
{
    public List<ApiKeyEntry?>? Keys { get; set; }
}

/// <summary>Source-generated JSON for the keys file, in camelCase; comments and trailing commas allowed, as people edit it by hand.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(ApiKeysFileContent))]
public sealed partial class ApiKeysJsonContext : JsonSerializerContext;
