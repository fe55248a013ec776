namespace Systematic.Harness;

/// <summary>Bad input: a missing or unusable assembly, an unknown test, a bad trace. Its message is one line for the user.</summary>
internal sealed class HarnessException(string message, Exception? inner = null) : Exception(message, inner);
