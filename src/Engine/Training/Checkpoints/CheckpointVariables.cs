namespace Nabla;

public static partial class Checkpoint
{
    /// <summary>
    /// Saves the current values of <paramref name="variables"/> in <paramref name="session"/>, each under
    /// <paramref name="naming"/>(variable) (default: <see cref="Variable.Name"/>), as <see cref="Save"/> does.
    /// </summary>
    /// <exception cref="InvalidArgumentException">A variable is not initialized in the session.</exception>
    /// <exception cref="ArgumentException">Two variables get the same name, or a variable belongs to another graph.</exception>
    public static void SaveVariables(Session session, IEnumerable<Variable> variables, string path, Func<Variable, string>? naming = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, v) in Named(session, variables, naming)) tensors[name] = session.ReadVariable(v);
        Save(path, tensors, metadata);
    }

    /// <summary>
    /// Sets <paramref name="variables"/> in <paramref name="session"/> from the tensors of the same names
    /// (<paramref name="naming"/>, default <see cref="Variable.Name"/>) in a file written by
    /// <see cref="SaveVariables"/> or any safetensors writer; uninitialised variables become initialised.
    /// All or nothing: the whole file is read and validated, and every variable checked to have a tensor of
    /// its dtype and shape, before any variable is assigned, so on any error the session is unchanged.
    /// </summary>
    /// <param name="session">The session whose variables are set.</param>
    /// <param name="variables">The variables to set.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="naming">The tensor name of each variable (default <see cref="Variable.Name"/>).</param>
    /// <param name="strict">Also fail when the file holds a tensor that no variable claims.</param>
    /// <exception cref="CheckpointException">The file is invalid, or lacks a variable's tensor, or has it with another dtype or shape (all such variables are named), or (when <paramref name="strict"/>) holds an unclaimed tensor.</exception>
    /// <exception cref="ArgumentException">Two variables get the same name, or a variable belongs to another graph.</exception>
    public static void LoadVariables(Session session, IEnumerable<Variable> variables, string path, Func<Variable, string>? naming = null, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        var named = Named(session, variables, naming);
        var tensors = Load(path);
        var problems = new List<string>();
        foreach (var (name, v) in named)
        {
            if (!tensors.TryGetValue(name, out var t))
                problems.Add($"no tensor '{name}' for variable '{v.Name}'");
            else if (t.DType != v.DType || !t.Shape.Equals(v.Shape))
                problems.Add($"tensor '{name}' is {t.DType.Name()} of shape {t.Shape}, but variable '{v.Name}' is {v.DType.Name()} of shape {v.Shape}");
        }
        if (strict)
        {
            var claimed = named.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            problems.AddRange(tensors.Keys.Where(k => !claimed.Contains(k)).Select(k => $"tensor '{k}' matches no variable"));
        }
        if (problems.Count > 0) throw SafetensorsHeaderParser.Fail(path, string.Join("; ", problems));
        foreach (var (name, v) in named) session.AssignVariable(v, tensors[name]);
    }

    /// <summary>Each variable with its tensor name, checked to be in the session's graph and uniquely named.</summary>
    private static List<(string Name, Variable Variable)> Named(Session session, IEnumerable<Variable> variables, Func<Variable, string>? naming)
    {
        ArgumentNullException.ThrowIfNull(variables);
        naming ??= v => v.Name;
        var result = new List<(string, Variable)>();
        var seen = new Dictionary<string, Variable>(StringComparer.Ordinal);
        foreach (var v in variables)
        {
            ArgumentNullException.ThrowIfNull(v, nameof(variables));
            if (!ReferenceEquals(v.Graph, session.Graph)) throw new ArgumentException($"variable '{v.Name}' belongs to another graph than the session's", nameof(variables));
            var name = naming(v) ?? throw new ArgumentException($"naming returned null for variable '{v.Name}'", nameof(naming));
            if (!seen.TryAdd(name, v)) throw new ArgumentException($"variables '{seen[name].Name}' and '{v.Name}' both map to tensor name '{name}'", nameof(variables));
            result.Add((name, v));
        }
        return result;
    }
}
