using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Systematic.Instrumentation;

/// <summary>
/// Reads the <c>[assembly: AssemblyMetadata("Systematic.Instrumented", version)]</c> an instrumentation pass leaves, from
/// the file's metadata alone: cheap enough for a test to check every prepared assembly of its folder before it runs.
/// </summary>
internal static class InstrumentationMark
{
    /// <summary>Returns whether the assembly file at <paramref name="path"/> carries the mark; false for a file that is missing or not an assembly.</summary>
    public static bool IsOn(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                return false;
            }

            var reader = pe.GetMetadataReader();
            foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
            {
                var attribute = reader.GetCustomAttribute(handle);
                if (attribute.Constructor.Kind == HandleKind.MemberReference &&
                    reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent is { Kind: HandleKind.TypeReference } parent &&
                    reader.GetString(reader.GetTypeReference((TypeReferenceHandle)parent).Name) == nameof(AssemblyMetadataAttribute))
                {
                    // The blob: prolog 0x0001, then the key and the value as serialized strings.
                    var blob = reader.GetBlobReader(attribute.Value);
                    if (blob.ReadUInt16() == 1 && blob.ReadSerializedString() == Instrumenter.Marker)
                    {
                        return true;
                    }
                }
            }

            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException)
        {
            return false;
        }
    }
}
