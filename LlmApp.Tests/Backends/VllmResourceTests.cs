using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using LlmApp.AppHost.Settings;

namespace LlmApp.Tests.Backends;

/// <summary>
/// The vLLM resource as <c>dotnet run</c> starts it (<c>Llm:Backend=vllm</c>): its image, command line, environment and
/// GPU, and what the gateway is told about it. vLLM itself cannot run here (no GPU, no image), so the resource is
/// checked as Aspire would hand it to Docker; the gateway's side of it runs for real in <see cref="OpenAIBackendTests"/>.
/// </summary>
public sealed class VllmResourceTests
{
    [Fact]
    public async Task ItServesTheSettingsModelUnderTheClientsModelIdWithToolCallingOnOneGpu()
    {
        var builder = DistributedApplication.CreateBuilder([]);

        var vllm = builder.AddVllm("llm", new VllmSettings());

        var resource = vllm.Resource;
        Assert.True(resource.TryGetLastAnnotation<ContainerImageAnnotation>(out var image));
        Assert.Equal(("vllm/vllm-openai", "v0.11.0"), (image.Image, image.Tag));
        Assert.Equal(
        [
            "--model", "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", "--served-model-name", "llama-3.1-8b-instruct",
            "--host", "0.0.0.0", "--port", "8000", "--max-model-len", "8192", "--gpu-memory-utilization", "0.9", "--max-num-seqs", "16",
            "--enable-auto-tool-choice", "--tool-call-parser", "llama3_json",
            "--chat-template", "/vllm-workspace/examples/tool_chat_template_llama3.1_json.jinja",
        ], await ArgumentsAsync(resource));
        var runtimeArgs = new List<object>();
        foreach (var annotation in resource.Annotations.OfType<ContainerRuntimeArgsCallbackAnnotation>())
        {
            await annotation.Callback(new ContainerRuntimeArgsCallbackContext(runtimeArgs));
        }

        Assert.Equal(["--gpus", "all", "--ipc", "host"], runtimeArgs);
        var endpoint = Assert.Single(resource.Annotations.OfType<EndpointAnnotation>());
        Assert.Equal(8000, endpoint.TargetPort);
        Assert.Contains(resource.Annotations.OfType<HealthCheckAnnotation>(), _ => true);
        Assert.Contains(resource.Annotations.OfType<ContainerMountAnnotation>(), m => m.Source == "huggingface-cache" && m.Target == "/root/.cache/huggingface");
        // A key of its own, generated at start (a secret parameter), which vLLM reads from VLLM_API_KEY.
        var environment = await EnvironmentAsync(resource);
        var key = Assert.IsType<ParameterResource>(environment["VLLM_API_KEY"]);
        Assert.True(key.Secret);
        Assert.Same(key, resource.BackendKey());
        Assert.False(environment.ContainsKey("HF_TOKEN"), "an HF_TOKEN without one configured");
        Assert.Equal("openai", resource.Kind);
        Assert.Equal(16, resource.Capacity);
        Assert.Equal(8192, resource.ContextLength);
    }

    [Fact]
    public async Task TheHuggingFaceTokenComesFromConfigurationAsASecretParameter()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        builder.Configuration["HF_TOKEN"] = "hf_test_token";

        var vllm = builder.AddVllm("llm", new VllmSettings { Model = "meta-llama/Llama-3.1-8B-Instruct" });

        var environment = await EnvironmentAsync(vllm.Resource);
        var parameter = Assert.IsType<ParameterResource>(environment["HF_TOKEN"]);
        Assert.Equal("hf-token", parameter.Name);
        Assert.True(parameter.Secret);
        Assert.Equal("hf_test_token", builder.Configuration["HF_TOKEN"]);
        Assert.Equal("meta-llama/Llama-3.1-8B-Instruct", (await ArgumentsAsync(vllm.Resource))[1]);
    }

    [Fact]
    public async Task TheGatewayLearnsItsKindCapacityModelContextAndKey()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var vllm = builder.AddVllm("llm", new VllmSettings { MaxNumSeqs = 48 });
        // Any resource with an environment stands in for the gateway project here: what matters is what it is given.
        var gateway = builder.AddContainer("gateway", "llmapp-gateway");

        gateway.WithLlmBackends(vllm.AsLlmBackends());

        var environment = await EnvironmentAsync(gateway.Resource);
        var backendKey = (await EnvironmentAsync(vllm.Resource))["VLLM_API_KEY"];
        Assert.Equal("openai", environment["Backend__Kind"]);
        Assert.Equal("48", environment["Backend__Capacity"]);
        Assert.Equal("llama-3.1-8b-instruct", environment["Backend__Model"]);
        Assert.Equal("8192", environment["Backend__ContextLength"]);
        Assert.Equal("llm", environment["Backend__Name"]);
        Assert.Same(backendKey, environment["Backend__ApiKey"]);
        Assert.Contains(gateway.Resource.Annotations.OfType<WaitAnnotation>(), w => w.Resource == vllm.Resource);
    }

    /// <summary>The command line the resource's callbacks give the container at run.</summary>
    private static async Task<List<string>> ArgumentsAsync(VllmResource resource)
    {
        var arguments = new List<object>();
        var context = new CommandLineArgsCallbackContext(arguments, resource, CancellationToken.None) { ExecutionContext = RunContext };
        foreach (var callback in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        return [.. arguments.Cast<string>()];
    }

    /// <summary>
    /// The environment the resource's callbacks give it at run, unresolved: a parameter stays the parameter (its value
    /// exists only once the app runs), an endpoint the reference; plain values are strings.
    /// </summary>
    private static async Task<Dictionary<string, object>> EnvironmentAsync(IResource resource)
    {
        var variables = new Dictionary<string, object>(StringComparer.Ordinal);
        var context = new EnvironmentCallbackContext(RunContext, resource, variables, CancellationToken.None);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        return variables;
    }

    private static DistributedApplicationExecutionContext RunContext => new(DistributedApplicationOperation.Run);
}
