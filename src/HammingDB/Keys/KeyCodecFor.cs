using HammingDB.Storage.Segments;

namespace HammingDB.Keys;

/// <summary>The codec of a key type, chosen once per type: <c>ulong</c>, <c>string</c> or <c>Guid</c>.</summary>
internal static class KeyCodecFor<TKey>
    where TKey : notnull
{
    public static readonly KeyKind Kind;
    public static readonly Func<TKey, byte[]> Encode;
    public static readonly Func<byte[], TKey> Decode;

#pragma warning disable CA1810 // one type test per key type, at first use
    static KeyCodecFor()
    {
        if (typeof(TKey) == typeof(ulong))
        {
            (Kind, Encode, Decode) = (UInt64Codec.Kind, k => UInt64Codec.Encode((ulong)(object)k), b => (TKey)(object)UInt64Codec.Decode(b));
        }
        else if (typeof(TKey) == typeof(string))
        {
            (Kind, Encode, Decode) = (StringCodec.Kind, k => StringCodec.Encode((string)(object)k), b => (TKey)(object)StringCodec.Decode(b));
        }
        else if (typeof(TKey) == typeof(Guid))
        {
            (Kind, Encode, Decode) = (GuidCodec.Kind, k => GuidCodec.Encode((Guid)(object)k), b => (TKey)(object)GuidCodec.Decode(b));
        }
        else
        {
            Kind = 0;
            Encode = _ => throw Unsupported();
            Decode = _ => throw Unsupported();
        }
    }
#pragma warning restore CA1810

    public static bool IsSupported => Kind != 0;

    public static string Name => Kind switch
    {
        KeyKind.UInt64 => "ulong",
        KeyKind.String => "string",
        KeyKind.Guid => "Guid",
        _ => typeof(TKey).Name,
    };

    private static NotSupportedException Unsupported() => new($"Keys of type {typeof(TKey).Name} are not supported; use ulong, string or Guid.");
}
