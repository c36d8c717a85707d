using Nabla.Layers;

namespace Nabla.Samples;

/// <summary>The pieces of a variational autoencoder that W13 (dense) and W14 (convolutional) share.</summary>
internal static class Vae
{
    /// <summary>The reparameterisation trick: z = μ + exp(log σ² / 2)·ε with ε ~ N(0, I), so gradients reach μ and σ.</summary>
    internal sealed class Sampling : Layer
    {
        protected override Output[] Call(Output[] inputs, bool training)
        {
            var (mean, logVar) = (inputs[0], inputs[1]);
            var g = mean.Graph;
            return [g.RandomNormalLike(logVar) * g.Exp(logVar * 0.5) + mean];
        }
    }

    /// <summary>Encoder, then decoder on the sampled codings; the latent loss is added in Call as in Keras.</summary>
    internal sealed class VariationalAutoencoder(Model encoder, Model decoder, string name = "variational_autoencoder") : Model(name)
    {
        protected override Output Call(Output inputs, bool training)
        {
            var encoded = encoder.Apply([inputs], training);
            var (mean, logVar, codings) = (encoded[0], encoded[1], encoded[2]);
            var g = inputs.Graph;
            // KL(N(μ, σ²) ‖ N(0, I)) per image; divided by 784 to match the binary CE, which averages over pixels.
            var kl = -0.5 * g.ReduceSum(1.0 + logVar - g.Exp(logVar) - g.Square(mean), -1);
            AddLoss(g.ReduceMean(kl) / 784.0);
            return decoder.Apply(codings, training);
        }
    }
}
