namespace HammingDB.Encoders.Data;

/// <summary>Int32 vectors, row-major in one array (the content of an .ivecs file).</summary>
/// <param name="values">The values, not copied.</param>
/// <param name="dimension">The length of each row.</param>
/// <exception cref="ArgumentException">The array is not a whole number of rows.</exception>
public sealed class IntVectors(int[] values, int dimension) : RowMajor<int>(values, dimension);
