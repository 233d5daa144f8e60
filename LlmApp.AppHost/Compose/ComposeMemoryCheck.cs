using LlmApp.AppHost.Memory;
using LlmApp.Models;

namespace LlmApp.AppHost.Compose;

/// <summary>
/// The memory check of a compose llama-server, at generation: its model (sized from the catalog, or from the file's
/// header) against its own service's memory limit, so that a file that cannot run on the server is never written.
/// </summary>
public static class ComposeMemoryCheck
{
    public static void EnsureFits(
        ComposeModel model, ServerLoad load, int limitMiB, string service, string limitSetting, string modelSetting, ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(model);
        var server = model.Entry is { } entry ? ServerToFit.FromCatalog(entry, load) : ServerToFit.FromFile(model.LocalFile!, load);
        MemoryFit.EnsureFits([server], MemoryLimit.FromSetting(limitMiB, $"the {service} service", limitSetting), catalog, modelSetting);
    }
}
