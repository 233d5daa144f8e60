using LlmApp.AppHost.LlamaCpp;
using LlmApp.Tests.Infrastructure;

namespace LlmApp.Tests.Compose;

/// <summary>
/// The GPU deployments the publish step writes: vLLM (docker-compose.gpu.yml) and llama.cpp's CUDA build
/// (docker-compose.cuda.yml). Neither can run here (no GPU; the vLLM and CUDA images cannot be fetched), so what is
/// checked is the file: what each service gets, and that docker-compose takes it.
/// </summary>
public sealed class GpuComposeTests
{
    [SkippableFact]
    public async Task VllmTakesTheBackendsPlaceOnOneReservedGpuAndTheGatewayIsTheSame()
    {
        var output = await ComposeGeneration.GenerateAsync(["--Llm:Backend=vllm"]);

        Assert.False(File.Exists(Path.Combine(output, "docker-compose.yml")), "the CPU file was written for the vLLM backend");
        var compose = await File.ReadAllTextAsync(Path.Combine(output, "docker-compose.gpu.yml"));
        var environment = await File.ReadAllTextAsync(Path.Combine(output, ".env.gpu"));
        var llm = Service(compose, "llm");
        Assert.Contains("    image: \"vllm/vllm-openai:v0.11.0\"\n", llm, StringComparison.Ordinal);
        Assert.Contains("    - --served-model-name\n    - \"${LLMAPP_VLLM_SERVED_MODEL:?", llm, StringComparison.Ordinal);
        Assert.Contains("    - --max-model-len\n    - \"8192\"\n", llm, StringComparison.Ordinal);
        Assert.Contains("    - --gpu-memory-utilization\n    - \"0.9\"\n", llm, StringComparison.Ordinal);
        Assert.Contains("    - --enable-auto-tool-choice\n    - --tool-call-parser\n    - llama3_json\n", llm, StringComparison.Ordinal);
        Assert.Contains("    - --chat-template\n    - /vllm-workspace/examples/tool_chat_template_llama3.1_json.jinja\n", llm, StringComparison.Ordinal);
        Assert.Contains("    deploy:\n      resources:\n        reservations:\n          devices:\n          - driver: nvidia\n            count: 1\n", llm, StringComparison.Ordinal);
        Assert.Contains("    - \"huggingface-cache:/root/.cache/huggingface\"\n", llm, StringComparison.Ordinal);
        Assert.Contains("      start_period: 1200s\n", llm, StringComparison.Ordinal);
        // The Hugging Face token only from the shell; the backend key from the volume, made by a one-shot.
        Assert.Contains("      HF_TOKEN: \"${HF_TOKEN:-}\"\n", llm, StringComparison.Ordinal);
        Assert.DoesNotContain("\nHF_TOKEN=", environment, StringComparison.Ordinal);
        Assert.Contains("      llm-key:\n        condition: service_completed_successfully\n", llm, StringComparison.Ordinal);
        Assert.Contains("    - --key-only\n", Service(compose, "llm-key"), StringComparison.Ordinal);
        Assert.DoesNotContain("llama-cpp", compose, StringComparison.Ordinal);

        var gateway = Service(compose, "gateway");
        Assert.Contains("      Backend__Kind: openai\n", gateway, StringComparison.Ordinal);
        Assert.Contains("      Backend__Endpoint: \"http://llm:8000\"\n", gateway, StringComparison.Ordinal);
        Assert.Contains("      Backend__Capacity: \"16\"\n", gateway, StringComparison.Ordinal);
        Assert.Contains("    image: \"llmapp-gateway:latest\"\n", gateway, StringComparison.Ordinal);
        var prometheus = Service(compose, "prometheus");
        Assert.Contains("      LLMAPP_BACKEND_JOB: vllm\n", prometheus, StringComparison.Ordinal);
        Assert.Contains("      LLMAPP_BACKEND_TARGETS: \"llm:8000\"\n", prometheus, StringComparison.Ordinal);
        Assert.Contains("\nLLMAPP_VLLM_MODEL=hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4\n", environment, StringComparison.Ordinal);
        Assert.Contains("\nLLMAPP_VLLM_SERVED_MODEL=llama-3.1-8b-instruct\n", environment, StringComparison.Ordinal);

        await AssertComposeTakesAsync(output, "docker-compose.gpu.yml", ".env.gpu");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task VllmStartsWithTheKeyFromItsVolumeAndRefusesToStartOpenWithoutIt()
    {
        var output = await ComposeGeneration.GenerateAsync(["--Llm:Backend=vllm"]);
        var compose = await File.ReadAllTextAsync(Path.Combine(output, "docker-compose.gpu.yml"));
        // The entrypoint's script as compose hands it to sh ($$ is compose's escape for $), run by this machine's sh with
        // the key file somewhere a test can write. vLLM cannot run here: a python3 on PATH stands in for it and prints
        // what it was started with.
        var line = Service(compose, "llm").Split('\n').Single(l => l.StartsWith("    - \"key=", StringComparison.Ordinal));
        var scratch = TestPaths.NewScratchDirectory();
        var keyFile = Path.Combine(scratch, "key");
        var script = System.Text.Json.JsonSerializer.Deserialize<string>(line["    - ".Length..])!
            .Replace("$$", "$", StringComparison.Ordinal).Replace("/etc/llmapp/backend-key/key", keyFile, StringComparison.Ordinal);
        var bin = Directory.CreateDirectory(Path.Combine(scratch, "bin")).FullName;
        await File.WriteAllTextAsync(Path.Combine(bin, "python3"), "#!/bin/sh\necho \"key=$VLLM_API_KEY args=$*\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "python3"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var environment = new Dictionary<string, string> { ["PATH"] = $"{bin}:/usr/bin:/bin" };

        var missing = await CommandRunner.RunAsync("/bin/sh", ["-c", script, "vllm", "--model", "m"], scratch, environment);
        await File.WriteAllTextAsync(keyFile, " \n");
        var blank = await CommandRunner.RunAsync("/bin/sh", ["-c", script, "vllm", "--model", "m"], scratch, environment);
        await File.WriteAllTextAsync(keyFile, "0123abcd\n");
        var keyed = await CommandRunner.RunAsync("/bin/sh", ["-c", script, "vllm", "--model", "m"], scratch, environment);

        foreach (var open in (CommandRunner.Result[])[missing, blank])
        {
            Assert.Equal(1, open.ExitCode);
            Assert.Contains("is missing or empty; the llm-key service makes it", Assert.Single(open.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)),
                StringComparison.Ordinal);
            Assert.DoesNotContain("args=", open.StandardOutput, StringComparison.Ordinal);
        }

        Assert.True(keyed.ExitCode == 0, keyed.Output);
        Assert.Equal("key=0123abcd args=-m vllm.entrypoints.openai.api_server --model m", keyed.StandardOutput.Trim());
    }

    [Fact]
    public async Task BF16IsOneSettingAway()
    {
        var output = await ComposeGeneration.GenerateAsync(["--Llm:Backend=vllm", "--Llm:Vllm:Model=meta-llama/Llama-3.1-8B-Instruct", "--Llm:Vllm:MaxNumSeqs=8"]);

        var compose = await File.ReadAllTextAsync(Path.Combine(output, "docker-compose.gpu.yml"));
        Assert.Contains("\nLLMAPP_VLLM_MODEL=meta-llama/Llama-3.1-8B-Instruct\n", await File.ReadAllTextAsync(Path.Combine(output, ".env.gpu")), StringComparison.Ordinal);
        Assert.Contains("    - --max-num-seqs\n    - \"8\"\n", Service(compose, "llm"), StringComparison.Ordinal);
        Assert.Contains("      Backend__Capacity: \"8\"\n", Service(compose, "gateway"), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task WithoutItsEnvironmentFileTheGpuFileStopsWithTheCommandToUse()
    {
        var output = await ComposeGeneration.GenerateAsync(["--Llm:Backend=vllm"]);
        File.Delete(Path.Combine(output, ".env.gpu"));

        var config = await DockerCompose.CliAsync(output, ["--file", "docker-compose.gpu.yml", "config", "--quiet"]);

        Assert.NotEqual(0, config.ExitCode);
        Assert.Contains("start with: docker compose --env-file .env.gpu -f docker-compose.gpu.yml up -d", config.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task TheCudaBuildIsTheSameLlamaServerWithEveryLayerOnAReservedGpu()
    {
        var output = await ComposeGeneration.GenerateAsync(["--Llm:LlamaCpp:Cuda=true", "--Llm:Compose:Model=llama-3.1-8b-instruct", "--Llm:LlamaCpp:Parallel=8"]);

        var compose = await File.ReadAllTextAsync(Path.Combine(output, "docker-compose.cuda.yml"));
        var llm = Service(compose, "llm");
        Assert.Contains($"    image: \"llmapp-llama-cpp-cuda:{LlamaCppSource.Version}\"\n", llm, StringComparison.Ordinal);
        Assert.Contains("containers/llama-cpp\n", llm, StringComparison.Ordinal);
        Assert.Contains("      dockerfile: Dockerfile.cuda\n", llm, StringComparison.Ordinal);
        Assert.Contains("      LLAMA_ARG_N_GPU_LAYERS: \"999\"\n", llm, StringComparison.Ordinal);
        Assert.Contains("      LLAMA_ARG_N_PARALLEL: \"8\"\n", llm, StringComparison.Ordinal);
        Assert.Contains("          - driver: nvidia\n", llm, StringComparison.Ordinal);
        Assert.Contains("      Backend__Kind: llamacpp\n", Service(compose, "gateway"), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(TestPaths.RepositoryRoot, "containers", "llama-cpp", "Dockerfile.cuda")));

        await AssertComposeTakesAsync(output, "docker-compose.cuda.yml", ".env.cuda");
    }

    [Fact]
    public async Task TheCudaBuildChecksTheModelAgainstTheGpusMemory()
    {
        var result = await ProjectProcess.RunAsync("LlmApp.AppHost",
        [
            "--operation", "publish", "--step", "publish-compose", "--output-path", TestPaths.NewScratchDirectory(),
            "--Llm:LlamaCpp:Cuda=true", "--Llm:Compose:Model=llama-3.1-8b-instruct", "--Llm:Compose:GpuMemoryMiB=4096",
        ]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Llm:Compose:GpuMemoryMiB", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
    }

    /// <summary>The lines of one service in the generated file, from its name to the next service.</summary>
    private static string Service(string compose, string name)
    {
        var start = compose.IndexOf($"\n  {name}:\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no service {name}");
        var lines = compose[(start + 1)..].Split('\n');
        return string.Join('\n', lines.Skip(1).TakeWhile(line => line.StartsWith("    ", StringComparison.Ordinal) || line.Length == 0)) + "\n";
    }

    private static async Task AssertComposeTakesAsync(string output, string file, string environmentFile)
    {
        var config = await DockerCompose.CliAsync(output, ["--file", file, "--env-file", environmentFile, "config", "--quiet"]);
        Assert.True(config.ExitCode == 0, config.Output);
    }
}
