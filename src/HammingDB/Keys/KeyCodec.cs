using System.Buffers.Binary;
using System.Text;
using HammingDB.Storage.Segments;

namespace HammingDB.Keys;

/// <summary>
/// Turns keys into the bytes every layer below stores and compares: an order-preserving encoding,
/// so that comparing the bytes (unsigned, lexicographic) orders keys as the user's type does, and
/// ties in distance are broken by key in that order everywhere.
/// </summary>
internal interface IKeyCodec<TKey>
    where TKey : notnull
{
    static abstract KeyKind Kind { get; }

    static abstract byte[] Encode(TKey key);

    static abstract TKey Decode(ReadOnlySpan<byte> bytes);
}

/// <summary><c>ulong</c>: 8 bytes big-endian, so byte order is numeric order.</summary>
internal readonly struct UInt64Codec : IKeyCodec<ulong>
{
    public static KeyKind Kind => KeyKind.UInt64;

    public static byte[] Encode(ulong key)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, key);
        return bytes;
    }

    public static ulong Decode(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadUInt64BigEndian(bytes);
}

/// <summary>
/// <c>string</c>: UTF-8, so byte order is ordinal order of Unicode scalar values (not culture
/// order), at most 65,535 bytes. Unpaired surrogates cannot be encoded and are refused.
/// </summary>
internal readonly struct StringCodec : IKeyCodec<string>
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static KeyKind Kind => KeyKind.String;

    public static byte[] Encode(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] bytes;
        try
        {
            bytes = Strict.GetBytes(key);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("The key holds an unpaired surrogate, which has no UTF-8 form.", nameof(key), e);
        }
        if (bytes.Length > SegmentFormat.MaxStringKeyBytes)
        {
            throw new ArgumentException($"A key may be at most {SegmentFormat.MaxStringKeyBytes} UTF-8 bytes; this one is {bytes.Length}.", nameof(key));
        }
        return bytes;
    }

    public static string Decode(ReadOnlySpan<byte> bytes) => Strict.GetString(bytes);
}

/// <summary>
/// <c>Guid</c>: the 16 bytes in the order of its canonical text form (big-endian), so byte order is
/// the order of the strings "00000000-0000-..." to "ffffffff-ffff-...".
/// </summary>
internal readonly struct GuidCodec : IKeyCodec<Guid>
{
    public static KeyKind Kind => KeyKind.Guid;

    public static byte[] Encode(Guid key)
    {
        var bytes = new byte[16];
        key.TryWriteBytes(bytes, bigEndian: true, out _);
        return bytes;
    }

    public static Guid Decode(ReadOnlySpan<byte> bytes) => new(bytes, bigEndian: true);
}

/// <summary>Whether stored bytes are a key of a kind: what recovery and <c>check</c> verify in keys read back.</summary>
internal static class KeyBytes
{
    /// <summary>What is wrong with <paramref name="key"/> as a <paramref name="kind"/> key, or null when nothing is.</summary>
    public static string? Problem(KeyKind kind, ReadOnlySpan<byte> key) => kind switch
    {
        KeyKind.UInt64 or KeyKind.Guid when key.Length != SegmentFormat.FixedKeyBytes(kind) =>
            $"is {key.Length} bytes; a {kind} key is {SegmentFormat.FixedKeyBytes(kind)}",
        KeyKind.String when key.Length > SegmentFormat.MaxStringKeyBytes => $"is {key.Length} bytes; a string key is at most {SegmentFormat.MaxStringKeyBytes}",
        KeyKind.String when !System.Text.Unicode.Utf8.IsValid(key) => "is not valid UTF-8",
        KeyKind.UInt64 or KeyKind.Guid or KeyKind.String => null,
        _ => $"has key kind {(uint)kind}, which is unknown",
    };
}
