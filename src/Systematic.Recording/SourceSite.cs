using System.Globalization;

namespace Systematic.Recording;

/// <summary>A source location of a probed call: file, line and containing method.</summary>
public sealed record SourceSite(string File, int Line, string Method)
{
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

    /// <summary>Gets <c>File.cs:41</c> for an emitted site, or <c>?</c> when there is none.</summary>
    public static string ShortOf(string? site) => Parse(site)?.Short ?? "?";

    /// <summary>Gets <c>File.cs:41</c>, or <c>Type.Method</c> for code without source lines (a package built without a PDB).</summary>
    public string Short => this.File.Length == 0 || this.Line <= 0
        ? this.Method
        : string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(this.File)}:{this.Line}");

    /// <inheritdoc/>
    public override string ToString() => this.Short;
}
