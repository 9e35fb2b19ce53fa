namespace HammingDB.Encoders.Data;

/// <summary>The layouts of a file of float vectors (either may be gzip-compressed).</summary>
public enum VectorFileFormat
{
    /// <summary>HammingDB's .hdbf: a 32-byte header (magic "HDBFVECS", dimension, count), then the rows.</summary>
    Hdbf = 1,

    /// <summary>The classic .fvecs (TEXMEX): per row an int32 dimension, then that many float32 values; no header.</summary>
    Fvecs = 2,
}
