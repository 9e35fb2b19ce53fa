namespace HammingDB.Encoders;

// Layer 6 (docs/ARCHITECTURE.md): encoders, vector collections with rescoring, quality metrics.
internal static class EncodersAssembly;
