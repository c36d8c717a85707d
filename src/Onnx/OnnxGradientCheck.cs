namespace Nabla.Onnx;

/// <summary>One checked tensor (a model input or a floating initializer) of <see cref="OnnxGradientCheck"/>.</summary>
/// <param name="Name">ONNX name.</param>
/// <param name="Shape">Shape checked (inputs at the chosen batch size).</param>
/// <param name="IsInitializer">Whether it is a weight (initializer) rather than a model input.</param>
/// <param name="Checked">Elements compared (a sample of large tensors).</param>
/// <param name="MaxAbsoluteError">Worst |analytic − numeric| over the checked elements.</param>
/// <param name="MaxRelativeError">Worst |analytic − numeric| / |numeric| (0 where both are 0).</param>
/// <param name="WorstRatio">Worst |a − n| / (atol + rtol·|n|); the tensor passes when it is ≤ 1.</param>
public sealed record OnnxGradientCheckTensor(string Name, Shape Shape, bool IsInitializer, int Checked, double MaxAbsoluteError, double MaxRelativeError, double WorstRatio)
{
    /// <summary>Every checked element within tolerance.</summary>
    public bool Passed => WorstRatio <= 1;
}

/// <summary>The outcome of <see cref="OnnxGradientCheck.Run(byte[], string, int, int, ulong, GradientTolerance?, double)"/>: one row per tensor.</summary>
public sealed record OnnxGradientCheckResult(IReadOnlyList<OnnxGradientCheckTensor> Tensors, GradientTolerance Tolerance)
{
    /// <summary>Every tensor passed.</summary>
    public bool Passed => Tensors.All(t => t.Passed);
}

/// <summary>
/// Gradient check of an arbitrary ONNX model: imports it in float64 with its inputs and floating initializers as
/// placeholders (integer inputs that index an initializer through Gather, such as an Embedding's token ids, become
/// fixed random ids in range and are not differentiated), builds the symbolic gradients of L = Σ w ⊙ outputs (fixed weights w ∈ [0.5, 1.5)) with respect to all
/// of them, and compares them on the <see cref="Device.Reference"/> backend with central differences
/// (L(x + h·eₖ) − L(x − h·eₖ)) / 2h, h = delta·max(1, |xₖ|), as <see cref="GradientCheck"/> does. Large tensors are checked
/// on a random sample of their elements (2 evaluations of the model per element).
/// </summary>
/// <remarks>
/// The absolute tolerance is raised to 100·ε·Σ|w·y|/h when that is larger: the rounding error of a difference of two
/// evaluations of a whole model's loss, which the fixed 1e-8 of small-function checks does not cover. The result
/// reports the tolerance used.
/// </remarks>
public static class OnnxGradientCheck
{
    /// <summary>
    /// For each graph input used as the indices of a Gather over an initializer (an Embedding), the number of rows it
    /// may index: the smallest such table's size along the gathered axis.
    /// </summary>
    private static Dictionary<string, int> IdBounds(Proto.ModelProto proto)
    {
        var dims = proto.Graph.Initializer.ToDictionary(i => i.Name, i => i.Dims.ToArray(), StringComparer.Ordinal);
        var bounds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in proto.Graph.Node)
        {
            if (node.OpType != "Gather" || node.Input.Count < 2 || !dims.TryGetValue(node.Input[0], out var table)) continue;
            var axis = node.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? 0;
            if (axis < 0) axis += table.Length;
            if (axis < 0 || axis >= table.Length || table[axis] < 1 || table[axis] > int.MaxValue) continue;
            var rows = (int)table[axis];
            bounds[node.Input[1]] = bounds.TryGetValue(node.Input[1], out var b) ? Math.Min(b, rows) : rows;
        }
        return bounds;
    }

    /// <summary>Checks the model in <paramref name="path"/>; see the class remarks.</summary>
    /// <exception cref="OnnxException">The file is not a valid or supported ONNX model.</exception>
    public static OnnxGradientCheckResult Run(string path, int batch = 2, int samplesPerTensor = 16, ulong seed = 1, GradientTolerance? tolerance = null, double delta = 1e-6) =>
        Run(File.ReadAllBytes(path), Path.GetFileName(path), batch, samplesPerTensor, seed, tolerance, delta);

    /// <summary>Checks a serialised model.</summary>
    /// <param name="model">The ONNX bytes.</param>
    /// <param name="source">Name used in messages.</param>
    /// <param name="batch">Size given to unknown leading (batch) dimensions of the inputs.</param>
    /// <param name="samplesPerTensor">Elements checked per tensor (all of them when the tensor is smaller).</param>
    /// <param name="seed">Seed of the random inputs and of the sampled elements.</param>
    /// <param name="tolerance">Pass criterion; <see cref="GradientTolerance.Default"/> when null.</param>
    /// <param name="delta">Relative step of the central difference.</param>
    /// <exception cref="OnnxException">The model is invalid, unsupported, or an input has an unknown dimension other than the first.</exception>
    public static OnnxGradientCheckResult Run(byte[] model, string source, int batch = 2, int samplesPerTensor = 16, ulong seed = 1, GradientTolerance? tolerance = null, double delta = 1e-6)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerTensor, 1);
        var tol = tolerance ?? GradientTolerance.Default;
        var proto = Onnx.Parse(model, source);
        var g = new Graph();
        var xs = new List<(string Name, Output X, bool Init)>();
        var inits = proto.Graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var importer = new OnnxImporter(proto, source);
        var idBounds = IdBounds(proto);
        var k = 0UL;
        // A generated input's dimensions: an unknown first one (a batch) becomes `batch` where batchDim allows it.
        int[] Dims(string name, Shape shape, bool batchDim) => shape.Select((d, i) => d >= 0 ? d : i == 0 && batchDim ? batch
            : throw new OnnxException($"gradcheck of '{source}': input '{name}' {shape} has an unknown dimension {i}; only the first (batch) may be unknown")).ToArray();
        var built = importer.Build(g, (name, dtype, shape) =>
        {
            if (!dtype.IsFloating())
            {
                // Integer ids that index a table (Embedding's Gather) are not differentiable: they become fixed random ids
                // in [0, rows) so the floating tensors after them can be checked.
                if (inits.Contains(name) || !idBounds.TryGetValue(name, out var rows) || dtype is not (DType.Int32 or DType.Int64)) return null;
                var idShape = new Shape(Dims(name, shape, batchDim: true));
                var rng = new Random(unchecked((int)(seed + 977 * ++k)));
                var ids = Enumerable.Range(0, (int)idShape.ElementCount).Select(_ => rng.Next(rows)).ToArray();
                var idTensor = Tensor.FromArray(ids, [.. idShape]);
                return g.Constant(dtype == DType.Int32 ? idTensor : OnnxImporter.Convert(idTensor, DType.Int64), OnnxImporter.Safe(name) + "_ids");
            }
            var isInit = inits.Contains(name);
            var dims = Dims(name, shape, batchDim: !isInit);
            var x = g.Placeholder(DType.Float64, new Shape(dims), OnnxImporter.Safe(name) + "_x");
            xs.Add((name, x, isInit));
            return x;
        }, DType.Float64);
        if (xs.Count == 0) throw new OnnxException($"gradcheck of '{source}': the model has no floating inputs or initializers");
        foreach (var (name, x) in built.Inputs)
            if (!x.DType.IsFloating() && x.Op.Type != "Const")
                throw new OnnxException($"gradcheck of '{source}': input '{name}' is {x.DType.Name()} {x.Shape}; only floating inputs, and integer ids that index an initializer through Gather, can be generated");

        var feeds = new Dictionary<Output, (Shape Shape, double[] Values)>();
        foreach (var (name, x, isInit) in xs)
        {
            var values = isInit ? importer.Constant(name)!.ToDoubleArray() : Tensor.RandomNormal(x.Shape, 0, 1, seed + 977 * ++k, DType.Float64).ToDoubleArray();
            feeds[x] = (x.Shape, values);
        }
        var outputs = built.Outputs.Values.Where(o => o.DType.IsFloating()).ToArray();
        if (outputs.Length == 0) throw new OnnxException($"gradcheck of '{source}': the model has no floating outputs");

        using var session = new Session(g, Device.Reference);
        var values0 = session.RunFloat64(outputs, feeds, out var shapes);
        Output? loss = null;
        for (var i = 0; i < outputs.Length; i++)
        {
            var w = new double[values0[i].Length];
            for (var j = 0; j < w.Length; j++) w[j] = 0.5 + Kernels.Philox.ToUnit(Kernels.Philox.Block(0x5EED + (ulong)i, (ulong)j, 7).Item1);
            var term = g.ReduceSum(g.Mul(g.Cast(outputs[i], DType.Float64), g.Constant(new Tensor(w, shapes[i], DType.Float64))));
            loss = loss is null ? term : loss.Value + term;
        }
        var grads = g.Gradients([loss!.Value], xs.Select(x => x.X).ToArray(), null, UnconnectedGradients.Zero);
        var analytic = session.RunFloat64(grads.Select(o => o!.Value).ToArray(), feeds);
        double Loss() => session.RunFloat64([loss.Value], feeds)[0][0];

        // The central difference's own rounding error is about ε·Σ|w·y|/h; a whole model's evaluation rounds in many
        // more places, so elements pass within 100× that (still orders of magnitude below a wrong gradient's error).
        var scale = 0.0;
        for (var i = 0; i < outputs.Length; i++) scale += values0[i].Sum(Math.Abs) * 1.5;
        tol = tol with { Atol = Math.Max(tol.Atol, 100 * 2.220446049250313e-16 * scale / delta) };
        var rng = new Random(unchecked((int)seed));
        var rows = new List<OnnxGradientCheckTensor>();
        for (var t = 0; t < xs.Count; t++)
        {
            var (name, x, isInit) = xs[t];
            var v = feeds[x].Values;
            var picks = v.Length <= samplesPerTensor ? Enumerable.Range(0, v.Length).ToArray()
                : Enumerable.Range(0, v.Length).OrderBy(_ => rng.Next()).Take(samplesPerTensor).Order().ToArray();
            double maxAbs = 0, maxRel = 0, worst = 0;
            foreach (var e in picks)
            {
                var original = v[e];
                var h = delta * Math.Max(1, Math.Abs(original));
                v[e] = original + h;
                var plus = Loss();
                v[e] = original - h;
                var minus = Loss();
                v[e] = original;
                var numeric = (plus - minus) / (2 * h);
                var a = analytic[t][e];
                var err = Math.Abs(a - numeric);
                if (double.IsNaN(err)) err = double.PositiveInfinity;
                maxAbs = Math.Max(maxAbs, err);
                maxRel = Math.Max(maxRel, err == 0 ? 0 : err / Math.Abs(numeric));
                worst = Math.Max(worst, tol.Ratio(a, numeric));
            }
            rows.Add(new OnnxGradientCheckTensor(name, x.Shape, isInit, picks.Length, maxAbs, maxRel, worst));
        }
        return new OnnxGradientCheckResult(rows, tol);
    }
}
