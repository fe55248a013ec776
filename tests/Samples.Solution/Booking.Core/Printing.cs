namespace Booking;

/// <summary>A ticket printer guarded by a .NET 9+ <see cref="Lock"/>.</summary>
public sealed class TicketPrinter(string name)
{
    private readonly Lock _lock = new();
    private int _printed;

    public string Name { get; } = name;

    public int Printed
    {
        get
        {
            lock (_lock)
            {
                return _printed;
            }
        }
    }

    /// <summary>Buggy: moves a job to a backup printer holding this printer's lock, then the backup's: ABBA when two printers back each other up.</summary>
    public void HandOver(TicketPrinter backup)
    {
        lock (_lock)
        {
            Thread.Yield();
            lock (backup._lock)
            {
                backup._printed++;
            }
        }
    }

    /// <summary>Fixed: both locks are taken in one global order (by name), whichever printer hands over.</summary>
    public void HandOverInOrder(TicketPrinter backup)
    {
        var (first, second) = string.CompareOrdinal(Name, backup.Name) < 0 ? (this, backup) : (backup, this);
        using (first._lock.EnterScope())
        {
            Thread.Yield();
            if (second._lock.TryEnter(Timeout.Infinite))
            {
                try
                {
                    backup._printed++;
                }
                finally
                {
                    second._lock.Exit();
                }
            }
        }
    }
}
