namespace HammingDB.Tests.Faults;

/// <summary>
/// What a database must hold after faults: per key the values it may have (null: absent). An
/// acknowledged write leaves one; a write that threw adds its value to those allowed (applied or
/// not); a batch that threw must be applied whole or not at all. Thread-safe.
/// </summary>
internal sealed class FaultModel
{
    private readonly object _gate = new();
    private readonly Dictionary<ulong, HashSet<ulong?>> _allowed = [];
    private readonly Dictionary<ulong, int> _lastTouch = [];
    private readonly List<UnsureBatch> _unsure = [];
    private int _next;

    public int Acknowledged { get; private set; }

    public int Unacknowledged { get; private set; }

    public void Acknowledge(IReadOnlyList<(ulong Key, ulong? Code)> ops)
    {
        lock (_gate)
        {
            int id = ++_next;
            foreach ((ulong key, ulong? code) in ops)
            {
                _allowed[key] = [code];
                _lastTouch[key] = id;
            }
            Acknowledged++;
        }
    }

    public void Unsure(IReadOnlyList<(ulong Key, ulong? Code)> ops)
    {
        lock (_gate)
        {
            int id = ++_next;
            var before = new Dictionary<ulong, HashSet<ulong?>>();
            foreach ((ulong key, ulong? code) in ops)
            {
                HashSet<ulong?> allowed = AllowedLocked(key);
                before[key] = [.. allowed];
                allowed.Add(code);
                _lastTouch[key] = id;
            }
            if (ops.Count > 1)
            {
                _unsure.Add(new UnsureBatch(id, [.. ops], before));
            }
            Unacknowledged++;
        }
    }

    /// <summary>The values <paramref name="key"/> may have now.</summary>
    public IReadOnlySet<ulong?> Allowed(ulong key)
    {
        lock (_gate)
        {
            return new HashSet<ulong?>(AllowedLocked(key));
        }
    }

    /// <summary>
    /// Checks a database's state (every key of <paramref name="universe"/> read through <paramref name="read"/>)
    /// against the model; returns the state, keys with a row only. Every acknowledged write is there, every
    /// other write wholly applied or absent.
    /// </summary>
    public Dictionary<ulong, ulong> Verify(IEnumerable<ulong> universe, Func<ulong, ulong?> read, string context)
    {
        lock (_gate)
        {
            var actual = new Dictionary<ulong, ulong?>();
            foreach (ulong key in universe)
            {
                ulong? value = read(key);
                actual[key] = value;
                HashSet<ulong?> allowed = AllowedLocked(key);
                Assert.True(allowed.Contains(value), $"{context}: key {key} holds {Show(value)}; allowed {string.Join(" or ", allowed.Select(Show))}");
            }
            foreach (UnsureBatch batch in _unsure)
            {
                bool applied = false;
                bool absent = false;
                foreach ((ulong key, ulong? code) in batch.Ops.Where(op => _lastTouch[op.Key] == batch.Id))
                {
                    if (batch.Before[key].Contains(code))
                    {
                        continue; // this part of the batch changes nothing visible
                    }
                    applied |= actual[key] == code;
                    absent |= actual[key] != code;
                }
                Assert.False(applied && absent, $"{context}: half of an unacknowledged batch is applied ({string.Join(", ", batch.Ops.Select(op => $"{op.Key}={Show(op.Code)}: {Show(actual[op.Key])}"))})");
            }
            return actual.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!.Value);
        }
    }

    private HashSet<ulong?> AllowedLocked(ulong key)
    {
        if (!_allowed.TryGetValue(key, out HashSet<ulong?>? allowed))
        {
            allowed = [null];
            _allowed[key] = allowed;
        }
        return allowed;
    }

    private static string Show(ulong? value) => value is { } v ? $"0x{v:x16}" : "absent";

    private sealed record UnsureBatch(int Id, (ulong Key, ulong? Code)[] Ops, Dictionary<ulong, HashSet<ulong?>> Before);
}
