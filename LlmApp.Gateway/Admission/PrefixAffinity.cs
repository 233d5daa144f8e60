using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Microsoft.Extensions.AI;

namespace LlmApp.Gateway.Admission;

/// <summary>
/// What keeps a conversation on one replica: a hash of its beginning, the system prompt and the first user message,
/// which every later turn repeats. Two requests with the same beginning go to the same replica, whose prompt cache
/// holds that beginning (and, for a follow-up, the turns after it).
/// </summary>
internal static class PrefixAffinity
{
    public static ulong Of(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var hash = new XxHash3();
        foreach (var message in messages)
        {
            hash.Append(MemoryMarshal.AsBytes(message.Role.Value.AsSpan()));
            foreach (var content in message.Contents)
            {
                if (content is TextContent text)
                {
                    hash.Append(MemoryMarshal.AsBytes(text.Text.AsSpan()));
                }
            }

            if (message.Role == ChatRole.User)
            {
                break;
            }
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(hash.GetCurrentHash());
    }
}
