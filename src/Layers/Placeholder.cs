namespace Nabla.Layers;

/// <summary>Marker for the Keras-like layer library, which builds on the engine's graphs, ops and autodiff (see the layers issue).</summary>
public static class LayersInfo
{
    /// <summary>Version of the layer API surface.</summary>
    public const string ApiVersion = "0.1";
}
