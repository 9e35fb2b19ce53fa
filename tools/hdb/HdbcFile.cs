using System.Buffers.Binary;
using System.Runtime.InteropServices;
using HammingDB.Kernels;

namespace HammingDB.Cli;

/// <summary>
/// The .hdbc workload format of ../shared/bench/gencodes.c (little-endian):
/// <code>
///   0..7    magic "HDBCODES"
///   8..11   u32 bits per code
///   12..15  u32 reserved (0)
///   16..23  u64 number of codes
///   24..31  u64 reserved (0)
///   32..    codes, each ceil(bits/64) u64 words, word 0 first
/// </code>
/// gencodes writes multiples of 64 bits only; other multiples of 8 are read with the last word
/// zero-padded, which is exactly the in-memory layout (<see cref="CodeLayout"/>).
/// </summary>
internal static class HdbcFile
{
    public const int HeaderBytes = 32;
    private static ReadOnlySpan<byte> Magic => "HDBCODES"u8;

    /// <summary>Reads up to <paramref name="maxCodes"/> codes (all when 0). Every defect is an <see cref="InputException"/> naming the file and offset.</summary>
    public static PackedCodes Read(string path, long maxCodes = 0)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        long length = RandomAccess.GetLength(handle);
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (length < HeaderBytes || RandomAccess.Read(handle, header, 0) != HeaderBytes)
        {
            throw new InputException($"{path}: not an .hdbc file: {length} bytes is shorter than the 32-byte header.");
        }
        (uint bits, ulong count) = ParseHeader(header, path);
        var layout = new CodeLayout((int)bits);
        long stride = layout.StrideBytes;
        long expected = HeaderBytes + (long)Math.Min(count, (ulong)long.MaxValue / (ulong)stride) * stride;
        if (count > (ulong)((long.MaxValue - HeaderBytes) / stride) || expected != length)
        {
            throw new InputException(
                $"{path}: the header (offset 16) says {count} codes of {bits} bits, {HeaderBytes} + {count} x {stride} bytes, but the file holds {length} bytes.");
        }
        long take = maxCodes > 0 ? Math.Min((long)count, maxCodes) : (long)count;
        if (take > int.MaxValue || take * layout.WordsPerCode > Array.MaxLength)
        {
            throw new InputException($"{path}: {take} codes of {bits} bits are more than one in-memory block holds.");
        }
        var codes = new PackedCodes(layout, (int)take);
        int chunkCodes = Math.Max(1, (1 << 20) / (int)stride);
        var buffer = new ulong[chunkCodes * layout.WordsPerCode];
        long offset = HeaderBytes;
        for (long done = 0; done < take;)
        {
            int n = (int)Math.Min(chunkCodes, take - done);
            Span<byte> bytes = MemoryMarshal.AsBytes(buffer.AsSpan(0, n * layout.WordsPerCode));
            RandomAccess.Read(handle, bytes, offset);
            if (!BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.ReverseEndianness(buffer.AsSpan(0, n * layout.WordsPerCode), buffer.AsSpan(0, n * layout.WordsPerCode));
            }
            try
            {
                codes.AddRange(buffer.AsSpan(0, n * layout.WordsPerCode), n);
            }
            catch (ArgumentException e)
            {
                throw new InputException($"{path}: codes from offset {offset}: {e.Message}");
            }
            offset += bytes.Length;
            done += n;
        }
        return codes;
    }

    /// <summary>Checks a 32-byte header (magic, width); returns the width and the number of codes it announces.</summary>
    public static (uint Bits, ulong Count) ParseHeader(ReadOnlySpan<byte> header, string path)
    {
        if (!header[..8].SequenceEqual(Magic))
        {
            throw new InputException($"{path}: not an .hdbc file: offset 0 does not hold the magic \"HDBCODES\".");
        }
        uint bits = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        if (bits < CodeLayout.MinCodeBits || bits > CodeLayout.MaxCodeBits || bits % 8 != 0)
        {
            throw new InputException($"{path}: offset 8: {bits} bits per code is not a multiple of 8 from 8 to 8192.");
        }
        return (bits, count);
    }

    /// <summary>The 32-byte header of a file of <paramref name="count"/> codes of <paramref name="bits"/> bits.</summary>
    public static void WriteHeader(Span<byte> header, int bits, ulong count)
    {
        header[..HeaderBytes].Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)bits);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], count);
    }

    /// <summary>Writes <paramref name="codes"/> as an .hdbc file.</summary>
    public static void Write(string path, PackedCodes codes)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Span<byte> header = stackalloc byte[HeaderBytes];
        WriteHeader(header, codes.Layout.CodeBits, (ulong)codes.Count);
        stream.Write(header);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Writing .hdbc on a big-endian machine is not supported.");
        }
        stream.Write(MemoryMarshal.AsBytes(codes.Words));
    }
}
