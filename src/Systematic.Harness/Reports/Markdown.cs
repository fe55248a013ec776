using System.Text;

namespace Systematic.Harness.Reports;

/// <summary>Escaping for Markdown text and code spans: names and messages from tests are never markup.</summary>
internal static class Markdown
{
    /// <summary>Plain text safe in a paragraph or a table cell.</summary>
    public static string Text(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in OneLine(value))
        {
            switch (c)
            {
                case '<':
                    builder.Append("&lt;");
                    break;
                case '>':
                    builder.Append("&gt;");
                    break;
                case '&':
                    builder.Append("&amp;");
                    break;
                case '|' or '\\' or '*' or '_' or '[' or ']' or '#' or '`' or '~':
                    builder.Append('\\').Append(c);
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>A code span holding <paramref name="value"/> literally.</summary>
    public static string Code(string? value)
    {
        var text = OneLine(value ?? "").Replace("|", "¦", StringComparison.Ordinal);
        return text.Contains('`', StringComparison.Ordinal) ? $"`` {text} ``" : $"`{text}`";
    }

    /// <summary>A fenced block holding <paramref name="value"/> literally.</summary>
    public static string Block(string? value, string language = "")
    {
        var builder = new StringBuilder();
        foreach (var c in (value ?? "").Replace("\r", "", StringComparison.Ordinal))
        {
            // Control characters are shown as escapes, never emitted raw.
            builder.Append(char.IsControl(c) && c is not '\n' and not '\t' ? $"\\u{(int)c:x4}" : c.ToString());
        }

        var text = builder.ToString();
        var fence = "```";
        while (text.Contains(fence, StringComparison.Ordinal))
        {
            fence += "`";
        }

        return $"{fence}{language}\n{text}\n{fence}";
    }

    /// <summary>Renders a sentence whose `names` are code spans: the spans are kept, everything else escaped.</summary>
    public static string Sentence(string sentence)
    {
        var parts = sentence.Split('`');
        var builder = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            builder.Append(i % 2 == 1 ? Code(parts[i]) : Text(parts[i]));
        }

        return builder.ToString();
    }

    private static string OneLine(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        var text = builder.ToString();
        return text.Length > 500 ? text[..500] + "…" : text;
    }
}
