namespace Nabla;

/// <summary>Base of every error the engine raises on purpose.</summary>
public class NablaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NablaException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public NablaException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public NablaException() { }
}

/// <summary>
/// A graph could not be built: shapes, dtypes, axes or attributes are inconsistent. Raised at the
/// line that created the node; the message names the op type, the node and the shapes,
/// e.g. <c>MatMul 'dense_1/matmul': inner dimensions differ: [?,784] x [128,10]</c>.
/// </summary>
public class ShapeException : NablaException
{
    /// <summary>Creates the exception.</summary>
    public ShapeException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public ShapeException() { }

    /// <summary>Creates the exception with a cause.</summary>
    public ShapeException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A value fed to <see cref="Session.Run(Output[], IReadOnlyDictionary{Output, Tensor}?, Operation[])"/> is missing or has the wrong shape or dtype; names the placeholder.</summary>
public class FeedException : NablaException
{
    /// <summary>Creates the exception.</summary>
    public FeedException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public FeedException() { }

    /// <summary>Creates the exception with a cause.</summary>
    public FeedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A value seen only at run time is invalid, e.g. a gather index out of range or an uninitialised
/// variable. Raised before any kernel of the offending node runs; no variable is modified by the step
/// that raised it beyond the nodes already executed before the check.
/// </summary>
public class InvalidArgumentException : NablaException
{
    /// <summary>Creates the exception.</summary>
    public InvalidArgumentException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public InvalidArgumentException() { }

    /// <summary>Creates the exception with a cause.</summary>
    public InvalidArgumentException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A gradient was requested through an op that has none, or for an input not connected to the output.</summary>
public class GradientException : NablaException
{
    /// <summary>Creates the exception.</summary>
    public GradientException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public GradientException() { }

    /// <summary>Creates the exception with a cause.</summary>
    public GradientException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A device could not be used (no CUDA driver, no such device, out of device memory).</summary>
public class DeviceException : NablaException
{
    /// <summary>Creates the exception.</summary>
    public DeviceException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public DeviceException() { }

    /// <summary>Creates the exception with a cause.</summary>
    public DeviceException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A checkpoint file could not be read: it is truncated, its header is malformed, an offset, dtype or
/// shape is inconsistent, its checksum does not match, or it lacks (or mismatches) a tensor that the
/// caller asked for. <see cref="FilePath"/> names the file; the message names the file and the problem.
/// </summary>
public class CheckpointException : NablaException
{
    /// <summary>Creates the exception.</summary>
    public CheckpointException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public CheckpointException() { }

    /// <summary>Creates the exception with a cause.</summary>
    public CheckpointException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception for <paramref name="filePath"/>, with message "checkpoint 'path': problem".</summary>
    internal CheckpointException(string filePath, string problem, Exception? inner)
        : base($"checkpoint '{filePath}': {problem}", inner!) => FilePath = filePath;

    /// <summary>The file that failed to load, when known.</summary>
    public string? FilePath { get; }
}
