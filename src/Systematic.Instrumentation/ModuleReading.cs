using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Systematic.Instrumentation;

/// <summary>Reads a module with its PDB when there is one and it can be read, else without source lines (a stale or damaged PDB).</summary>
internal static class ModuleReading
{
    /// <summary>Reads <paramref name="path"/> with <paramref name="parameters"/>, with symbols when they read; returns whether they did.</summary>
    public static (ModuleDefinition Module, bool HasSymbols) Read(string path, ReaderParameters parameters)
    {
        if (File.Exists(Path.ChangeExtension(path, ".pdb")))
        {
            parameters.ReadSymbols = true;
            try
            {
                return (ModuleDefinition.ReadModule(path, parameters), true);
            }
            catch (Exception e) when (e is SymbolsNotMatchingException or BadImageFormatException or InvalidOperationException or IndexOutOfRangeException or EndOfStreamException or NotSupportedException ||
                e.GetType().FullName == "Microsoft.Cci.Pdb.PdbException")
            {
                // Source lines are a help, not a need.
            }
        }

        parameters.ReadSymbols = false;
        return (ModuleDefinition.ReadModule(path, parameters), false);
    }
}
