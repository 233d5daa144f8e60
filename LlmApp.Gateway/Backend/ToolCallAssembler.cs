using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Collects a backend's streamed tool-call deltas (an id and name first, then the arguments in pieces, each keyed by
/// its index) and hands them over as whole <see cref="FunctionCallContent"/>s once the choice finishes.
/// </summary>
internal sealed class ToolCallAssembler
{
    private SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>? _calls;

    public void Add(List<ToolCallDelta>? deltas)
    {
        if (deltas is null)
        {
            return;
        }

        _calls ??= [];
        foreach (var delta in deltas)
        {
            var call = _calls.TryGetValue(delta.Index, out var existing) ? existing : (null, null, new StringBuilder());
            call.Id ??= delta.Id;
            call.Name ??= delta.Name;
            call.Arguments.Append(delta.Arguments);
            _calls[delta.Index] = call;
        }
    }

    public void MoveTo(IList<AIContent> contents)
    {
        if (_calls is null)
        {
            return;
        }

        foreach (var (index, call) in _calls)
        {
            contents.Add(FunctionCallContent.CreateFromParsedArguments(
                call.Arguments.ToString(), call.Id ?? $"call_{index}", call.Name ?? "", ParseArguments));
        }

        _calls = null;
    }

    private static Dictionary<string, object?>? ParseArguments(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
    }
}
