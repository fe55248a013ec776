using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>An append-only audit log shared by all accounts.</summary>
public sealed class Ledger
{
    private readonly object _sync = new();
    private readonly List<string> _entries = [];

    public void Record(string entry)
    {
        lock (_sync)
        {
            _entries.Add(entry);
        }
    }

    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _entries.Count;
            }
        }
    }
}

/// <summary>A bank account whose balance is guarded by its own gate.</summary>
public sealed class Account
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Ledger _ledger;

    public Account(int id, decimal balance, Ledger ledger)
    {
        Id = id;
        Balance = balance;
        _ledger = ledger;
    }

    public int Id { get; }

    public decimal Balance { get; private set; }

    /// <summary>Buggy: locks this account, then the destination. Transfers around a ring deadlock.</summary>
    public async Task TransferToAsync(Account destination, decimal amount)
    {
        await _gate.WaitAsync();
        try
        {
            await destination._gate.WaitAsync();
            try
            {
                Move(destination, amount);
            }
            finally
            {
                destination._gate.Release();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Fixed: always locks the account with the lower id first.</summary>
    public async Task TransferToInIdOrderAsync(Account destination, decimal amount)
    {
        var (first, second) = Id < destination.Id ? (this, destination) : (destination, this);

        await first._gate.WaitAsync();
        try
        {
            await second._gate.WaitAsync();
            try
            {
                Move(destination, amount);
            }
            finally
            {
                second._gate.Release();
            }
        }
        finally
        {
            first._gate.Release();
        }
    }

    private void Move(Account destination, decimal amount)
    {
        if (Balance < amount)
        {
            throw new InvalidOperationException($"Account {Id} has insufficient funds.");
        }

        Balance -= amount;
        destination.Balance += amount;
        _ledger.Record($"{Id} -> {destination.Id}: {amount}");
    }
}

public static class BankTests
{
    /// <summary>Transfers A to B, B to C and C to A at once, each locking its source first.</summary>
    [Test]
    public static async Task TransferCycleBuggy()
    {
        var ledger = new Ledger();
        var a = new Account(1, 100m, ledger);
        var b = new Account(2, 100m, ledger);
        var c = new Account(3, 100m, ledger);

        await Task.WhenAll(new[]
        {
            Task.Run(() => a.TransferToAsync(b, 10m)),
            Task.Run(() => b.TransferToAsync(c, 20m)),
            Task.Run(() => c.TransferToAsync(a, 30m)),
        });

        Specification.Assert(a.Balance + b.Balance + c.Balance == 300m, "Money was created or destroyed.");
        Specification.Assert(ledger.Count == 3, $"Expected 3 ledger entries, found {ledger.Count}.");
    }

    /// <summary>The same ring of transfers, locking in account-id order.</summary>
    [Test]
    public static async Task TransferCycleFixed()
    {
        var ledger = new Ledger();
        var a = new Account(1, 100m, ledger);
        var b = new Account(2, 100m, ledger);
        var c = new Account(3, 100m, ledger);

        await Task.WhenAll(new[]
        {
            Task.Run(() => a.TransferToInIdOrderAsync(b, 10m)),
            Task.Run(() => b.TransferToInIdOrderAsync(c, 20m)),
            Task.Run(() => c.TransferToInIdOrderAsync(a, 30m)),
        });

        Specification.Assert(a.Balance + b.Balance + c.Balance == 300m, "Money was created or destroyed.");
        Specification.Assert(ledger.Count == 3, $"Expected 3 ledger entries, found {ledger.Count}.");
        Specification.Assert(a.Balance == 120m && b.Balance == 90m && c.Balance == 90m, "Unexpected final balances.");
    }
}
