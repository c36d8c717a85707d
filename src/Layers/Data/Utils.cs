namespace Nabla.Data;

/// <summary>Data preparation helpers in the spirit of <c>keras.utils</c>.</summary>
public static class Utils
{
    /// <summary>
    /// One-hot encodes class indices, as <c>keras.utils.to_categorical</c>: labels of shape S give a
    /// float32 tensor of shape S + [numClasses] with a 1 at each label's index. As in Keras, a trailing
    /// axis of size 1 is dropped first when the rank is above 1 ([N, 1] → [N, numClasses]).
    /// </summary>
    /// <param name="labels">Class indices: int32 or int64, or float32 / float64 holding whole numbers.</param>
    /// <param name="numClasses">Number of classes (≥ 1); every label must lie in 0..numClasses−1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is below 1, or a label is outside 0..numClasses−1 (the message gives its position and value).</exception>
    /// <exception cref="ArgumentException">The labels are bool, or floating values that are not whole numbers.</exception>
    public static Tensor ToCategorical(Tensor labels, int numClasses)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "ToCategorical needs at least one class");
        if (labels.DType == DType.Bool) throw new ArgumentException("ToCategorical needs integer class indices, got bool labels", nameof(labels));
        var values = labels.ToDoubleArray();
        var dims = labels.Shape.ToArray();
        if (dims.Length > 1 && dims[^1] == 1) dims = dims[..^1];

        var oneHot = new float[checked(values.Length * numClasses)];
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (v != Math.Floor(v))
                throw new ArgumentException($"label at flat position {i} is {v}, not a whole number (labels must be class indices)", nameof(labels));
            if (v < 0 || v >= numClasses)
                throw new ArgumentOutOfRangeException(nameof(labels), $"label at flat position {i} is {v}, outside 0..{numClasses - 1} for numClasses = {numClasses}");
            oneHot[i * numClasses + (int)v] = 1f;
        }
        return new Tensor(oneHot, new Shape([.. dims, numClasses]), DType.Float32);
    }

    /// <summary>
    /// Splits examples (axis 0 of <paramref name="x"/> and <paramref name="y"/>) into training and
    /// validation parts as Keras' <c>validation_split</c> does: the first floor(N · (1 − fraction))
    /// examples train, the rest validate. With a <paramref name="seed"/>, the examples are first
    /// shuffled by a permutation drawn from <c>new Random(seed)</c> (Fisher–Yates), the same for the same seed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not strictly between 0 and 1, or leaves one part empty.</exception>
    /// <exception cref="ArgumentException">x and y have different numbers of examples, or are scalars.</exception>
    public static (Tensor TrainX, Tensor TrainY, Tensor ValidationX, Tensor ValidationY) TrainValidationSplit(
        Tensor x, Tensor y, double validationFraction, int? seed = null)
    {
        if (x.Rank == 0 || y.Rank == 0) throw new ArgumentException($"x and y need an example axis, got shapes {x.Shape} and {y.Shape}");
        var n = x.Shape[0];
        if (y.Shape[0] != n) throw new ArgumentException($"x has {n} examples, y has {y.Shape[0]}", nameof(y));
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "the validation fraction must lie strictly between 0 and 1");
        // Same arithmetic as Keras (train_validation_split): split_at = floor(n * (1 - fraction)).
        var splitAt = (int)Math.Floor(n * (1.0 - validationFraction));
        if (splitAt == 0 || splitAt == n)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, $"with {n} examples, a validation fraction of {validationFraction} leaves {(splitAt == 0 ? "no training" : "no validation")} examples");

        var order = Enumerable.Range(0, n).ToArray();
        if (seed is { } s)
        {
            var random = new Random(s);
            for (var i = n - 1; i > 0; i--)
            {
                var j = random.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }
        return (Rows.Gather(x, order.AsSpan(0, splitAt)), Rows.Gather(y, order.AsSpan(0, splitAt)),
                Rows.Gather(x, order.AsSpan(splitAt)), Rows.Gather(y, order.AsSpan(splitAt)));
    }
}
