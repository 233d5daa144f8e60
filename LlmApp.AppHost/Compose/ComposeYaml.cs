using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;

namespace LlmApp.AppHost.Compose;

/// <summary>Writes a <see cref="ComposeFile"/> as YAML, with the quoting both compose implementations read the same way.</summary>
public static class ComposeYaml
{
    private static readonly ISerializer s_serializer = new SerializerBuilder()
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull | DefaultValuesHandling.OmitEmptyCollections)
        .WithQuotingNecessaryStrings()
        .WithEventEmitter(next => new QuoteAmbiguousStrings(next))
        .DisableAliases()
        .Build();

    public static string Serialize(ComposeFile file, string header)
    {
        ArgumentNullException.ThrowIfNull(file);
        var yaml = s_serializer.Serialize(file)
            // An empty volume mapping ("models: {}") reads better as a bare key, as compose's own examples write it.
            .Replace(": {}\n", ":\n", StringComparison.Ordinal);
        return header + yaml;
    }

    /// <summary>
    /// Double-quotes strings a YAML 1.1 reader (docker-compose 1.29's PyYAML) could take for something else or that
    /// hold compose syntax: YAML 1.1's booleans (<c>restart: no</c> would be false, <c>on</c> would be True),
    /// "host:port" mappings (sexagesimal numbers in YAML 1.1) and ${VARIABLE} references.
    /// </summary>
    private sealed class QuoteAmbiguousStrings(IEventEmitter next) : ChainedEventEmitter(next)
    {
        private static readonly HashSet<string> s_yaml11Words = new(StringComparer.OrdinalIgnoreCase)
        {
            "y", "yes", "n", "no", "on", "off", "true", "false", "null", "~",
        };

        public override void Emit(ScalarEventInfo eventInfo, IEmitter emitter)
        {
            if (eventInfo.Source.Value is string text && (text.AsSpan().IndexOfAny(":$#{}") >= 0 || s_yaml11Words.Contains(text)))
            {
                eventInfo.Style = ScalarStyle.DoubleQuoted;
            }

            base.Emit(eventInfo, emitter);
        }
    }
}
