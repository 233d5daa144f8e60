namespace LlmApp.Gateway.Backend;

/// <summary>
/// Shortens a Matryoshka embedding to its first dimensions, as nomic-embed-text-v1.5's model card prescribes: layer
/// norm over the whole vector, keep the first <c>n</c> values, normalise to unit length. (Layer norm does not care about
/// scale, so it may follow llama-server's own normalisation.) llama-server has no <c>dimensions</c> parameter; this is it.
/// </summary>
internal static class VectorShortener
{
    private const float LayerNormEpsilon = 1e-5f;

    public static float[] Shorten(ReadOnlySpan<float> vector, int dimensions)
    {
        var mean = 0.0;
        foreach (var value in vector)
        {
            mean += value;
        }

        mean /= vector.Length;
        var variance = 0.0;
        foreach (var value in vector)
        {
            variance += (value - mean) * (value - mean);
        }

        var scale = 1.0 / Math.Sqrt((variance / vector.Length) + LayerNormEpsilon);
        var shortened = new float[dimensions];
        var norm = 0.0;
        for (var i = 0; i < dimensions; i++)
        {
            var normalised = (vector[i] - mean) * scale;
            shortened[i] = (float)normalised;
            norm += normalised * normalised;
        }

        norm = Math.Sqrt(norm);
        if (norm > 0)
        {
            for (var i = 0; i < dimensions; i++)
            {
                shortened[i] = (float)(shortened[i] / norm);
            }
        }

        return shortened;
    }
}
