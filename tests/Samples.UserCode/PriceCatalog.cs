using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>A price catalog with a search index, kept in step by a background re-indexer and by writers.</summary>
public sealed class PriceCatalog
{
    private readonly object _prices = new();
    private readonly object _index = new();
    private readonly SemaphoreSlim _snapshotGate = new(1, 1);
    private readonly SemaphoreSlim _exportGate = new(1, 1);
    private readonly Dictionary<string, decimal> _byName = [];
    private readonly SortedSet<string> _names = new(StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (_prices)
            {
                return _byName.Count;
            }
        }
    }

    /// <summary>Writers take the prices, then the index.</summary>
    public void SetPrice(string name, decimal price)
    {
        lock (_prices)
        {
            _byName[name] = price;
            lock (_index)
            {
                _names.Add(name);
            }
        }
    }

    /// <summary>Buggy: the re-indexer takes the index, then the prices, the reverse of the writers.</summary>
    public void ReindexBuggy()
    {
        lock (_index)
        {
            lock (_prices)
            {
                _names.UnionWith(_byName.Keys);
            }
        }
    }

    /// <summary>Fixed: the re-indexer takes the locks in the writers' order.</summary>
    public void ReindexFixed()
    {
        lock (_prices)
        {
            lock (_index)
            {
                _names.UnionWith(_byName.Keys);
            }
        }
    }

    /// <summary>Snapshots take the snapshot gate, then the export gate.</summary>
    public async Task SnapshotAsync()
    {
        await _snapshotGate.WaitAsync();
        try
        {
            await _exportGate.WaitAsync();
            _exportGate.Release();
        }
        finally
        {
            _snapshotGate.Release();
        }
    }

    /// <summary>Buggy: exports take the export gate, then the snapshot gate.</summary>
    public async Task ExportBuggyAsync()
    {
        await _exportGate.WaitAsync();
        try
        {
            await _snapshotGate.WaitAsync();
            _snapshotGate.Release();
        }
        finally
        {
            _exportGate.Release();
        }
    }
}

/// <summary>Tests that start their work with <c>Task.Factory.StartNew</c>, as older code does.</summary>
public static class PriceCatalogTests
{
    [Test]
    public static async Task ReindexWhileWritingBuggy()
    {
        var catalog = new PriceCatalog();
        var writer = Task.Factory.StartNew(() => catalog.SetPrice("apple", 1.5m), TaskCreationOptions.LongRunning);
        var reindexer = Task.Factory.StartNew(catalog.ReindexBuggy, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default);
        await Task.WhenAll(new[] { writer, reindexer });
        Specification.Assert(catalog.Count == 1, "The price was lost.");
    }

    [Test]
    public static async Task ReindexWhileWritingFixed()
    {
        var catalog = new PriceCatalog();
        var writer = Task.Factory.StartNew(() => catalog.SetPrice("apple", 1.5m), TaskCreationOptions.LongRunning);
        var reindexer = Task.Factory.StartNew(catalog.ReindexFixed, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default);
        await Task.WhenAll(new[] { writer, reindexer });
        Specification.Assert(catalog.Count == 1, "The price was lost.");
    }

    [Test]
    public static async Task ReindexWhileCountingBuggy()
    {
        var catalog = new PriceCatalog();
        var writer = Task<int>.Factory.StartNew(() =>
        {
            catalog.SetPrice("pear", 2m);
            return 1;
        });
        var reindexer = Task<int>.Factory.StartNew(
            _ =>
            {
                catalog.ReindexBuggy();
                return 0;
            },
            null);
        var written = await Task.WhenAll(new[] { writer, reindexer });
        Specification.Assert(written.Sum() == catalog.Count, "The count is off.");
    }

    [Test]
    public static async Task SnapshotWhileExportingBuggy()
    {
        var catalog = new PriceCatalog();
        var snapshot = Task.Factory.StartNew(catalog.SnapshotAsync);
        var export = Task.Factory.StartNew(catalog.ExportBuggyAsync);
        await Task.WhenAll(new[] { await snapshot, await export });
    }
}
