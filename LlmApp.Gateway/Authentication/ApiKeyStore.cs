using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using LlmApp.ApiKeys;

namespace LlmApp.Gateway.Authentication;

/// <summary>The keys in force, as hashes; a reload swaps the whole set at once, so a request sees the old set or the new one.</summary>
internal sealed class ApiKeyStore
{
    private StoredKey[] _keys;

    public ApiKeyStore(IOptions<AuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IsOpen = options.Value.IsOpen;
        // Start-up validation has already refused a set with problems, so this one has none.
        _keys = ApiKeyLoader.Load(options.Value.Keys, options.Value.KeysFile).Keys;
    }

    /// <summary>No key is configured at all: <c>/v1</c> serves anyone (see <see cref="AuthOptions.IsOpen"/>).</summary>
    public bool IsOpen { get; }

    public int Count => Volatile.Read(ref _keys).Length;

    /// <summary>Puts <paramref name="keys"/> in force; returns the names of the keys it no longer takes (removed, disabled or changed).</summary>
    public IReadOnlySet<string> Replace(StoredKey[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var before = Interlocked.Exchange(ref _keys, keys);
        var revoked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var old in before.Where(k => k.Enabled))
        {
            if (!keys.Any(k => k.Enabled && k.Name == old.Name && CryptographicOperations.FixedTimeEquals(k.Hash, old.Hash)))
            {
                revoked.Add(old.Name);
            }
        }

        return revoked;
    }

    /// <summary>
    /// The stored key <paramref name="presented"/> is, enabled or not, or null. Every stored hash is compared, in
    /// constant time and without stopping at a match, so the time taken says nothing about which key came close.
    /// </summary>
    public StoredKey? Find(string presented)
    {
        var hash = ApiKeyLoader.Hash(presented);
        StoredKey? found = null;
        foreach (var key in Volatile.Read(ref _keys))
        {
            var equal = CryptographicOperations.FixedTimeEquals(hash, key.Hash);
            found = equal ? key : found;
        }

        return found;
    }
}
