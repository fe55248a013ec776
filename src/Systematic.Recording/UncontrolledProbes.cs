using System.ComponentModel;

namespace Systematic.Recording;

/// <summary>A call into code Coyote 1.7.11 does not control, made while a test ran.</summary>
/// <param name="Api">The API called, e.g. <c>ChannelReader&lt;T&gt;.ReadAsync</c>.</param>
/// <param name="Site">Where it was called.</param>
/// <param name="Task">The task that called it.</param>
public sealed record UncontrolledCall(string Api, SourceSite? Site, int Task)
{
    /// <summary>Gets the call as one line: the API and its site.</summary>
    public override string ToString() => this.Site is null ? this.Api : $"{this.Api} at {this.Site.Short}";
}

/// <summary>
/// The probe the instrumenter puts before each call Systematic's doctor lists as uncontrolled: the log keeps which task
/// called what where, so a failure near such a call says it may be a false alarm, and its trace is not promised to replay.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class UncontrolledProbes
{
    /// <summary>Notes a call into code Coyote does not control.</summary>
    public static void Called(string api, string site)
    {
        if (Recorder.Live is { } session)
        {
            session.Log.AddUncontrolled(new UncontrolledCall(api, AsyncProbes.Site(site), Recorder.CurrentTask));
        }
    }
}
