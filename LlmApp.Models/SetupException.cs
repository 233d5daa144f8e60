namespace LlmApp.Models;

/// <summary>
/// A problem the user can fix, found before anything starts. Its message is one line that names the
/// setting or the step at fault; Program prints it instead of a stack trace and exits non-zero.
/// </summary>
public sealed class SetupException(string message, Exception? innerException = null) : Exception(message, innerException);
