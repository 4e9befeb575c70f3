namespace NativeGan.Gan.Data;

/// <summary>
/// Bad or missing data: a truncated or wrong-magic IDX file, an unreadable image, an empty folder, npm not
/// installed. The message always names the file (or folder) and says what is wrong, so a run refuses
/// cleanly before its first step instead of training on half a dataset.
/// </summary>
public sealed class DataException : Exception
{
    public DataException(string message) : base(message) { }

    public DataException(string message, Exception inner) : base(message, inner) { }
}
