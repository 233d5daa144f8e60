namespace LlmApp.Gateway.OpenAI;

/// <summary>llama-server's <c>POST /tokenize</c>: text to tokens, with the model's special tokens added and recognised, as for a prompt.</summary>
public sealed record TokenizeRequest(string Content, bool AddSpecial, bool ParseSpecial);
