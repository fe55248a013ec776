using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Systematic.Catalog.Patterns;

using Systematic.Catalog.Primitives;

/// <summary>A deposit that, while holding the wallet lock, calls a helper that takes the same lock again.</summary>
[Pattern(
    "Non-reentrant lock taken twice in one flow",
    Problem = "A deposit waits for ever for the wallet lock that it holds itself, and every other deposit waits behind it.",
    Cause = "The lock is not reentrant, and the deposit awaits a public helper that acquires the same lock in the same async flow.",
    Fix = "Split the helper into a locking public method and a lock-free inner method that assumes the lock is held, and call the inner one.")]
public static class Reentrant
{
    private const int Fee = 1;

    /// <summary>Two deposits whose fee helper re-acquires the wallet lock.</summary>
    [Test]
    [ExpectedFailure(FailureKind.SelfDeadlock)]
    public static async Task ReentrantBuggy()
    {
        var wallet = new Wallet(new Lock("wallet"));

        await Task.WhenAll(new[]
        {
            Task.Run(() => wallet.DepositBuggyAsync(50)),
            Task.Run(() => wallet.DepositBuggyAsync(30)),
        });

        wallet.Check(80 - (2 * Fee));
    }

    /// <summary>The same deposits, charging the fee through the lock-free inner helper.</summary>
    [Test]
    public static async Task ReentrantFixed()
    {
        var wallet = new Wallet(new Lock("wallet"));

        await Task.WhenAll(new[]
        {
            Task.Run(() => wallet.DepositFixedAsync(50)),
            Task.Run(() => wallet.DepositFixedAsync(30)),
        });
        await wallet.ChargeFeeAsync();

        wallet.Check(80 - (3 * Fee));
    }

    private sealed class Wallet(Lock guard)
    {
        private int balance;

        public async Task DepositBuggyAsync(int amount)
        {
            await using (await guard.HoldAsync())
            {
                await Task.Yield();
                this.balance += amount;
                await this.ChargeFeeAsync();
            }
        }

        public async Task DepositFixedAsync(int amount)
        {
            await using (await guard.HoldAsync())
            {
                await Task.Yield();
                this.balance += amount;
                this.ChargeFeeLocked();
            }
        }

        // Public entry point: takes the lock itself.
        public async Task ChargeFeeAsync()
        {
            await using (await guard.HoldAsync())
            {
                this.ChargeFeeLocked();
            }
        }

        public void Check(int expected)
        {
            Specification.Assert(this.balance == expected, "The balance is {0}, expected {1}.", this.balance, expected);
            Specification.Assert(!guard.Locked, "'{0}' is still held at the end.", guard.Name);
        }

        // The caller must hold the lock.
        private void ChargeFeeLocked() => this.balance -= Fee;
    }
}
