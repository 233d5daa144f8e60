using System.Runtime.InteropServices;
using LlmApp.Models;
using LlmApp.ModelTool;

// Ctrl-C and `docker stop` cancel the download rather than kill the process mid-write: the .part file is closed
// intact and the next run resumes it.
using var stop = new CancellationTokenSource();
var stoppedBy = 0;
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stoppedBy = context.Signal == PosixSignal.SIGTERM ? 15 : 2;
    stop.Cancel();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

try
{
    if (ToolOptions.Parse(args, Environment.GetEnvironmentVariable) is not { } options)
    {
        Console.WriteLine(ToolOptions.Usage);
        return 0;
    }

    if (options.BackendKeyFile is { } keyFile && BackendKeyFile.Ensure(keyFile))
    {
        SetupLog.Info($"backend key: made {keyFile} (the model server takes requests only with it)");
    }

    if (options.KeyOnly)
    {
        return 0;
    }

    if (ModelLink.IsMounted(options.Mounted))
    {
        ModelLink.Point(options.Link, options.Mounted!);
        SetupLog.Info($"model: {options.Mounted} (mounted file; no download), linked at {options.Link}");
        return 0;
    }

    var catalog = ModelCatalog.Load(options.CatalogPath);
    var entry = catalog.Find(options.Model)
        ?? throw new SetupException($"'{options.Model}' is not in the catalog; known models: {string.Join(", ", catalog.Models.Select(m => m.Name))}.");

    // No overall timeout: a multi-gigabyte download takes as long as it takes, and a stall surfaces as a socket error.
    using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
    var file = await ModelDownloader.EnsureAsync(entry, options.ModelsDirectory, options.Endpoint, http,
        "Set LLMAPP_MODEL_FILE in .env to a local .gguf file to run without a download.", stop.Token);
    ModelLink.Point(options.Link, file);
    SetupLog.Info($"model: {entry.Name} at {file}, linked at {options.Link}");
    return 0;
}
catch (SetupException ex)
{
    return Fail(ex.Message);
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
{
    // Disk full, a read-only volume, a directory where the link should go: the user's to fix, so no stack trace.
    return Fail(ex.Message);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("llmapp-model: stopped; a partial download is kept and resumes on the next run.");
    return 128 + stoppedBy;
}

static int Fail(string message)
{
    Console.Error.WriteLine($"llmapp-model: error: {message}");
    return 1;
}
