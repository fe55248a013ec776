using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>A read-modify-write of a balance guarded by a semaphore of two instead of a lock.</summary>
[Pattern(
    "Semaphore of two used as a lock",
    Problem = "Two concurrent deposits can both read the old balance, and one of them is lost.",
    Cause = "A Semaphore(2) lets two tasks in at once, so it does not make the read, the await and the write one atomic step.",
    Fix = "Guard the read-modify-write with a Lock (a semaphore of one), so only one task is between the read and the write.")]
public static class LockVsSemaphore
{
    private const int Deposit = 10;

    /// <summary>Two deposits under a Semaphore(2).</summary>
    [Test]
    [ExpectedFailure(FailureKind.InvariantViolation)]
    public static async Task LockVsSemaphoreBuggy()
    {
        var guard = new Semaphore(2, "balanceGuard");
        var account = new Account();

        await Task.WhenAll(new[]
        {
            Task.Run(() => DepositAsync(guard, account, Deposit)),
            Task.Run(() => DepositAsync(guard, account, Deposit)),
        });

        Check(guard, 2, account);
    }

    /// <summary>The same deposits under a Lock.</summary>
    [Test]
    public static async Task LockVsSemaphoreFixed()
    {
        var guard = new Lock("balanceGuard");
        var account = new Account();

        await Task.WhenAll(new[]
        {
            Task.Run(() => DepositAsync(guard, account, Deposit)),
            Task.Run(() => DepositAsync(guard, account, Deposit)),
        });

        Check(guard, 1, account);
    }

    private static async Task DepositAsync(Semaphore guard, Account account, int amount)
    {
        await using (await guard.HoldAsync())
        {
            var balance = account.Balance;

            // Write the audit record before storing the new balance.
            await Task.Yield();

            account.Balance = balance + amount;
        }
    }

    private static void Check(Semaphore guard, int permits, Account account)
    {
        Specification.Assert(account.Balance == 2 * Deposit, "The balance is {0} after two deposits of {1}: an update was lost.", account.Balance, Deposit);
        Specification.Assert(guard.Value == permits, "'{0}' has {1} of {2} permits free at the end.", guard.Name, guard.Value, permits);
    }

    private sealed class Account
    {
        public int Balance { get; set; }
    }
}
