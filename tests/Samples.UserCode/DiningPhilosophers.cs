using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;

namespace Samples.UserCode;

/// <summary>A philosopher who picks up two forks in a fixed order, eats, and puts them down.</summary>
public sealed class Philosopher
{
    private readonly SemaphoreSlim _firstFork;
    private readonly SemaphoreSlim _secondFork;

    public Philosopher(int seat, SemaphoreSlim firstFork, SemaphoreSlim secondFork)
    {
        Seat = seat;
        _firstFork = firstFork;
        _secondFork = secondFork;
    }

    public int Seat { get; }

    public int MealsEaten { get; private set; }

    public async Task DineAsync(int meals)
    {
        for (var meal = 0; meal < meals; meal++)
        {
            await _firstFork.WaitAsync();
            try
            {
                await _secondFork.WaitAsync();
                try
                {
                    MealsEaten++;
                }
                finally
                {
                    _secondFork.Release();
                }
            }
            finally
            {
                _firstFork.Release();
            }

            await Task.Yield(); // think
        }
    }
}

public static class DiningPhilosophersTests
{
    private const int Seats = 5;
    private const int Meals = 2;

    /// <summary>Every philosopher takes the left fork, then the right one: all five can hold one fork.</summary>
    [Test]
    public static async Task DiningPhilosophersBuggy()
    {
        var forks = Enumerable.Range(0, Seats).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
        var philosophers = Enumerable.Range(0, Seats)
            .Select(seat => new Philosopher(seat, forks[seat], forks[(seat + 1) % Seats]))
            .ToArray();

        await Task.WhenAll(philosophers.Select(p => Task.Run(() => p.DineAsync(Meals))).ToArray());

        Specification.Assert(philosophers.All(p => p.MealsEaten == Meals), "Someone went hungry.");
        Specification.Assert(forks.All(f => f.CurrentCount == 1), "A fork was not put back.");
    }

    /// <summary>The last philosopher takes the lower-numbered fork (fork 0) first, which breaks the cycle.</summary>
    /// <summary>
    /// Six philosophers with lock-object forks made in a loop dine one after the other: no schedule deadlocks, but the
    /// fork orders form a cycle through all six, which the first iteration already shows.
    /// </summary>
    [Test]
    public static async Task SixDinersInTurns()
    {
        const int seats = 6;
        var forks = Enumerable.Range(0, seats).Select(_ => new object()).ToArray();
        var meals = 0;

        for (var seat = 0; seat < seats; seat++)
        {
            var (left, right) = (forks[seat], forks[(seat + 1) % seats]);
            await Task.Run(() =>
            {
                lock (left)
                {
                    lock (right)
                    {
                        meals++;
                    }
                }
            });
        }

        Specification.Assert(meals == seats, "Everyone should eat once.");
    }

    [Test]
    public static async Task DiningPhilosophersFixed()
    {
        var forks = Enumerable.Range(0, Seats).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
        var philosophers = Enumerable.Range(0, Seats)
            .Select(seat =>
            {
                var left = seat;
                var right = (seat + 1) % Seats;

                // Everyone picks up the lower-numbered fork first. That is left-then-right for every
                // seat but the last, whose right fork is fork 0.
                return new Philosopher(seat, forks[Math.Min(left, right)], forks[Math.Max(left, right)]);
            })
            .ToArray();

        await Task.WhenAll(philosophers.Select(p => Task.Run(() => p.DineAsync(Meals))).ToArray());

        Specification.Assert(philosophers.All(p => p.MealsEaten == Meals), "Someone went hungry.");
        Specification.Assert(forks.All(f => f.CurrentCount == 1), "A fork was not put back.");
    }
}
