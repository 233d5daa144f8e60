using System.Text;
using LlmApp.Gateway.OpenAI;
using LlmApp.Gateway.Pipeline;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.ToolCalling;

/// <summary>
/// Reads the JSON a model writes under <see cref="ToolCallSchema"/> as it is generated, piece by piece, and turns it
/// into what OpenAI would have sent: <c>{"content":"..."}</c> becomes the text itself, decoded as it arrives;
/// <c>{"tool_calls":[{"name":...,"arguments":{...}}]}</c> becomes, for each call, a first piece with a new id and the
/// name, then the arguments' JSON text in pieces, exactly as generated. Nothing of the wrapper reaches the client, and
/// an answer cut anywhere (by <c>max_tokens</c>) leaves whatever was complete: text so far, or calls with the
/// arguments so far.
/// </summary>
/// <remarks>
/// A character-by-character state machine: the grammar fixes the shape, so the reader only has to follow strings,
/// nesting and the four keys it knows. Whitespace the grammar allows between tokens is skipped; anything else it does
/// not know is skipped as a whole value. An answer that is not a JSON object at all (a backend that ignored the schema)
/// is passed on as text.
/// </remarks>
internal sealed class EmulatedAnswerReader
{
    private enum State
    {
        Start, TopKey, Key, Colon, ContentValue, ContentString, CallsValue, Item, ItemKey, NameValue, NameString,
        Value, Done, PlainText,
    }

    private State _state = State.Start;
    private bool _inCall;
    private readonly StringBuilder _key = new();

    // A JSON string being decoded (the content, or a call's name): escapes may be split between pieces.
    private readonly StringBuilder _escape = new();
    private bool _inEscape;

    // The text decoded or copied since the last piece was handed out.
    private readonly StringBuilder _pending = new();

    // A raw JSON value being followed (a call's arguments, copied; or an unknown value, skipped).
    private bool _copyValue;
    private int _depth;
    private bool _valueStarted;
    private bool _valueInString;
    private bool _valueEscape;

    // The call being read: the last one started, index CallCount - 1.
    private string? _name;
    private readonly StringBuilder _heldArguments = new();

    /// <summary>How many calls have started (their name was read).</summary>
    public int CallCount { get; private set; }

    /// <summary>Reads the next piece of the answer and adds what it completes to <paramref name="output"/>.</summary>
    public void Read(string text, IList<AIContent> output)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (Step(text[i], output))
            {
                i++;
            }
        }

        Flush(output);
    }

    /// <summary>The pieces of a whole answer gathered into whole contents: the text, and each call with its arguments.</summary>
    public static List<AIContent> Gather(IEnumerable<AIContent> pieces)
    {
        var contents = new List<AIContent>();
        var text = new StringBuilder();
        var calls = new SortedDictionary<int, (string Id, string Name, StringBuilder Arguments)>();
        foreach (var piece in pieces)
        {
            switch (piece)
            {
                case TextContent t:
                    text.Append(t.Text);
                    break;
                case FunctionCallUpdateContent { CallId: { } id, Name: { } name } first:
                    calls[first.Index] = (id, name, new StringBuilder(first.Arguments));
                    break;
                case FunctionCallUpdateContent next when calls.TryGetValue(next.Index, out var call):
                    call.Arguments.Append(next.Arguments);
                    break;
            }
        }

        if (text.Length > 0)
        {
            contents.Add(new TextContent(text.ToString()));
        }

        foreach (var (_, call) in calls)
        {
            contents.Add(ToolCallArguments.Call(call.Id, call.Name, call.Arguments.ToString()));
        }

        return contents;
    }

    /// <summary>Handles one character; false when the character is to be read again in the new state.</summary>
    private bool Step(char c, IList<AIContent> output)
    {
        switch (_state)
        {
            case State.Start:
                if (char.IsWhiteSpace(c))
                {
                    return true;
                }

                _state = c == '{' ? State.TopKey : State.PlainText;
                return c == '{';

            case State.PlainText:
                _pending.Append(c);
                return true;

            case State.TopKey or State.ItemKey:
                if (char.IsWhiteSpace(c) || c == ',')
                {
                    return true;
                }

                if (c == '"')
                {
                    _inCall = _state == State.ItemKey;
                    _key.Clear();
                    _state = State.Key;
                }
                else if (c == '}')
                {
                    // The end of a call (the next one starts afresh at its '{') or of the answer.
                    _state = _state == State.ItemKey ? State.Item : State.Done;
                }

                return true;

            case State.Key:
                if (c == '"' && !_inEscape)
                {
                    _state = State.Colon;
                }
                else
                {
                    _inEscape = c == '\\' && !_inEscape;
                    _key.Append(c);
                }

                return true;

            case State.Colon:
                if (c == ':')
                {
                    _state = (_inCall, _key.ToString()) switch
                    {
                        (false, ToolCallSchema.ContentProperty) => State.ContentValue,
                        (false, ToolCallSchema.ToolCallsProperty) => State.CallsValue,
                        (true, ToolCallSchema.NameProperty) => State.NameValue,
                        (true, ToolCallSchema.ArgumentsProperty) => StartValue(copy: true),
                        _ => StartValue(copy: false),
                    };
                }

                return true;

            case State.ContentValue or State.NameValue:
                if (char.IsWhiteSpace(c))
                {
                    return true;
                }

                if (c != '"')
                {
                    _state = StartValue(copy: false);
                    return false;
                }

                _state = _state == State.ContentValue ? State.ContentString : State.NameString;
                return true;

            case State.ContentString or State.NameString:
                if (Decode(c))
                {
                    return true;
                }

                // The string's closing quote.
                if (_state == State.ContentString)
                {
                    Flush(output);
                    _state = State.TopKey;
                }
                else
                {
                    StartCall(output);
                    _state = State.ItemKey;
                }

                return true;

            case State.CallsValue:
                if (char.IsWhiteSpace(c))
                {
                    return true;
                }

                _state = c == '[' ? State.Item : StartValue(copy: false);
                return c == '[';

            case State.Item:
                if (char.IsWhiteSpace(c) || c == ',')
                {
                    return true;
                }

                if (c == '{')
                {
                    _name = null;
                    _heldArguments.Clear();
                    _state = State.ItemKey;
                }
                else if (c == ']')
                {
                    _state = State.TopKey;
                }

                return true;

            case State.Value:
                return FollowValue(c, output);

            default:
                return true;
        }
    }

    /// <summary>Decodes one character of a JSON string into the pending text; false at its closing quote.</summary>
    private bool Decode(char c)
    {
        if (!_inEscape)
        {
            switch (c)
            {
                case '"':
                    return false;
                case '\\':
                    _inEscape = true;
                    _escape.Clear();
                    return true;
                default:
                    _pending.Append(c);
                    return true;
            }
        }

        _escape.Append(c);
        if (_escape[0] == 'u')
        {
            if (_escape.Length < 5)
            {
                return true;
            }

            _pending.Append(int.TryParse(_escape.ToString(1, 4), System.Globalization.NumberStyles.HexNumber, null, out var code) ? (char)code : '\uFFFD');
        }
        else
        {
            _pending.Append(c switch { 'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', _ => c });
        }

        _inEscape = false;
        return true;
    }

    private State StartValue(bool copy)
    {
        _copyValue = copy;
        _depth = 0;
        _valueStarted = false;
        _valueInString = false;
        _valueEscape = false;
        return State.Value;
    }

    /// <summary>Follows a raw JSON value (copying it when it is a call's arguments) to its end.</summary>
    private bool FollowValue(char c, IList<AIContent> output)
    {
        if (!_valueStarted && char.IsWhiteSpace(c))
        {
            return true;
        }

        if (_valueInString)
        {
            Copy(c);
            if (_valueEscape)
            {
                _valueEscape = false;
            }
            else if (c == '\\')
            {
                _valueEscape = true;
            }
            else if (c == '"')
            {
                _valueInString = false;
                if (_depth == 0)
                {
                    EndValue(output);
                }
            }

            return true;
        }

        // A scalar at the top of the value ends at the first character that cannot be part of it.
        if (_depth == 0 && _valueStarted && (c is ',' or '}' or ']' || char.IsWhiteSpace(c)))
        {
            EndValue(output);
            return false;
        }

        _valueStarted = true;
        Copy(c);
        switch (c)
        {
            case '"':
                _valueInString = true;
                break;
            case '{' or '[':
                _depth++;
                break;
            case '}' or ']':
                if (--_depth == 0)
                {
                    EndValue(output);
                }

                break;
        }

        return true;
    }

    private void Copy(char c)
    {
        if (_copyValue)
        {
            _pending.Append(c);
        }
    }

    private void EndValue(IList<AIContent> output)
    {
        Flush(output);
        _state = _inCall ? State.ItemKey : State.TopKey;
    }

    /// <summary>The call's name is read: its first piece goes out, with any arguments that came before the name.</summary>
    private void StartCall(IList<AIContent> output)
    {
        _name = _pending.ToString();
        _pending.Clear();
        CallCount++;
        output.Add(new FunctionCallUpdateContent(CallCount - 1, $"call_{Guid.NewGuid():N}"[..29], _name, ""));
        if (_heldArguments.Length > 0)
        {
            output.Add(new FunctionCallUpdateContent(CallCount - 1, null, null, _heldArguments.ToString()));
            _heldArguments.Clear();
        }
    }

    /// <summary>Hands out the text decoded or the arguments copied since the last piece.</summary>
    private void Flush(IList<AIContent> output)
    {
        if (_pending.Length == 0)
        {
            return;
        }

        switch (_state)
        {
            case State.ContentString or State.PlainText:
                // A lone high surrogate waits for its pair, which the next piece brings.
                var keep = char.IsHighSurrogate(_pending[^1]) ? 1 : 0;
                if (_pending.Length > keep)
                {
                    output.Add(new TextContent(_pending.ToString(0, _pending.Length - keep)));
                    _pending.Remove(0, _pending.Length - keep);
                }

                return;

            case State.Value when _copyValue:
                if (_name is null)
                {
                    _heldArguments.Append(_pending);
                }
                else
                {
                    output.Add(new FunctionCallUpdateContent(CallCount - 1, null, null, _pending.ToString()));
                }

                _pending.Clear();
                return;

            default:
                // The name so far: it goes out whole, once read.
                return;
        }
    }
}
