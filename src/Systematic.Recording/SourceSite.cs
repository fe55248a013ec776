using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Systematic.Recording;

/// <summary>A source location of a probed call: file, line and containing method.</summary>
/// <param name="File">The source file as the PDB names it, or empty for code without source lines.</param>
/// <param name="Line">The 1-based line, or 0 for code without source lines.</param>
/// <param name="Method">The containing method, <c>Type.Method</c>.</param>
[JsonConverter(typeof(SourceSiteJsonConverter))]
public sealed record SourceSite(string File, int Line, string Method)
{
    private static readonly ConcurrentDictionary<string, SourceSite?> Emitted = new(StringComparer.Ordinal);

    /// <summary>The most callers a site keeps (<see cref="CalledFrom"/>, innermost first).</summary>
    public const int MaxCallers = 3;

    /// <summary>
    /// Gets, for a step inside an async method its caller awaited at once (a helper such as <c>LockAsync(key)</c>), where
    /// that method was called from, itself with its own caller: innermost first, at most <see cref="MaxCallers"/>.
    /// </summary>
    public SourceSite? CalledFrom { get; init; }

    /// <summary>Gets the site with its callers cut to at most <paramref name="callers"/>.</summary>
    public static SourceSite? Trim(SourceSite? site, int callers) =>
        site is null ? null
        : callers <= 0 ? site with { CalledFrom = null }
        : site.CalledFrom is null ? site
        : site with { CalledFrom = Trim(site.CalledFrom, callers - 1) };

    /// <summary>Gets the site of the <c>file|line|method</c> form the instrumenter emits, parsed once per distinct form; null for null or malformed input.</summary>
    public static SourceSite? Of(string? emitted) => emitted is null ? null : Emitted.GetOrAdd(emitted, Parse);

    /// <summary>Parses the <c>file|line|method</c> form the instrumenter emits; null for null or malformed input.</summary>
    public static SourceSite? Parse(string? site)
    {
        if (string.IsNullOrEmpty(site))
        {
            return null;
        }

        var parts = site.Split('|');
        if (parts.Length != 3 || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var line))
        {
            return null;
        }

        return new SourceSite(parts[0], line, parts[2]);
    }

    /// <summary>Formats the emitted form.</summary>
    public static string Format(string file, int line, string method) =>
        string.Create(CultureInfo.InvariantCulture, $"{file}|{line}|{method}");

    /// <summary>Gets <c>File.cs:41</c> for a site, or <c>?</c> when there is none.</summary>
    public static string ShortOf(SourceSite? site) => site?.Short ?? "?";

    /// <summary>Gets <see cref="Described"/> for a site, or <c>?</c> when there is none.</summary>
    public static string DescribedOf(SourceSite? site) => site?.Described ?? "?";

    /// <summary>
    /// Gets <see cref="Short"/>, and for a step in an async helper the calls it was reached through, innermost first:
    /// <c>Accounts.cs:36 via Accounts.cs:42</c>.
    /// </summary>
    public string Described
    {
        get
        {
            var text = new System.Text.StringBuilder(this.Short);
            for (var caller = this.CalledFrom; caller is not null; caller = caller.CalledFrom)
            {
                text.Append(" via ").Append(caller.Short);
            }

            return text.ToString();
        }
    }

    /// <summary>Gets its identity, the <c>file|line|method</c> form the instrumenter emits (two sites in files of one name differ here, not in <see cref="Short"/>).</summary>
    public string Key => Format(this.File, this.Line, this.Method);

    /// <summary>Gets whether the site has a source line (its code was built with a PDB).</summary>
    public bool HasLine => this.File.Length > 0 && this.Line > 0;

    /// <summary>Gets <c>File.cs:41</c>, or <c>Type.Method</c> for code without source lines (a package built without a PDB).</summary>
    public string Short => this.HasLine
        ? string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(this.File)}:{this.Line}")
        : this.Method;

    /// <inheritdoc/>
    public override string ToString() => this.Short;
}

/// <summary>
/// Writes a <see cref="SourceSite"/> as <c>{"file", "line", "method"}</c>; reads that, or the <c>file|line|method</c>
/// string that <c>systematic.failure/1</c> documents and older plan files hold.
/// </summary>
internal sealed class SourceSiteJsonConverter : JsonConverter<SourceSite>
{
    public override SourceSite? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return SourceSite.Parse(reader.GetString()) ?? throw new JsonException($"'{reader.GetString()}' is not a source site (file|line|method).");
            case JsonTokenType.StartObject:
                return this.ReadObject(ref reader, options);
            default:
                throw new JsonException($"A source site is an object or a string, not {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, SourceSite value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("file", value.File);
        writer.WriteNumber("line", value.Line);
        writer.WriteString("method", value.Method);
        if (value.CalledFrom is { } caller)
        {
            writer.WritePropertyName("calledFrom");
            this.Write(writer, caller, options);
        }

        writer.WriteEndObject();
    }

    private SourceSite ReadObject(ref Utf8JsonReader reader, JsonSerializerOptions options)
    {
        string file = "", method = "";
        var line = 0;
        SourceSite? caller = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "file":
                    file = reader.GetString() ?? "";
                    break;
                case "line":
                    line = reader.GetInt32();
                    break;
                case "method":
                    method = reader.GetString() ?? "";
                    break;
                case "calledFrom":
                    caller = this.Read(ref reader, typeof(SourceSite), options);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new SourceSite(file, line, method) { CalledFrom = caller };
    }
}
