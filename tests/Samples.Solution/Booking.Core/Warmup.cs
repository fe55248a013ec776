namespace Booking;

/// <summary>Loads the show schedule once at startup; requests wait until it is ready.</summary>
public sealed class ScheduleWarmup
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _shows = [];

    public Task Ready => _ready.Task;

    public IReadOnlyList<string> Shows => _shows;

    /// <summary>Buggy: when the source is empty it returns early and never opens the gate; every request waits for ever.</summary>
    public async Task LoadAsync(IReadOnlyList<string> source)
    {
        await Task.Yield();
        if (source.Count == 0)
        {
            return;
        }

        _shows.AddRange(source);
        _ready.SetResult();
    }

    /// <summary>Fixed: the gate opens on every path.</summary>
    public async Task LoadOrOpenAsync(IReadOnlyList<string> source)
    {
        try
        {
            await Task.Yield();
            _shows.AddRange(source);
        }
        finally
        {
            _ready.TrySetResult();
        }
    }

    public async Task<int> CountShowsAsync()
    {
        await Ready.ConfigureAwait(false);
        return _shows.Count;
    }
}
