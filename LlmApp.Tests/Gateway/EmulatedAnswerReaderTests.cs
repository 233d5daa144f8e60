using LlmApp.Gateway.Pipeline;
using LlmApp.Gateway.ToolCalling;
using Microsoft.Extensions.AI;

namespace LlmApp.Tests.Gateway;

/// <summary>
/// The reader of emulated tool-call answers, fed the JSON a constrained model writes, in every split a stream could
/// bring it: what the client gets must not depend on where the tokens break.
/// </summary>
public sealed class EmulatedAnswerReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1000)]
    public void ATextAnswerIsItsDecodedText(int pieceLength)
    {
        var (text, calls, _) = Read("""{ "content" :"Caf\u00e9 \"ok\"\n\ud83d\ude00 done"}""", pieceLength);

        Assert.Equal("Café \"ok\"\n😀 done", text);
        Assert.Empty(calls);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(1000)]
    public void CallsComeAsAFirstPieceWithIdAndNameThenTheirArgumentsAsGenerated(int pieceLength)
    {
        const string answer = """{"tool_calls":[{"name":"get_weather","arguments":{"city" :"Oslo, \"NO\"","days":[1,{"x":"}"}]}},{"name":"get_time","arguments":{}}]}""";

        var (text, calls, pieces) = Read(answer, pieceLength);

        Assert.Equal("", text);
        Assert.Equal(2, calls.Count);
        Assert.Equal(("get_weather", """{"city" :"Oslo, \"NO\"","days":[1,{"x":"}"}]}"""), (calls[0].Name, (string)calls[0].RawRepresentation!));
        Assert.Equal(("get_time", "{}"), (calls[1].Name, (string)calls[1].RawRepresentation!));
        Assert.NotEqual(calls[0].CallId, calls[1].CallId);
        var first = pieces.OfType<FunctionCallUpdateContent>().First();
        Assert.Equal((0, "get_weather", ""), (first.Index, first.Name, first.Arguments));
        Assert.StartsWith("call_", first.CallId);
    }

    [Fact]
    public void ACallCutShortKeepsItsNameAndTheArgumentsSoFar()
    {
        var (_, calls, _) = Read("""{"tool_calls":[{"name":"get_weather","arguments":{"city":"Os""", 3);

        var call = Assert.Single(calls);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("""{"city":"Os""", call.RawRepresentation);
        Assert.Null(call.Arguments);
    }

    [Fact]
    public void TextCutShortIsTheTextSoFar()
    {
        var (text, calls, _) = Read("""{"content":"Hello, wor""", 2);

        Assert.Equal("Hello, wor", text);
        Assert.Empty(calls);
    }

    [Fact]
    public void AnAnswerThatIsNotJsonPassesOnAsText()
    {
        var (text, _, _) = Read("  plain words", 3);

        Assert.Equal("plain words", text);
    }

    private static (string Text, List<FunctionCallContent> Calls, List<AIContent> Pieces) Read(string answer, int pieceLength)
    {
        var reader = new EmulatedAnswerReader();
        var pieces = new List<AIContent>();
        for (var i = 0; i < answer.Length; i += pieceLength)
        {
            reader.Read(answer.Substring(i, Math.Min(pieceLength, answer.Length - i)), pieces);
        }

        var gathered = EmulatedAnswerReader.Gather(pieces);
        return (string.Concat(gathered.OfType<TextContent>().Select(t => t.Text)), [.. gathered.OfType<FunctionCallContent>()], pieces);
    }
}
