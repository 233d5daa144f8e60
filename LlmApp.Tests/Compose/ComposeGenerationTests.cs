using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Compose;

/// <summary>What the publish-compose step writes for settings other than the committed defaults.</summary>
public sealed class ComposeGenerationTests
{
    [Fact]
    public async Task AnEmbeddingModelAddsItsServerItsFetcherAndTheGatewaysWiring()
    {
        var output = await ComposeGeneration.GenerateAsync(["--Llm:EmbeddingModel=nomic-embed-text-v1.5"]);

        var compose = await File.ReadAllTextAsync(Path.Combine(output, "docker-compose.yml"));
        var environment = await File.ReadAllTextAsync(Path.Combine(output, ".env"));
        Assert.Contains("  embeddings:\n", compose, StringComparison.Ordinal);
        Assert.Contains("  embeddings-model:\n", compose, StringComparison.Ordinal);
        Assert.Contains("      LLAMA_ARG_EMBEDDINGS: \"1\"\n", compose, StringComparison.Ordinal);
        Assert.Contains("      LLAMA_ARG_POOLING: mean\n", compose, StringComparison.Ordinal);
        Assert.Contains("      Embeddings__Endpoint: \"http://embeddings:8080\"\n", compose, StringComparison.Ordinal);
        Assert.Contains("      embeddings:\n        condition: service_healthy\n", compose, StringComparison.Ordinal);
        Assert.Contains("\nLLMAPP_EMBEDDING_MODEL=nomic-embed-text-v1.5\n", environment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheObjectivesReachTheGatewaysContainerAndNothingWhenUnset()
    {
        var with = await ComposeGeneration.GenerateAsync(["--Llm:TtftObjectiveMs=300", "--Llm:MinTokensPerSecond=30"]);
        var without = await ComposeGeneration.GenerateAsync([]);

        var compose = await File.ReadAllTextAsync(Path.Combine(with, "docker-compose.yml"));
        Assert.Contains("      Slo__TimeToFirstToken: \"00:00:00.3000000\"\n", compose, StringComparison.Ordinal);
        Assert.Contains("      Slo__MinTokensPerSecond: \"30\"\n", compose, StringComparison.Ordinal);
        Assert.DoesNotContain("Slo__", await File.ReadAllTextAsync(Path.Combine(without, "docker-compose.yml")), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ReplicasBecomeOneServiceEachWithOneFetcherAndTheGatewaysListAndPrometheusScrapesThemAll()
    {
        var output = await ComposeGeneration.GenerateAsync(["--Llm:LlamaCpp:Replicas=2"]);

        var compose = await File.ReadAllTextAsync(Path.Combine(output, "docker-compose.yml"));
        Assert.Contains("  llm-1:\n", compose, StringComparison.Ordinal);
        Assert.Contains("  llm-2:\n", compose, StringComparison.Ordinal);
        Assert.DoesNotContain("  llm:\n", compose, StringComparison.Ordinal);
        Assert.Single(compose.Split('\n'), l => l == "  llm-model:");
        Assert.Contains("      Backend__Backends__0__Name: llm-1\n", compose, StringComparison.Ordinal);
        Assert.Contains("      Backend__Backends__0__Endpoint: \"http://llm-1:8080\"\n", compose, StringComparison.Ordinal);
        Assert.Contains("      Backend__Backends__1__Endpoint: \"http://llm-2:8080\"\n", compose, StringComparison.Ordinal);
        Assert.DoesNotContain("Backend__Endpoint", compose, StringComparison.Ordinal);
        Assert.Contains("      llm-1:\n        condition: service_healthy\n", compose, StringComparison.Ordinal);
        Assert.Contains("      llm-2:\n        condition: service_healthy\n", compose, StringComparison.Ordinal);
        Assert.Contains("      LLMAPP_BACKEND_TARGETS: \"llm-1:8080,llm-2:8080\"\n", compose, StringComparison.Ordinal);
        // The two share the box's CPUs for llama-server: 2 / 2, and a thread each.
        Assert.Equal(2, compose.Split('\n').Count(l => l == "      LLAMA_ARG_THREADS: \"1\""));
        Assert.DoesNotContain("    cpus: 2\n", compose, StringComparison.Ordinal);

        // And compose takes it.
        var config = await DockerCompose.CliAsync(output, ["--file", "docker-compose.yml", "--env-file", ".env", "config", "--quiet"]);
        Assert.True(config.ExitCode == 0, config.Output);
    }

    [Fact]
    public async Task ALocalModelFileIsMountedInsteadOfFetched()
    {
        var output = await ComposeGeneration.GenerateAsync([$"--Llm:Compose:Model={TestPaths.TestModel}"]);

        var environment = await File.ReadAllTextAsync(Path.Combine(output, ".env"));
        Assert.Contains($"\nLLMAPP_MODEL_FILE={TestPaths.TestModel}\n", environment, StringComparison.Ordinal);
        Assert.Contains("\nLLMAPP_MODEL=\n", environment, StringComparison.Ordinal);
        Assert.Contains($"\nLLMAPP_SERVED_MODEL={Path.GetFileNameWithoutExtension(TestPaths.TestModel)}\n", environment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownComposeModelIsOneLineNamingTheSetting()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost",
            ["--operation", "publish", "--step", "publish-compose", "--output-path", TestPaths.NewScratchDirectory(), "--Llm:Compose:Model=no-such-model"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            "llmapp: error: Llm:Compose:Model 'no-such-model' is neither a catalog name (llama-3.1-8b-instruct, llama-3.2-1b-instruct, qwen2.5-0.5b-instruct, llama-2-tiny-random) nor a path to a .gguf file.",
            result.StandardError.Trim());
    }

    [Fact]
    public async Task AModelThatDoesNotFitTheServiceLimitIsRefusedInOneLineSayingWhatFits()
    {
        // The seed's model on the seed's instance: 4.9 GB of weights in the 3 GiB left for llama-server on 4 GiB.
        var output = TestPaths.NewScratchDirectory();
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost",
            ["--operation", "publish", "--step", "publish-compose", "--output-path", output, "--Llm:Compose:Model=llama-3.1-8b-instruct"]);

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Trim().Split('\n'));
        Assert.StartsWith("llmapp: error: llama-3.1-8b-instruct needs about 7.36 GiB (model 4.58 GiB + KV cache 1.00 GiB", line, StringComparison.Ordinal);
        Assert.Contains("more than the llm service's memory limit of 3.00 GiB (Llm:Compose:LlmMemoryMiB)", line, StringComparison.Ordinal);
        Assert.Contains("What fits: llama-3.2-1b-instruct, qwen2.5-0.5b-instruct (Llm:Compose:Model)", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(output, "docker-compose.yml")));
    }

    [Fact]
    public async Task TheMemoryCheckCanBeTurnedOff()
    {
        var output = await ComposeGeneration.GenerateAsync(["--Llm:Compose:Model=llama-3.1-8b-instruct", "--Llm:MemoryCheck=false"]);

        Assert.Contains("\nLLMAPP_MODEL=llama-3.1-8b-instruct\n", await File.ReadAllTextAsync(Path.Combine(output, ".env")), StringComparison.Ordinal);
    }
}
