using Inventory;
using Systematic;
using Xunit;

namespace Inventory.Tests;

public class WarehouseTests
{
    // A bug: picking and returning at once take the two locks in opposite orders.
    [SystematicFact(Iterations = 300)]
    public async Task PickAndReturnAtOnce()
    {
        var warehouse = new Warehouse();
        await Task.WhenAll(Task.Run(() => warehouse.PickAsync(3)), Task.Run(() => warehouse.ReturnAsync(1)));
        Assert.Equal(10, warehouse.Total);
    }

    // The same bug, documented: the test passes while exploration finds it.
    [SystematicFact(Iterations = 300, Expected = FailureKind.LockOrderDeadlock)]
    public async Task PickAndReturnAtOnceKnownBug()
    {
        var warehouse = new Warehouse();
        await Task.WhenAll(Task.Run(() => warehouse.PickAsync(3)), Task.Run(() => warehouse.ReturnAsync(1)));
    }

    // Fixed: both take shelf, then ledger.
    [SystematicFact(Iterations = 300)]
    public async Task PickAndReturnInOrder()
    {
        var warehouse = new Warehouse();
        await Task.WhenAll(Task.Run(() => warehouse.PickAsync(3)), Task.Run(() => warehouse.ReturnInOrderAsync(1)));
        Assert.Equal(10, warehouse.Total);
    }

    // Fixed, covered exactly: every schedule with at most 2 preemptions.
    [SystematicFact(Iterations = 20000, PreemptionBound = 2)]
    public async Task PickAndReturnInOrderBounded()
    {
        var warehouse = new Warehouse();
        await Task.WhenAll(Task.Run(() => warehouse.PickAsync(3)), Task.Run(() => warehouse.ReturnInOrderAsync(1)));
    }
}

public class RestockerTests
{
    private static async Task Failing()
    {
        await Task.Yield();
        throw new TimeoutException("supplier did not answer");
    }

    private static async Task Answering() => await Task.Yield();

    // A bug: a failing supplier leaks its slot, and the third restock waits for ever.
    [SystematicFact(Iterations = 300)]
    public async Task RestocksSurviveFailingSuppliers()
    {
        var restocker = new Restocker();
        var runs = new Func<Task>[] { Failing, Failing, Answering }.Select(supplier => Task.Run(async () =>
        {
            try
            {
                await restocker.RestockAsync(supplier);
            }
            catch (TimeoutException)
            {
            }
        }));
        await Task.WhenAll(runs);
    }

    // Fixed, explored from a plain [Fact] through Explore.RunAsync (as NUnit or MSTest tests would).
    [Fact]
    public async Task SafeRestocksSurviveFailingSuppliers()
    {
        await Explore.RunAsync(
            async () =>
            {
                var restocker = new Restocker();
                var runs = new Func<Task>[] { Failing, Failing, Answering }.Select(supplier => Task.Run(async () =>
                {
                    try
                    {
                        await restocker.RestockSafelyAsync(supplier);
                    }
                    catch (TimeoutException)
                    {
                    }
                }));
                await Task.WhenAll(runs);
                Assert.Equal(1, restocker.Completed);
            },
            new ExploreOptions { Iterations = 300 },
            TestContext.Current.CancellationToken);
    }

    // The leak again, through Explore.RunAsync: it throws SystematicFailureException.
    [Fact]
    public async Task ExploreReportsTheLeak()
    {
        var failure = await Assert.ThrowsAsync<SystematicFailureException>(() => Explore.RunAsync(
            async () =>
            {
                var restocker = new Restocker();
                await Task.WhenAll(
                    Task.Run(async () => { try { await restocker.RestockAsync(Failing); } catch (TimeoutException) { } }),
                    Task.Run(async () => { try { await restocker.RestockAsync(Failing); } catch (TimeoutException) { } }),
                    Task.Run(() => restocker.RestockAsync(Answering)));
            },
            new ExploreOptions { Iterations = 300 },
            TestContext.Current.CancellationToken));
        Assert.Equal(FailureKind.Leak, failure.Kind);
        Assert.True(File.Exists(Path.Combine(failure.Folder!, "report.md")));
    }

    [Fact]
    public void OrdinaryFactsRunAsUsual() => Assert.Equal(2, new Restocker().Completed + 2);
}

// An ordinary test that runs the same (prepared) code on real threads while other classes' explorations run: it
// passes, and what it does is never recorded into an exploration's iteration.
public class WarehouseLoadTests
{
    [Fact]
    public async Task ManyPicksAndReturnsOnRealThreads()
    {
        var warehouse = new Warehouse();
        var until = DateTime.UtcNow.AddSeconds(2);
        var workers = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            while (DateTime.UtcNow < until)
            {
                await warehouse.PickAsync(1);
                await warehouse.ReturnInOrderAsync(1);
            }
        }));
        await Task.WhenAll(workers);
        Assert.Equal(10, warehouse.Total);
    }
}

// A test class as xunit tests are often written, with the output helper in its constructor: each iteration gets a
// fresh instance made with it.
public class WarehouseWithOutputTests(ITestOutputHelper output)
{
    [SystematicFact(Iterations = 100)]
    public async Task PickAndReturnInOrderWithOutput()
    {
        var warehouse = new Warehouse();
        await Task.WhenAll(Task.Run(() => warehouse.PickAsync(3)), Task.Run(() => warehouse.ReturnInOrderAsync(1)));
        Assert.Equal(10, warehouse.Total);
        output.WriteLine($"total {warehouse.Total}");
    }
}
