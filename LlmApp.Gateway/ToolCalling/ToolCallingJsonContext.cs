using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace LlmApp.Gateway.ToolCalling;

[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class ToolCallingJsonContext : JsonSerializerContext;
