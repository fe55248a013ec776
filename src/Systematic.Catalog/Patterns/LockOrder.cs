using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>Two transfers between the same two accounts, each locking its source account first (ABBA).</summary>
[Pattern(
    "Lock order inversion (ABBA)",
    Problem = "A transfer from A to B and a transfer from B to A can each hold one account lock and wait for ever for the other.",
    Cause = "Each transfer locks its source account first, so the two transfers take the same two locks in opposite orders.",
    Fix = "Take the two locks in one global order (by account id), whatever the direction of the transfer.")]
public static class LockOrder
{
    /// <summary>Transfers A to B and B to A, each locking the source first.</summary>
    [Test]
    [ExpectedFailure(FailureKind.LockOrderDeadlock)]
    public static async Task LockOrderBuggy()
    {
        var a = new Account(1, new Lock("accountA"), 100);
        var b = new Account(2, new Lock("accountB"), 100);

        await Task.WhenAll(new[]
        {
            Task.Run(() => TransferBuggyAsync(a, b, 30)),
            Task.Run(() => TransferBuggyAsync(b, a, 20)),
        });

        Check(a, b);
    }

    /// <summary>The same transfers, locking the account with the lower id first.</summary>
    [Test]
    public static async Task LockOrderFixed()
    {
        var a = new Account(1, new Lock("accountA"), 100);
        var b = new Account(2, new Lock("accountB"), 100);

        await Task.WhenAll(new[]
        {
            Task.Run(() => TransferFixedAsync(a, b, 30)),
            Task.Run(() => TransferFixedAsync(b, a, 20)),
        });

        Check(a, b);
    }

    private static async Task TransferBuggyAsync(Account from, Account to, int amount)
    {
        await using (await from.Guard.HoldAsync())
        {
            // Check the source's limits before touching the destination.
            await Task.Yield();
            await using (await to.Guard.HoldAsync())
            {
                from.Balance -= amount;
                to.Balance += amount;
            }
        }
    }

    private static async Task TransferFixedAsync(Account from, Account to, int amount)
    {
        var (first, second) = from.Id < to.Id ? (from, to) : (to, from);
        await using (await first.Guard.HoldAsync())
        {
            await Task.Yield();
            await using (await second.Guard.HoldAsync())
            {
                from.Balance -= amount;
                to.Balance += amount;
            }
        }
    }

    private static void Check(Account a, Account b)
    {
        Specification.Assert(a.Balance == 90 && b.Balance == 110, "Balances are {0} and {1}, expected 90 and 110.", a.Balance, b.Balance);
        Specification.Assert(!a.Guard.Locked && !b.Guard.Locked, "An account lock is still held at the end.");
    }

    private sealed class Account(int id, Lock guard, int balance)
    {
        public int Id { get; } = id;

        public Lock Guard { get; } = guard;

        public int Balance { get; set; } = balance;
    }
}
