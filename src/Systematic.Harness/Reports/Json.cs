using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Systematic.Harness.Reports;

/// <summary>
/// The JSON settings of every report file: camelCase, enums as strings, indented, and only the escaping JSON needs
/// (backticks and non-ASCII stay as they are), so that the files people commit and diff read as written. None of these
/// files is embedded in HTML.
/// </summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };
}
