using Nabla.Data;

namespace Nabla.Samples;

/// <summary>Host-side data preparation shared by the samples: scaling, subsets, flattening, splits.</summary>
internal static class SampleData
{
    /// <summary>Images [N, h, w] as [N, h·w], sharing their storage.</summary>
    public static Tensor Flatten(Tensor images) => images.WithShape(new Shape(images.Shape[0], images.Size / Math.Max(1, images.Shape[0])));

    /// <summary>Rows <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> − 1 of a float32 or int32 tensor.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range leaves the tensor.</exception>
    public static Tensor Rows(Tensor t, int start, int count)
    {
        var n = t.Shape[0];
        if (start < 0 || count < 0 || start + count > n)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {start}..{start + count - 1} are outside a tensor of {n} rows ({t.Shape})");
        if (start == 0 && count == n) return t; // tensors are values: the whole range need not be copied
        var row = n == 0 ? 0 : t.Size / n;
        var shape = new Shape([count, .. t.Shape.Skip(1)]);
        return t.DType switch
        {
            // One copy of the rows asked for, not of the whole tensor first.
            DType.Float32 => new Tensor(t.AsSpan<float>().Slice(start * row, count * row).ToArray(), shape, DType.Float32),
            DType.Int32 => new Tensor(t.AsSpan<int>().Slice(start * row, count * row).ToArray(), shape, DType.Int32),
            _ => throw new ArgumentException($"Rows supports float32 and int32, got {t.DType.Name()}", nameof(t)),
        };
    }

    /// <summary>The first <paramref name="count"/> rows, or all of them when there are fewer.</summary>
    public static Tensor Head(Tensor t, int count) => Rows(t, 0, Math.Min(count, t.Shape[0]));

    /// <summary>
    /// MNIST scaled to [0, 1] and flattened to [N, 784], labels int32; a quick run keeps the first
    /// 6,000 training and 1,000 test examples.
    /// </summary>
    public static (Tensor XTrain, Tensor YTrain, Tensor XTest, Tensor YTest) MnistFlat(bool quick)
    {
        // Scaled while the files are read and flattened without a copy: one float copy of the images
        // (188 MB for the 60,000 training images), where loading, Head and Scale used to make four.
        var d = Mnist.Load(1f / 255);
        var (train, test) = quick ? (6000, 1000) : (d.TrainImages.Shape[0], d.TestImages.Shape[0]);
        return (Flatten(Head(d.TrainImages, train)), Head(d.TrainLabels, train),
                Flatten(Head(d.TestImages, test)), Head(d.TestLabels, test));
    }

    /// <summary>
    /// MNIST for the convolutional samples: images [N, 28, 28, 1] (NHWC) in [0, 1], sharing the loaded
    /// storage, and int32 labels; a quick run keeps the first 6,000 training and 1,000 test examples.
    /// </summary>
    public static (Tensor XTrain, Tensor YTrain, Tensor XTest, Tensor YTest) MnistImages(bool quick)
    {
        var d = Mnist.Load(1f / 255);
        var (train, test) = quick ? (6000, 1000) : (d.TrainImages.Shape[0], d.TestImages.Shape[0]);
        return (Channel(Head(d.TrainImages, train)), Head(d.TrainLabels, train), Channel(Head(d.TestImages, test)), Head(d.TestLabels, test));
    }

    /// <summary>Images [N, h, w] as [N, h, w, 1], sharing their storage.</summary>
    public static Tensor Channel(Tensor images) => images.WithShape(new Shape([.. images.Shape, 1]));

    /// <summary>
    /// Fashion-MNIST images [N, 28, 28] scaled to [0, 1], split as the Keras autoencoder chapter does:
    /// the last 5,000 training images validate, the first 55,000 train. A quick run keeps 3,000 / 500 / 500.
    /// The test labels (int32) come along for samples that pick images by class.
    /// </summary>
    public static (Tensor Train, Tensor Valid, Tensor Test, Tensor TestLabels) FashionImages(bool quick)
    {
        // Scaled while the files are read; each split is then one copy of its own rows.
        var d = FashionMnist.Load(1f / 255);
        var n = d.TrainImages.Shape[0];
        var (train, valid, test) = quick ? (3000, 500, 500) : (n - 5000, 5000, d.TestImages.Shape[0]);
        return (Rows(d.TrainImages, 0, train), Rows(d.TrainImages, n - valid, valid), Head(d.TestImages, test), Head(d.TestLabels, test));
    }
}
