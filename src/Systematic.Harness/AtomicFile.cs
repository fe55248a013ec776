using System.Text;

namespace Systematic.Harness;

/// <summary>Writes files so a reader sees either nothing or the whole content: write aside, then rename into place.</summary>
internal static class AtomicFile
{
    public static void Write(string path, string content)
    {
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temp, content, new UTF8Encoding(false));
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
