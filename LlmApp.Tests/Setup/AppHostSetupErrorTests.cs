using System.Globalization;
using LlmApp.AppHost.LlamaCpp;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Setup;

/// <summary>What a user sees when set-up cannot go on: one line naming the setting or step, a non-zero exit, no stack trace.</summary>
public sealed class AppHostSetupErrorTests
{
    [Fact]
    public async Task AMissingModelFileNamesTheSettingAndExitsNonZero()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", ["--Llm:Model=/nowhere/missing.gguf"]);

        AssertOneLineError(result, "Llm:Model points at '/nowhere/missing.gguf', which does not exist.");
    }

    [Theory]
    [InlineData("--Llm:TtftObjectiveMs=0", "Llm:TtftObjectiveMs is 0; it must be milliseconds from 1 to 3600000, or unset for none.")]
    [InlineData("--Llm:MinTokensPerSecond=-1", "Llm:MinTokensPerSecond is -1; it must be above 0, or unset for none.")]
    public async Task AnObjectiveThatCannotBeMetIsNamed(string argument, string problem)
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", [argument]);

        AssertOneLineError(result, problem);
    }

    [Fact]
    public async Task AnUnknownCatalogNameListsTheKnownNames()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", ["--Llm:Model=no-such-model"]);

        AssertOneLineError(result, "Llm:Model 'no-such-model' is neither a catalog name (llama-3.1-8b-instruct, llama-3.2-1b-instruct, qwen2.5-0.5b-instruct, llama-2-tiny-random) nor a path to a .gguf file.");
    }

    [Fact]
    public async Task AnEmbeddingModelIsNotAChatModel()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", ["--Llm:Model=nomic-embed-text-v1.5"]);

        AssertOneLineError(result, "Llm:Model 'nomic-embed-text-v1.5' is an embedding model; it takes a chat model (llama-3.1-8b-instruct, llama-3.2-1b-instruct, qwen2.5-0.5b-instruct, llama-2-tiny-random).");
    }

    [Fact]
    public async Task AnUnknownEmbeddingModelListsTheEmbeddingModels()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", [$"--Llm:Model={TestPaths.TestModel}", "--Llm:EmbeddingModel=no-such-model"]);

        AssertOneLineError(result, "Llm:EmbeddingModel 'no-such-model' is neither a catalog name (nomic-embed-text-v1.5) nor a path to a .gguf file.");
    }

    [Fact]
    public async Task AMissingKeysFileNamesTheFileAndExitsNonZero()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", [$"--Llm:Model={TestPaths.TestModel}", "--Llm:ApiKeysFile=/nowhere.json"]);

        AssertOneLineError(result, "Llm:ApiKeysFile points at '/nowhere.json', which does not exist.");
    }

    [Theory]
    [InlineData("{\"keys\":[{\"name\":\"app1\",", "Llm:ApiKeysFile '{0}' is not valid JSON")]
    [InlineData("{\"clients\":[]}", "Llm:ApiKeysFile '{0}' is not valid: it has no \"keys\" list")]
    [InlineData("{\"keys\":[{\"name\":\"app1\",\"key\":\"\"}]}", "keys[0] of Llm:ApiKeysFile '{0}' ('app1') has an empty key.")]
    [InlineData("{\"keys\":[{\"key\":\"a\"}]}", "keys[0] of Llm:ApiKeysFile '{0}' has no name.")]
    [InlineData("{\"keys\":[{\"name\":\"app1\",\"key\":\"a\",\"tokensPerMinute\":0}]}",
        "keys[0] of Llm:ApiKeysFile '{0}' ('app1') has tokensPerMinute 0; a limit is a positive whole number, or left out for none.")]
    [InlineData("{\"keys\":[{\"name\":\"app1\",\"key\":\"a\",\"ttftMs\":-300}]}",
        "keys[0] of Llm:ApiKeysFile '{0}' ('app1') has ttftMs -300; a limit is a positive whole number, or left out for none.")]
    [InlineData("{\"keys\":[{\"name\":\"app1\",\"key\":\"a\",\"maxConcurrent\":\"two\"}]}", "Llm:ApiKeysFile '{0}' is not valid JSON")]
    [InlineData("{\"keys\":[{\"name\":\"app1\",\"key\":\"a\"},{\"name\":\"app1\",\"key\":\"b\"}]}", "Two keys are named 'app1' (keys[0] of Llm:ApiKeysFile '{0}' and keys[1] of")]
    public async Task AnInvalidKeysFileNamesTheFileAndTheProblem(string content, string problem)
    {
        var file = Path.Combine(TestPaths.NewScratchDirectory(), "keys.json");
        await File.WriteAllTextAsync(file, content);

        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", [$"--Llm:Model={TestPaths.TestModel}", $"--Llm:ApiKeysFile={file}"]);

        AssertOneLineError(result, string.Format(CultureInfo.InvariantCulture, problem, file));
    }

    [Fact]
    public async Task ReplicasOutOfRangeAreNamed()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", [$"--Llm:Model={TestPaths.TestModel}", "--Llm:LlamaCpp:Replicas=0"]);

        AssertOneLineError(result, "Llm:LlamaCpp:Replicas is 0; it must be between 1 and 16.");
    }

    [Fact]
    public async Task ASettingOfTheWrongTypeIsNamed()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", ["--Llm:GatewayPort=eighty"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'Llm:GatewayPort'", result.StandardError, StringComparison.Ordinal);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task AnUnknownBackendListsTheTwo()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", ["--Llm:Backend=tgi"]);

        AssertOneLineError(result, "Llm:Backend is 'tgi'; it must be llamacpp (llama-server) or vllm (vLLM on an NVIDIA GPU).");
    }

    [SkippableFact]
    public async Task VllmOnAMachineWithoutAnNvidiaGpuSaysSoInOneLine()
    {
        // These machines have no GPU: dotnet run with vLLM must stop before anything starts, not wait on a dead container.
        Skip.If(File.Exists("/dev/nvidiactl"), "this machine has an NVIDIA GPU");

        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", ["--Llm:Backend=vllm"], new Dictionary<string, string> { ["DOCKER_HOST"] = "" });

        AssertOneLineError(result, "Llm:Backend=vllm runs vLLM in a container on an NVIDIA GPU, and this machine has none (no /dev/nvidiactl)");
    }

    [Theory]
    [InlineData("--Llm:Vllm:GpuMemoryUtilization=1.5", "Llm:Vllm:GpuMemoryUtilization is 1.5; it must be a share of the GPU's memory, above 0.1 and at most 1.")]
    [InlineData("--Llm:Vllm:MaxNumSeqs=0", "Llm:Vllm:MaxNumSeqs is 0; it must be between 1 and 1024.")]
    [InlineData("--Llm:Vllm:Model=", "Llm:Vllm:Model must name a Hugging Face model (owner/name) or a path in the container.")]
    public async Task AWrongVllmSettingIsNamedBeforeAnythingStarts(string setting, string expected)
    {
        // In publish mode too: a GPU compose file that cannot run is never written.
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost",
            ["--operation", "publish", "--step", "publish-compose", "--output-path", TestPaths.NewScratchDirectory(), "--Llm:Backend=vllm", setting]);

        AssertOneLineError(result, expected);
    }

    [Fact]
    public async Task AFailedBuildNamesTheStepThatFailed()
    {
        // No llama-server anywhere and no npm on PATH: the build's first step cannot run.
        var emptyPath = TestPaths.NewScratchDirectory();
        var cache = TestPaths.NewScratchDirectory();

        var result = await ProjectProcess.RunAsync("LlmApp.AppHost", 
            [$"--Llm:Model={TestPaths.TestModel}", $"--Llm:CacheDirectory={cache}"],
            new Dictionary<string, string> { ["PATH"] = emptyPath });

        AssertOneLineError(result, "llama-server build step 'npm pack' failed: 'npm' could not be started");
        Assert.Contains($"no cached build for llama.cpp {LlamaCppSource.Version}", result.StandardOutput, StringComparison.Ordinal);
    }

    private static void AssertOneLineError(CommandRunner.Result result, string expected)
    {
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("llmapp: error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        AssertNoStackTrace(result);
    }

    private static void AssertNoStackTrace(CommandRunner.Result result)
    {
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.StandardError, StringComparison.Ordinal);
    }
}
