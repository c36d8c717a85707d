using NUnit.Framework;
using Nabla.Layers;

namespace Nabla.Tests.Layers;

/// <summary>Each layer test starts from a fresh Keras graph, so names ("dense", "dense_1") and seeds are predictable.</summary>
public abstract class KerasTestBase
{
    /// <summary>Fresh graph and name counters.</summary>
    [SetUp]
    public void FreshKerasSession() => Keras.ClearSession();

    /// <summary>Two Gaussian blobs per class in <paramref name="features"/> dimensions, labels 0..classes−1: a separable toy problem.</summary>
    protected static (Tensor X, Tensor Labels) Blobs(int n, int features, int classes, ulong seed = 1)
    {
        var noise = Tensor.RandomNormal(new Shape(n, features), 0, 0.3, seed).ToArray<float>();
        var centers = Tensor.RandomNormal(new Shape(classes, features), 0, 2, seed + 100).ToArray<float>();
        var x = new float[n * features];
        var y = new int[n];
        for (var i = 0; i < n; i++)
        {
            y[i] = i % classes;
            for (var j = 0; j < features; j++) x[i * features + j] = centers[y[i] * features + j] + noise[i * features + j];
        }
        return (Tensor.FromArray(x, n, features), Tensor.FromArray(y, n));
    }
}
