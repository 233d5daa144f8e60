using System.Text;
using LlmApp.Gateway.Apis;

namespace LlmApp.Tests.Gateway;

/// <summary>The check of a request's raw JSON for an escaped surrogate that is not half of a pair.</summary>
public sealed class UnicodeTextTests
{
    [Theory]
    [InlineData("""{"a":"\ud800"}""", true)]
    [InlineData("""{"a":"\ude00 after"}""", true)]
    [InlineData("""{"\ud800":1}""", true)]
    [InlineData("""{"a":"\ud800\u0041"}""", true)]
    [InlineData("""{"a":"x\ud800"}""", true)]
    [InlineData("""{"a":"\ud800\ud800\udc00"}""", true)]
    [InlineData("""{"a":"\ud83d\ude00"}""", false)]
    [InlineData("""{"a":"\uD83D\uDE00 \u0041 \n \" \\"}""", false)]
    [InlineData("""{"a":"\\ud800"}""", false)]
    [InlineData("""{"a":"\\\ud83d\ude00"}""", false)]
    [InlineData("""{"a":"plain","b":[1,2,{"c":"\u00e9"}]}""", false)]
    public void AnEscapedSurrogateMustBeHalfOfAPair(string json, bool unpaired)
    {
        Assert.Equal(unpaired, UnicodeText.HasUnpairedSurrogate(Encoding.UTF8.GetBytes(json)));
    }
}
