namespace LlmApp.AppHost.Models;

/// <summary>One model of models/catalog.json: where to get it and how to know it arrived intact.</summary>
public sealed record CatalogEntry(
    string Name,
    string Repo,
    string Revision,
    string File,
    long Size,
    string Sha256,
    string License,
    string Description);
