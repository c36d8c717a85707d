using Nabla.Optimizers;

namespace Nabla.Samples;

/// <summary>TensorFlow-1.x-style graph: placeholders, variables, a loss, gradient descent in a session.</summary>
internal static class LinearRegression
{
    public static int Run(Device device)
    {
        var g = new Graph { Seed = 42 };
        var x = g.Placeholder(DType.Float32, new Shape(-1, 1), "x");
        var y = g.Placeholder(DType.Float32, new Shape(-1, 1), "y");
        var w = g.Variable(new Shape(1, 1), DType.Float32, Initializer.RandomNormal(0, 1, seed: 1), "w");
        var b = g.Variable(new Shape(1), DType.Float32, Initializer.Zeros, "b");
        var prediction = g.MatMul(x, w) + b;
        var loss = g.ReduceMean(g.Square(prediction - y), name: "loss");
        var train = new SGD(0.1).Minimize(loss);

        // 64 noisy points on y = 3x + 2.
        var xs = Tensor.RandomUniform(new Shape(64, 1), -1, 1, seed: 7);
        var noise = Tensor.RandomNormal(new Shape(64, 1), 0, 0.05, seed: 8);
        var ys = Tensor.FromArray(xs.ToArray<float>().Zip(noise.ToArray<float>(), (a, n) => 3 * a + 2 + n).ToArray(), 64, 1);
        var feeds = new Dictionary<Output, Tensor> { [x] = xs, [y] = ys };

        using var session = new Session(g, device);
        session.Run(g.GlobalVariablesInitializer());
        Console.WriteLine($"device: {device}");
        for (var step = 0; step <= 100; step++)
        {
            if (step % 10 == 0)
                Console.WriteLine($"step {step,3}  loss {session.Run(loss, feeds).ToScalar<float>():F6}");
            session.Run(train, feeds);
        }
        var fitted = session.Run([w.Value, b.Value]);
        Console.WriteLine($"fitted w = {fitted[0][0, 0]:F4} (true 3), b = {fitted[1][0]:F4} (true 2)");
        return 0;
    }
}
