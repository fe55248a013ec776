using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>A database connection that fails some queries, like a real driver would.</summary>
public sealed class Connection
{
    public Connection(int id) => Id = id;

    public int Id { get; }

    public async Task<int> ExecuteAsync(string sql)
    {
        await Task.Yield();
        if (sql.Contains("missing_table", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Connection {Id}: relation does not exist.");
        }

        return sql.Length;
    }
}

/// <summary>
/// A pool of a few connections. Buggy: when the work throws, the slot is never handed back,
/// so the pool shrinks and later callers wait for ever.
/// </summary>
public sealed class LeakyConnectionPool
{
    private readonly SemaphoreSlim _slots;
    private int _nextId;

    public LeakyConnectionPool(int size) => _slots = new SemaphoreSlim(size, size);

    public int Available => _slots.CurrentCount;

    public async Task<T> UseConnectionAsync<T>(Func<Connection, Task<T>> work)
    {
        await _slots.WaitAsync();
        var connection = new Connection(Interlocked.Increment(ref _nextId));
        var result = await work(connection);
        _slots.Release();
        return result;
    }
}

/// <summary>The same pool, handing the slot back in a <c>finally</c>.</summary>
public sealed class ConnectionPool
{
    private readonly SemaphoreSlim _slots;
    private int _nextId;

    public ConnectionPool(int size) => _slots = new SemaphoreSlim(size, size);

    public int Available => _slots.CurrentCount;

    public async Task<T> UseConnectionAsync<T>(Func<Connection, Task<T>> work)
    {
        await _slots.WaitAsync();
        try
        {
            var connection = new Connection(Interlocked.Increment(ref _nextId));
            return await work(connection);
        }
        finally
        {
            _slots.Release();
        }
    }
}

public static class ConnectionPoolTests
{
    private static readonly string[] Queries =
    [
        "SELECT * FROM orders",
        "SELECT * FROM missing_table",
        "SELECT * FROM customers",
        "SELECT * FROM missing_table WHERE id = 7",
        "SELECT * FROM invoices",
    ];

    /// <summary>Two failing queries leak both slots of the pool; the other requests hang.</summary>
    [Test]
    public static async Task PooledConnectionLeakBuggy()
    {
        var pool = new LeakyConnectionPool(size: 2);
        var failures = 0;

        var requests = Queries.Select(sql => Task.Run(async () =>
        {
            try
            {
                await pool.UseConnectionAsync(connection => connection.ExecuteAsync(sql));
            }
            catch (InvalidOperationException)
            {
                Interlocked.Increment(ref failures);
            }
        })).ToArray();

        await Task.WhenAll(requests);

        Specification.Assert(failures == 2, $"Expected 2 failed queries, saw {failures}.");
        Specification.Assert(pool.Available == 2, $"Pool leaked connections: {pool.Available} of 2 available.");
    }

    /// <summary>The same requests against the pool that releases in a <c>finally</c>.</summary>
    [Test]
    public static async Task PooledConnectionLeakFixed()
    {
        var pool = new ConnectionPool(size: 2);
        var failures = 0;

        var requests = Queries.Select(sql => Task.Run(async () =>
        {
            try
            {
                await pool.UseConnectionAsync(connection => connection.ExecuteAsync(sql));
            }
            catch (InvalidOperationException)
            {
                Interlocked.Increment(ref failures);
            }
        })).ToArray();

        await Task.WhenAll(requests);

        Specification.Assert(failures == 2, $"Expected 2 failed queries, saw {failures}.");
        Specification.Assert(pool.Available == 2, $"Pool leaked connections: {pool.Available} of 2 available.");
    }
}
