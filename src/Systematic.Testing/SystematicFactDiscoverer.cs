using Xunit.Internal;
using Xunit.Sdk;
using Xunit.v3;

namespace Systematic;

/// <summary>
/// Finds <see cref="SystematicFactAttribute"/> tests: the fact xunit's own discoverer makes, as a test case that
/// explores. (Built from xunit's case rather than from its introspection helper, whose signature differs between xunit
/// v3 3.x and 4.x.)
/// </summary>
internal sealed class SystematicFactDiscoverer : FactDiscoverer
{
    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions discoveryOptions, IXunitTestMethod testMethod, IFactAttribute factAttribute)
    {
        var fact = base.CreateTestCase(discoveryOptions, testMethod, factAttribute);
        return new SystematicTestCase(
            fact.TestMethod,
            fact.TestCaseDisplayName,
            fact.UniqueID,
            fact.Explicit,
            fact.SkipExceptions,
            fact.SkipReason,
            fact.SkipType,
            fact.SkipUnless,
            fact.SkipWhen,
            fact.Traits.ToReadWrite(StringComparer.OrdinalIgnoreCase),
            fact.SourceFilePath,
            fact.SourceLineNumber,
            fact.Timeout);
    }
}
