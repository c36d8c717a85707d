namespace Nabla.Kernels.Reference;

public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    public void BatchNorm(DeviceBuffer x, DeviceBuffer scale, DeviceBuffer offset, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer y, DeviceBuffer batchMean, DeviceBuffer batchVariance)
    {
        for (var c = 0; c < channels; c++)
        {
            var (mu, v) = training ? Moments(x, rows, channels, c) : (F(mean, c), F(variance, c));
            var r = 1 / Math.Sqrt(v + epsilon);
            for (var i = 0; i < rows; i++)
            {
                var at = i * channels + c;
                SetF(y, at, (F(x, at) - mu) * r * F(scale, c) + F(offset, c));
            }
            SetF(batchMean, c, mu);
            // TensorFlow's fused kernel reports the Bessel-corrected variance (what Keras feeds its moving average).
            SetF(batchVariance, c, training && rows > 1 ? v * rows / (rows - 1) : v);
        }
    }

    /// <inheritdoc/>
    public void BatchNormGrad(DeviceBuffer dy, DeviceBuffer x, DeviceBuffer scale, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer dx, DeviceBuffer dScale, DeviceBuffer dOffset)
    {
        for (var c = 0; c < channels; c++)
        {
            var (mu, v) = training ? Moments(x, rows, channels, c) : (F(mean, c), F(variance, c));
            var r = 1 / Math.Sqrt(v + epsilon);
            double sumDy = 0, sumDyXhat = 0;
            for (var i = 0; i < rows; i++)
            {
                var at = i * channels + c;
                sumDy += F(dy, at);
                sumDyXhat += F(dy, at) * (F(x, at) - mu) * r;
            }
            var gamma = F(scale, c);
            for (var i = 0; i < rows; i++)
            {
                var at = i * channels + c;
                var xhat = (F(x, at) - mu) * r;
                SetF(dx, at, training ? gamma * r * (F(dy, at) - (sumDy + xhat * sumDyXhat) / rows) : gamma * r * F(dy, at));
            }
            SetF(dScale, c, sumDyXhat);
            SetF(dOffset, c, sumDy);
        }
    }

    /// <summary>Mean and biased variance of channel c over the rows, two-pass.</summary>
    private static (double Mean, double Variance) Moments(DeviceBuffer x, int rows, int channels, int c)
    {
        var s = 0.0;
        for (var i = 0; i < rows; i++) s += F(x, i * channels + c);
        var mu = s / rows;
        var q = 0.0;
        for (var i = 0; i < rows; i++)
        {
            var d = F(x, i * channels + c) - mu;
            q += d * d;
        }
        return (mu, q / rows);
    }
}
