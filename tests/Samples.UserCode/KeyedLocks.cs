using System.Collections.Concurrent;
using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>Balances kept per account name, each guarded by a lock made on first use and kept in a dictionary.</summary>
public sealed class Ledgers
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();
    private readonly ConcurrentDictionary<string, decimal> _balances = new();

    public decimal this[string account] => _balances.GetValueOrDefault(account);

    /// <summary>Buggy: locks the source, then the destination; transfers in opposite directions deadlock.</summary>
    public async Task TransferAsync(string from, string to, decimal amount)
    {
        var source = await LockAsync(from);
        var destination = await LockAsync(to);
        Move(from, to, amount);
        destination.Release();
        source.Release();
    }

    /// <summary>Fixed: always locks the two accounts in name order.</summary>
    public async Task TransferInNameOrderAsync(string from, string to, decimal amount)
    {
        var (first, second) = string.CompareOrdinal(from, to) < 0 ? (from, to) : (to, from);
        var one = await LockAsync(first);
        var two = await LockAsync(second);
        Move(from, to, amount);
        two.Release();
        one.Release();
    }

    private async Task<SemaphoreSlim> LockAsync(string account)
    {
        var gate = _locks.GetOrAdd(account, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        return gate;
    }

    private void Move(string from, string to, decimal amount)
    {
        _balances[from] = this[from] - amount;
        _balances[to] = this[to] + amount;
    }
}

public static class KeyedLockTests
{
    /// <summary>Two transfers between the same accounts in opposite directions, each taking the per-key locks through a helper.</summary>
    [Test]
    public static async Task KeyedTransferBuggy()
    {
        var ledgers = new Ledgers();
        await Task.WhenAll(new[] { Task.Run(() => ledgers.TransferAsync("alice", "bob", 5)), Task.Run(() => ledgers.TransferAsync("bob", "alice", 3)) });
        Specification.Assert(ledgers["alice"] == -2 && ledgers["bob"] == 2, "Both transfers are applied.");
    }

    [Test]
    public static async Task KeyedTransferFixed()
    {
        var ledgers = new Ledgers();
        await Task.WhenAll(new[] { Task.Run(() => ledgers.TransferInNameOrderAsync("alice", "bob", 5)), Task.Run(() => ledgers.TransferInNameOrderAsync("bob", "alice", 3)) });
        Specification.Assert(ledgers["alice"] == -2 && ledgers["bob"] == 2, "Both transfers are applied.");
    }
}
