using HammingDB.Fuzz;
using SharpFuzz;

// The fuzzing harness's command line (fuzz/run.sh drives it; fuzz/README.md documents it):
//   afl <target>               run under afl-fuzz (SharpFuzz persistent mode): each input through FuzzTargets.Run
//   replay <target> <file>...  run files through FuzzTargets.Run and say what each did (exit 1 on a failure)
//   seeds <directory>          write the seed corpus, one subdirectory per target
//   targets                    list the targets
if (args.Length >= 2 && args[0] == "afl")
{
    string target = args[1];
    // Instrumented code must not run before Fuzzer.Run sets up the coverage map: check the name only.
    if (!FuzzTargets.Names.Contains(target))
    {
        Console.Error.WriteLine($"no fuzz target '{target}'; the targets are {string.Join(' ', FuzzTargets.Names)}");
        return 2;
    }
    Fuzzer.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        FuzzTargets.Run(target, copy.ToArray());
    });
    return 0;
}
if (args.Length >= 2 && args[0] == "replay")
{
    int failures = 0;
    foreach (string file in args.Skip(2))
    {
        try
        {
            FuzzTargets.Run(args[1], File.ReadAllBytes(file));
            Console.WriteLine($"ok    {file}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            failures++;
            Console.WriteLine($"FAIL  {file}: {e}");
        }
    }
    return failures == 0 ? 0 : 1;
}
if (args.Length == 2 && args[0] == "seeds")
{
    foreach ((string target, string name, byte[] bytes) in SeedCorpus.Build())
    {
        string directory = Path.Combine(args[1], target);
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, name), bytes);
    }
    return 0;
}
if (args.Length == 1 && args[0] == "targets")
{
    Console.WriteLine(string.Join(' ', FuzzTargets.Names));
    return 0;
}
Console.Error.WriteLine("usage: HammingDB.Fuzz afl <target> | replay <target> <file>... | seeds <directory> | targets");
return 2;
