using System.Xml.Linq;

namespace HammingDB.Tests;

/// <summary>
/// The layers of docs/ARCHITECTURE.md, enforced: a project may reference only projects of lower
/// layers, and only the kernel and storage layers may use unsafe code.
/// </summary>
public class ArchitectureTests
{
    // Lower number = lower layer. Every project of src/ and tools/ must be listed.
    private static readonly Dictionary<string, int> Layers = new()
    {
        ["HammingDB.Kernels"] = 1,
        ["HammingDB.Storage"] = 2,
        ["HammingDB.Index"] = 3,
        ["HammingDB.Query"] = 4,
        ["HammingDB"] = 5,
        ["HammingDB.Encoders"] = 6,
        ["hdb"] = 7,
        ["HammingDB.Benchmarks"] = 7,
    };

    private static readonly HashSet<string> UnsafeAllowed = ["HammingDB.Kernels", "HammingDB.Storage"];

    [Fact]
    public void Projects_reference_only_lower_layers_and_unsafe_stays_in_kernels_and_storage()
    {
        string root = RepositoryRoot();
        var projects = Directory.GetFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Path.Combine(root, "tools"), "*.csproj", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Path.Combine(root, "bench"), "*.csproj", SearchOption.AllDirectories))
            .ToList();
        Assert.NotEmpty(projects);
        foreach (string project in projects)
        {
            string name = Path.GetFileNameWithoutExtension(project);
            Assert.True(Layers.TryGetValue(name, out int layer), $"{name} has no layer in ArchitectureTests.Layers (and docs/ARCHITECTURE.md)");
            XDocument xml = XDocument.Load(project);
            foreach (XElement reference in xml.Descendants("ProjectReference"))
            {
                string target = Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value);
                Assert.True(Layers.TryGetValue(target, out int targetLayer) && targetLayer < layer,
                    $"{name} (layer {layer}) references {target}, which is not a lower layer");
            }
            bool allowsUnsafe = xml.Descendants("AllowUnsafeBlocks").Any(e => e.Value.Trim() == "true");
            Assert.False(allowsUnsafe && !UnsafeAllowed.Contains(name), $"{name} allows unsafe code; only kernels and storage may");
        }
    }

    [Fact]
    public void The_kernel_assembly_references_no_other_HammingDB_assembly()
    {
        var references = typeof(HammingDB.Kernels.CodeLayout).Assembly.GetReferencedAssemblies();
        Assert.DoesNotContain(references, r => r.Name!.StartsWith("HammingDB", StringComparison.Ordinal) || r.Name == "hdb");
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HammingDB.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("HammingDB.sln not found above " + AppContext.BaseDirectory);
    }
}
