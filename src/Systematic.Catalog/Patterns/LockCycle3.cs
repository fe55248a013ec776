using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>Three transfers around a ring of three accounts, each locking its source account first.</summary>
[Pattern(
    "Lock order cycle of three",
    Problem = "Transfers A to B, B to C and C to A can each hold one account lock and wait for ever for the next one.",
    Cause = "Each transfer locks its source first, so the three lock orders form a cycle A, B, C, A although no two transfers are inverses.",
    Fix = "Take every pair of locks in one global order (by account id), which makes a cycle impossible.")]
public static class LockCycle3
{
    /// <summary>A ring of transfers, each locking the source first.</summary>
    [Test]
    [ExpectedFailure(FailureKind.LockOrderDeadlock)]
    public static async Task LockCycle3Buggy()
    {
        var a = new Account(1, new Lock("accountA"), 100);
        var b = new Account(2, new Lock("accountB"), 100);
        var c = new Account(3, new Lock("accountC"), 100);

        await Task.WhenAll(new[]
        {
            Task.Run(() => TransferBuggyAsync(a, b, 10)),
            Task.Run(() => TransferBuggyAsync(b, c, 20)),
            Task.Run(() => TransferBuggyAsync(c, a, 30)),
        });

        Check(a, b, c);
    }

    /// <summary>The same ring, locking the account with the lower id first.</summary>
    [Test]
    public static async Task LockCycle3Fixed()
    {
        var a = new Account(1, new Lock("accountA"), 100);
        var b = new Account(2, new Lock("accountB"), 100);
        var c = new Account(3, new Lock("accountC"), 100);

        await Task.WhenAll(new[]
        {
            Task.Run(() => TransferFixedAsync(a, b, 10)),
            Task.Run(() => TransferFixedAsync(b, c, 20)),
            Task.Run(() => TransferFixedAsync(c, a, 30)),
        });

        Check(a, b, c);
    }

    private static async Task TransferBuggyAsync(Account from, Account to, int amount)
    {
        await using (await from.Guard.HoldAsync())
        {
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

    private static void Check(Account a, Account b, Account c)
    {
        Specification.Assert(a.Balance == 120 && b.Balance == 90 && c.Balance == 90, "Balances are {0}, {1} and {2}, expected 120, 90 and 90.", a.Balance, b.Balance, c.Balance);
        Specification.Assert(!a.Guard.Locked && !b.Guard.Locked && !c.Guard.Locked, "An account lock is still held at the end.");
    }

    private sealed class Account(int id, Lock guard, int balance)
    {
        public int Id { get; } = id;

        public Lock Guard { get; } = guard;

        public int Balance { get; set; } = balance;
    }
}
