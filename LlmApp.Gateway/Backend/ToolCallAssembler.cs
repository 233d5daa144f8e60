using System.Text;
using LlmApp.Gateway.OpenAI;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Backend;

/// <summary>
/// Collects the tool calls of a backend's whole answer (or deltas: an id and name first, then the arguments in pieces,
/// each keyed by its index) and hands them over as whole <see cref="FunctionCallContent"/>s, with their arguments'
/// text as generated, once the choice finishes.
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
            contents.Add(ToolCallArguments.Call(call.Id ?? $"call_{index}", call.Name ?? "", call.Arguments.ToString()));
        }

        _calls = null;
    }
}
