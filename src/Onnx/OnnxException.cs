namespace Nabla.Onnx;

/// <summary>
/// An ONNX model could not be written or read: a graph node or layer has no faithful ONNX mapping, an imported node
/// uses an op or attribute Nabla does not support (the message names the node and its op type), or a file is not a
/// valid ONNX model (truncated, corrupted, or missing a required part).
/// </summary>
public sealed class OnnxException : NablaException
{
    /// <summary>Creates the exception.</summary>
    public OnnxException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public OnnxException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public OnnxException() { }
}
