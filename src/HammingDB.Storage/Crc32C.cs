using System.Buffers.Binary;
using System.Numerics;

namespace HammingDB.Storage;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every block HammingDB writes. Uses the CPU's CRC32
/// instruction through <see cref="BitOperations.Crc32C(uint, ulong)"/> (software where absent).
/// LZ4 detects no corruption by itself, so nothing is trusted without this.
/// </summary>
public static class Crc32C
{
    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Extends <paramref name="crc"/> (a previous result, 0 to start) over <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint state = ~crc;
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }
        return ~state;
    }
}
