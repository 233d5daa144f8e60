using LlmApp.ApiKeys;
namespace LlmApp.Gateway.Authentication;

/// <summary>The keys <c>/v1</c> takes, bound from the <c>Auth</c> section: the ones listed here and those of a file, together.</summary>
internal sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>Keys set in configuration (<c>Auth__Keys__0__Name</c>, <c>Auth__Keys__0__Key</c>, ...).</summary>
    public List<ApiKeyEntry> Keys { get; set; } = [];

    /// <summary>A JSON file of keys (<c>{"keys":[{"name":...,"key":...}]}</c>), read again when it changes.</summary>
    public string? KeysFile { get; set; }

    /// <summary>
    /// Serve <c>/v1</c> without keys even where other machines can reach it: only on purpose (a private network, or a
    /// proxy in front that authenticates). Without it, a gateway with no key that listens beyond loopback does not start.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// The address the gateway's port is published on, when a container runtime publishes it (compose:
    /// <c>LLMAPP_GATEWAY_BIND</c>). In a container the gateway listens on every interface whatever the host exposes, so
    /// this, when set, decides whether <c>/v1</c> reaches beyond the machine, instead of the addresses it listens on.
    /// </summary>
    public string? PublishedAddress { get; set; }

    /// <summary>Refusals of a wrong or missing key one remote address may have a minute before it gets 429 for a while.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000)]
    public int MaxFailuresPerMinute { get; set; } = 20;

    /// <summary>
    /// No key and no file: <c>/v1</c> is open, as before keys existed. A file that lists no key (every key revoked)
    /// closes it instead: revoking the last key must not open the door.
    /// </summary>
    public bool IsOpen => Keys.Count == 0 && string.IsNullOrEmpty(KeysFile);
}
