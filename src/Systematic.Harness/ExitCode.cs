namespace Systematic.Harness;

/// <summary>The exit codes of the <c>systematic</c> command: one set, one meaning each.</summary>
internal enum ExitCode
{
    /// <summary>Every expectation was met: declared bugs caught with their kind, everything else passed; a replay reproduced its failure.</summary>
    Success = 0,

    /// <summary>Bad usage or input: unknown option or test, missing or unusable assembly or trace, unwritable report folder.</summary>
    InputError = 1,

    /// <summary>A bug was found in a test that declares none (any bug in a user's assembly).</summary>
    BugFound = 2,

    /// <summary>Systematic itself failed.</summary>
    InternalError = 3,

    /// <summary>A declared bug was not found or had another kind, or a replay did not reproduce its failure.</summary>
    ExpectationNotMet = 4,

    /// <summary>A test could not be explored as written: code Coyote does not control took part in it (kind Uncontrolled), so its outcome says nothing about the code.</summary>
    Untestable = 5,

    /// <summary>The run was interrupted (Ctrl-C or SIGTERM); what was found so far is written.</summary>
    Interrupted = 130,
}
