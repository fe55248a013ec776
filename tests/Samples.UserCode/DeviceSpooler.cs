using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>An office spooler: copying a page needs both the scanner and the printer, each guarded by a lock.</summary>
public sealed class DeviceSpooler
{
    private readonly object _scanner = new();
    private readonly object _printer = new();
    private int _pages;

    public int Pages => Volatile.Read(ref _pages);

    /// <summary>Copies take the scanner, then the printer.</summary>
    public void Copy()
    {
        lock (_scanner)
        {
            lock (_printer)
            {
                _pages++;
            }
        }
    }

    /// <summary>Buggy: faxes take the printer (for the cover page), then the scanner.</summary>
    public void FaxBuggy()
    {
        lock (_printer)
        {
            lock (_scanner)
            {
                _pages++;
            }
        }
    }

    /// <summary>Fixed: faxes take the devices in the copies' order.</summary>
    public void FaxFixed()
    {
        lock (_scanner)
        {
            lock (_printer)
            {
                _pages++;
            }
        }
    }
}

/// <summary>Tests on dedicated threads (<c>new Thread</c>, <c>Start</c>, <c>Join</c>), as older code does.</summary>
public static class DeviceSpoolerTests
{
    [Test]
    public static void CopyWhileFaxingBuggy() => Run(spooler => spooler.FaxBuggy);

    [Test]
    public static void CopyWhileFaxingFixed() => Run(spooler => spooler.FaxFixed);

    private static void Run(Func<DeviceSpooler, Action> fax)
    {
        var spooler = new DeviceSpooler();
        var copier = new Thread(spooler.Copy);
        var faxer = new Thread(new ThreadStart(fax(spooler)));
        copier.Start();
        faxer.Start();
        copier.Join();
        faxer.Join();
        Specification.Assert(spooler.Pages == 2, "{0} pages instead of 2.", spooler.Pages);
    }
}
