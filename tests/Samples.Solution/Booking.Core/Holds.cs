namespace Booking;

/// <summary>Holds seats through a pool of two agents; a hold gives up after a timeout.</summary>
public sealed class HoldService
{
    private readonly SemaphoreSlim _agents = new(2, 2);

    /// <summary>Gets the agents free now.</summary>
    public int FreeAgents => _agents.CurrentCount;

    /// <summary>Buggy: when the timeout fires while the hold is being confirmed, the agent is never given back.</summary>
    public async Task HoldAsync(string seat, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        await _agents.WaitAsync(cts.Token).ConfigureAwait(false);
        await ConfirmAsync(seat, cts.Token).ConfigureAwait(false);
        _agents.Release();
    }

    /// <summary>Fixed: the agent goes back on every path.</summary>
    public async Task HoldSafelyAsync(string seat, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        await _agents.WaitAsync(cts.Token).ConfigureAwait(false);
        try
        {
            await ConfirmAsync(seat, cts.Token).ConfigureAwait(false);
        }
        finally
        {
            _agents.Release();
        }
    }

    private static async Task ConfirmAsync(string seat, CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        _ = seat;
    }
}
