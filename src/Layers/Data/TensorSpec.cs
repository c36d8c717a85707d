namespace Nabla.Data;

/// <summary>
/// The static type of one component of a dataset element, as tf.TensorSpec: a shape in which −1 marks a
/// dimension known only at run time (the batch dimension of a <see cref="Dataset.Batch"/> that keeps its
/// remainder), and a dtype.
/// </summary>
/// <param name="Shape">Shape of the component; −1 where unknown.</param>
/// <param name="DType">Element type of the component.</param>
public readonly record struct TensorSpec(Shape Shape, DType DType)
{
    /// <summary>The spec of a concrete tensor.</summary>
    public static TensorSpec Of(Tensor tensor) => new(tensor.Shape, tensor.DType);

    /// <summary>Prints as TensorFlow does, e.g. <c>TensorSpec(shape=[?,784], dtype=float32)</c>.</summary>
    public override string ToString() => $"TensorSpec(shape={Shape}, dtype={DType.Name()})";
}
