namespace Nabla.Data;

/// <summary>
/// A data set's train and test splits, as Keras' <c>load_data()</c> returns them; deconstructs as
/// <c>var (xTrain, yTrain, xTest, yTest) = Mnist.Load();</c>.
/// </summary>
/// <param name="TrainImages">Training images, float32 [N, 28, 28] holding the raw byte values 0..255 (divide by 255 to scale to [0, 1]).</param>
/// <param name="TrainLabels">Training labels, int32 [N], class indices.</param>
/// <param name="TestImages">Test images, float32 [M, 28, 28], values 0..255.</param>
/// <param name="TestLabels">Test labels, int32 [M].</param>
public sealed record DataSplits(Tensor TrainImages, Tensor TrainLabels, Tensor TestImages, Tensor TestLabels);

/// <summary>
/// A data set is neither in the local cache nor obtainable from any of its sources (download, npm
/// package, files placed by hand). The message lists why each source failed and which files to place
/// in which directory to install the data set by hand.
/// </summary>
public class DatasetUnavailableException : NablaException
{
    /// <summary>Creates the exception.</summary>
    public DatasetUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public DatasetUnavailableException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public DatasetUnavailableException() { }
}
