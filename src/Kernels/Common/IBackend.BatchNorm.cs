namespace Nabla.Kernels;

public partial interface IBackend
{
    /// <summary>
    /// Batch normalisation of x viewed as [rows, channels] (channels last):
    /// y = (x − μ)·γ / √(σ² + ε) + β. Training: μ and σ² are the per-channel batch mean and biased variance,
    /// written to <paramref name="batchMean"/> and (Bessel-corrected by rows / (rows − 1), as TensorFlow's fused
    /// kernel; unchanged for one row) <paramref name="batchVariance"/>. Inference: μ = <paramref name="mean"/>,
    /// σ² = <paramref name="variance"/>, which are copied to the two outputs. All buffers share x's dtype; the
    /// per-channel ones have length <paramref name="channels"/>. With no rows, training gives NaN statistics.
    /// </summary>
    void BatchNorm(DeviceBuffer x, DeviceBuffer scale, DeviceBuffer offset, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer y, DeviceBuffer batchMean, DeviceBuffer batchVariance);

    /// <summary>
    /// Gradient of <see cref="BatchNorm"/> with x̂ = (x − μ)·r, r = 1/√(σ² + ε): dβ = Σ dy, dγ = Σ dy·x̂ over rows, and
    /// dx = γ·r·(dy − (dβ + x̂·dγ)/rows) in training (μ, σ² recomputed from x, biased), dx = γ·r·dy in inference
    /// (μ = <paramref name="mean"/>, σ² = <paramref name="variance"/>; these two are not read in training).
    /// </summary>
    void BatchNormGrad(DeviceBuffer dy, DeviceBuffer x, DeviceBuffer scale, DeviceBuffer mean, DeviceBuffer variance, double epsilon, bool training,
        int rows, int channels, DeviceBuffer dx, DeviceBuffer dScale, DeviceBuffer dOffset);
}
