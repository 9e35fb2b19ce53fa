using HammingDB.Kernels;

namespace HammingDB.Tests.Kernels;

public class IsaTests
{
    [Theory]
    [InlineData(null, IsaLevel.Avx512, IsaLevel.Avx512)]
    [InlineData("", IsaLevel.Avx2, IsaLevel.Avx2)]
    [InlineData("scalar", IsaLevel.Avx512, IsaLevel.Scalar)]
    [InlineData("AVX2", IsaLevel.Avx512, IsaLevel.Avx2)]
    [InlineData(" avx512 ", IsaLevel.Avx2, IsaLevel.Avx2)]
    [InlineData("avx512", IsaLevel.Avx512Vbmi, IsaLevel.Avx512)]
    [InlineData("AVX512VBMI", IsaLevel.Avx512Vbmi, IsaLevel.Avx512Vbmi)]
    public void Environment_caps_the_hardware_level(string? value, IsaLevel hardware, IsaLevel expected) =>
        Assert.Equal(expected, Isa.CapFromEnvironment(value, hardware));

    [Fact]
    public void An_unknown_environment_value_names_the_variable()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Isa.CapFromEnvironment("sse9", IsaLevel.Avx512));
        Assert.Contains("HAMMINGDB_ISA", e.Message, StringComparison.Ordinal);
        Assert.Contains("sse9", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Levels_round_trip_through_their_names()
    {
        foreach (IsaLevel level in Enum.GetValues<IsaLevel>())
        {
            Assert.Equal(level, Isa.Parse(Isa.Format(level)));
        }
    }

    [Fact]
    public void Requesting_an_unsupported_level_fails_loudly()
    {
        Assert.Equal(IsaLevel.Scalar, Isa.Resolve(IsaLevel.Scalar));
        if (Isa.Hardware < IsaLevel.Avx512Vbmi)
        {
            Assert.Throws<PlatformNotSupportedException>(() => Isa.Resolve(IsaLevel.Avx512Vbmi));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Isa.Resolve((IsaLevel)7));
    }
}
