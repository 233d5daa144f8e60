namespace LlmApp.Tests.Infrastructure;

/// <summary>Where the tests find the repository, the tiny test model and a scratch cache.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>
    /// The model every test serves: <c>LLMAPP_TEST_MODEL</c>, else the shared tiny random-weights Llama
    /// (gibberish, but real GGUF through the real llama-server, and fast on one core).
    /// </summary>
    public static string TestModel
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("LLMAPP_TEST_MODEL");
            var path = Path.GetFullPath(string.IsNullOrWhiteSpace(configured)
                ? Path.Combine(RepositoryRoot, "..", "shared", "models", "llama-2-tiny-random.gguf")
                : configured);
            return File.Exists(path)
                ? path
                : throw new InvalidOperationException($"The test model {path} does not exist; set LLMAPP_TEST_MODEL to a .gguf file.");
        }
    }

    public static string NewScratchDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "llmapp-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LlmApp.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"LlmApp.sln was not found above {AppContext.BaseDirectory}.");
    }
}
