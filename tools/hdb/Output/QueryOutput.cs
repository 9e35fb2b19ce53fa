using System.Globalization;
using HammingDB.Cli.Input;
using Spectre.Console;

namespace HammingDB.Cli.Output;

/// <summary>
/// The result formats of <c>hdb query</c>, fed queries in order. ndjson: one line per query,
/// <c>{"query":I,"results":[{"key":K,"distance":D},...]}</c>; json: one array of those objects; csv:
/// <c>query,key,distance</c> then one row per result; table: a table on stdout. Rescored results
/// (<c>hdb query --rescore</c>) add <c>vector_distance</c> after <c>distance</c> (the Hamming distance) in each.
/// </summary>
internal abstract class QueryOutput<TKey> : IDisposable
    where TKey : notnull
{
    public static QueryOutput<TKey> Create(string format, TextWriter stdout, KeyFormat<TKey> keys, bool rescored = false) => format switch
    {
        "ndjson" => new NdjsonOutput(stdout, keys, array: false),
        "json" => new NdjsonOutput(stdout, keys, array: true),
        "csv" => new CsvOutput(stdout, keys, rescored),
        "table" => new TableOutput(stdout, keys, rescored),
        _ => throw new InputException($"--output must be ndjson, json, csv or table; got '{format}'."),
    };

    public virtual void Begin()
    {
    }

    public abstract void Query(int index, IReadOnlyList<SearchResult<TKey>> results);

    /// <summary>The results of a rescored query: both distances.</summary>
    public abstract void Query(int index, IReadOnlyList<RescoredResult<TKey>> results);

    private protected static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public virtual void End()
    {
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    private sealed class NdjsonOutput(TextWriter stdout, KeyFormat<TKey> keys, bool array) : QueryOutput<TKey>
    {
        private readonly JsonLine _line = new();
        private bool _first = true;

        public override void Begin()
        {
            if (array)
            {
                stdout.Write('[');
            }
        }

        public override void Query(int index, IReadOnlyList<SearchResult<TKey>> results)
        {
            var json = StartQuery(index);
            foreach (SearchResult<TKey> result in results)
            {
                json.WriteStartObject();
                json.WritePropertyName("key");
                keys.WriteJson(json, result.Key);
                json.WriteNumber("distance", result.Distance);
                json.WriteEndObject();
            }
            EndQuery(json);
        }

        public override void Query(int index, IReadOnlyList<RescoredResult<TKey>> results)
        {
            var json = StartQuery(index);
            foreach (RescoredResult<TKey> result in results)
            {
                json.WriteStartObject();
                json.WritePropertyName("key");
                keys.WriteJson(json, result.Key);
                json.WriteNumber("distance", result.HammingDistance);
                json.WriteNumber("vector_distance", result.VectorDistance);
                json.WriteEndObject();
            }
            EndQuery(json);
        }

        private System.Text.Json.Utf8JsonWriter StartQuery(int index)
        {
            if (array)
            {
                stdout.Write(_first ? "\n" : ",\n");
            }
            _first = false;
            var json = _line.Start();
            json.WriteStartObject();
            json.WriteNumber("query", index);
            json.WriteStartArray("results");
            return json;
        }

        private void EndQuery(System.Text.Json.Utf8JsonWriter json)
        {
            json.WriteEndArray();
            json.WriteEndObject();
            // An array's members end without a newline: the separator writes it.
            _line.WriteTo(stdout, newline: !array);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _line.Dispose();
            }
            base.Dispose(disposing);
        }

        public override void End()
        {
            if (array)
            {
                stdout.Write(_first ? "]\n" : "\n]\n");
            }
        }
    }

    private sealed class CsvOutput(TextWriter stdout, KeyFormat<TKey> keys, bool rescored) : QueryOutput<TKey>
    {
        public override void Begin() => stdout.Write(rescored ? "query,key,distance,vector_distance\n" : "query,key,distance\n");

        public override void Query(int index, IReadOnlyList<RescoredResult<TKey>> results)
        {
            string query = index.ToString(CultureInfo.InvariantCulture);
            foreach (RescoredResult<TKey> result in results)
            {
                Row(query, result.Key, result.HammingDistance, result.VectorDistance);
            }
        }

        public override void Query(int index, IReadOnlyList<SearchResult<TKey>> results)
        {
            string query = index.ToString(CultureInfo.InvariantCulture);
            foreach (SearchResult<TKey> result in results)
            {
                Row(query, result.Key, result.Distance, null);
            }
        }

        private void Row(string query, TKey key, int distance, double? vectorDistance)
        {
            stdout.Write(query);
            stdout.Write(',');
            stdout.Write(Quote(keys.Format(key)));
            stdout.Write(',');
            stdout.Write(distance.ToString(CultureInfo.InvariantCulture));
            if (vectorDistance is double vector)
            {
                stdout.Write(',');
                stdout.Write(Number(vector));
            }
            stdout.Write('\n');
        }

        // RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled.
        internal static string Quote(string field) =>
            field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private sealed class TableOutput(TextWriter stdout, KeyFormat<TKey> keys, bool rescored) : QueryOutput<TKey>
    {
        private readonly Table _table = rescored
            ? new Table().AddColumns(new TableColumn("query").RightAligned(), new TableColumn("key"), new TableColumn("distance").RightAligned(),
                new TableColumn("vector_distance").RightAligned())
            : new Table().AddColumns(new TableColumn("query").RightAligned(), new TableColumn("key"), new TableColumn("distance").RightAligned());

        public override void Query(int index, IReadOnlyList<RescoredResult<TKey>> results)
        {
            foreach (RescoredResult<TKey> result in results)
            {
                _table.AddRow(
                    new Text(index.ToString(CultureInfo.InvariantCulture)),
                    new Text(keys.Format(result.Key)),
                    new Text(result.HammingDistance.ToString(CultureInfo.InvariantCulture)),
                    new Text(Number(result.VectorDistance)));
            }
        }

        public override void Query(int index, IReadOnlyList<SearchResult<TKey>> results)
        {
            foreach (SearchResult<TKey> result in results)
            {
                _table.AddRow(
                    new Text(index.ToString(CultureInfo.InvariantCulture)),
                    new Text(keys.Format(result.Key)),
                    new Text(result.Distance.ToString(CultureInfo.InvariantCulture)));
            }
        }

        public override void End()
        {
            IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
            console.Write(_table);
        }
    }
}
