namespace Booking;

/// <summary>Renders show posters on a single hardware encoder.</summary>
public sealed class PosterRenderer
{
    private readonly SemaphoreSlim _encoder = new(1, 1);
    private readonly List<string> _rendered = [];

    public IReadOnlyList<string> Rendered => _rendered;

    public async Task RenderAsync(string size)
    {
        await _encoder.WaitAsync().ConfigureAwait(false);
        try
        {
            await Task.Yield();
            _rendered.Add(size);
        }
        finally
        {
            _encoder.Release();
        }
    }

    /// <summary>Correct: two renders side by side; each takes the encoder in turn (C# 13 binds WhenAll(a, b) to its span overload).</summary>
    public Task RenderPairAsync() => Task.WhenAll(RenderAsync("small"), RenderAsync("large"));

    /// <summary>Buggy: holds the encoder to "reserve" it while it waits for renders that each need the encoder.</summary>
    public async Task RenderPairReservedAsync()
    {
        await _encoder.WaitAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(RenderAsync("small"), RenderAsync("large")).ConfigureAwait(false);
        }
        finally
        {
            _encoder.Release();
        }
    }
}
