using NUnit.Framework;

namespace Nabla.Tests.Engine;

/// <summary>Session.ReadVariable/AssignVariable/IsInitialized and Checkpoint.SaveVariables/LoadVariables.</summary>
[TestFixture(nameof(Device.Cpu))]
[TestFixture(nameof(Device.Reference))]
public class CheckpointVariablesTests(string deviceName)
{
    private readonly Device _device = deviceName == nameof(Device.Cpu) ? Device.Cpu : Device.Reference;
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("nabla-ckptvar-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>A small model: a float kernel, a float64 bias, an int step counter and a bool mask.</summary>
    internal static (Graph Graph, Variable[] Vars) Model(ulong seed)
    {
        var g = new Graph();
        Variable[] vars =
        [
            g.Variable(new Shape(3, 2), DType.Float32, Initializer.RandomUniform(-1, 1, seed), "dense/kernel"),
            g.Variable(new Shape(2), DType.Float64, Initializer.Fill(0.5 * seed), "dense/bias"),
            g.Variable(Tensor.Scalar((long)seed), "step"),
            g.Variable(Tensor.FromArray([seed % 2 == 0, true, false], 3), "mask"),
        ];
        return (g, vars);
    }

    private static Tensor[] Values(Session s, Variable[] vars) => vars.Select(s.ReadVariable).ToArray();

    private static void AssertSame(Tensor[] expected, Tensor[] actual)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.That(actual[i].Shape, Is.EqualTo(expected[i].Shape));
            Assert.That(actual[i].ToDoubleArray(), Is.EqualTo(expected[i].ToDoubleArray()));
        }
    }

    [Test]
    public void ReadAndAssignVariableMatchGraphRuns()
    {
        var g = new Graph();
        var v = g.Variable(Tensor.FromArray([1f, 2f, 3f], 3), "v");
        var doubled = g.Mul(v, g.Scalar(2));
        using var s = new Session(g, _device);
        Assert.That(s.IsInitialized(v), Is.False);
        var e = Assert.Throws<InvalidArgumentException>(() => s.ReadVariable(v))!;
        Assert.That(e.Message, Does.Contain("'v'").And.Contain("not initialized"));

        // Assigning initialises without running the initializer; the graph sees the value.
        s.AssignVariable(v, Tensor.FromArray([4f, 5f, 6f], 3));
        Assert.That(s.IsInitialized(v), Is.True);
        Assert.That(s.Run(doubled).ToArray<float>(), Is.EqualTo(new[] { 8f, 10f, 12f }));

        // Graph-side updates are visible to ReadVariable.
        s.Run(v.AssignAdd(g.Constant(Tensor.FromArray([1f, 1f, 1f], 3))).Op);
        Assert.That(s.ReadVariable(v).ToArray<float>(), Is.EqualTo(new[] { 5f, 6f, 7f }));
        s.Run(v.Initializer);
        Assert.That(s.ReadVariable(v).ToArray<float>(), Is.EqualTo(new[] { 1f, 2f, 3f }));
    }

    [Test]
    public void AssignVariableChecksDTypeShapeAndGraph()
    {
        var g = new Graph();
        var v = g.Variable(Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2), "w");
        using var s = new Session(g, _device);
        s.Run(v.Initializer);

        var shape = Assert.Throws<InvalidArgumentException>(() => s.AssignVariable(v, Tensor.FromArray([1f, 2f, 3f, 4f], 4)))!;
        Assert.That(shape.Message, Does.Contain("'w'").And.Contain("[2,2]").And.Contain("[4]"));
        var dtype = Assert.Throws<InvalidArgumentException>(() => s.AssignVariable(v, Tensor.FromArray([1.0, 2, 3, 4], 2, 2)))!;
        Assert.That(dtype.Message, Does.Contain("'w'").And.Contain("float32").And.Contain("float64"));
        Assert.That(s.ReadVariable(v).ToArray<float>(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }), "failed assignments change nothing");

        var other = new Graph().Variable(Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2), "w");
        Assert.Throws<ArgumentException>(() => s.AssignVariable(other, Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2)));
        Assert.Throws<ArgumentException>(() => s.ReadVariable(other));
        Assert.Throws<ArgumentException>(() => s.IsInitialized(other));
        Assert.Throws<ArgumentNullException>(() => s.AssignVariable(v, null!));

        s.Dispose();
        Assert.Throws<ObjectDisposedException>(() => s.ReadVariable(v));
    }

    [Test]
    public void SaveVariablesThenLoadIntoAFreshSessionOfAFreshGraph()
    {
        var (g1, v1) = Model(seed: 1);
        using var s1 = new Session(g1, _device);
        s1.Run(g1.GlobalVariablesInitializer());
        var path = PathOf("model.safetensors");
        Checkpoint.SaveVariables(s1, v1, path, metadata: new Dictionary<string, string> { ["epoch"] = "1" });
        Assert.That(Checkpoint.Load(path).Keys, Is.EquivalentTo(new[] { "dense/kernel", "dense/bias", "step", "mask" }));

        var (g2, v2) = Model(seed: 2);
        using var s2 = new Session(g2, _device);
        Checkpoint.LoadVariables(s2, v2, path);
        Assert.That(v2.All(s2.IsInitialized), Is.True, "loading initialises");
        AssertSame(Values(s1, v1), Values(s2, v2));
        Assert.That(s2.Run(g2.ReduceSum(v2[0], [0, 1])).ToScalar<float>(), Is.EqualTo(s1.ReadVariable(v1[0]).ToArray<float>().Sum()).Within(1e-5));
    }

    [Test]
    public void CustomNamingAndStrictMode()
    {
        var (g, v) = Model(seed: 3);
        using var s = new Session(g, _device);
        s.Run(g.GlobalVariablesInitializer());
        var path = PathOf("named.safetensors");
        Checkpoint.SaveVariables(s, v, path, naming: x => "model." + x.Name.Replace('/', '.'));
        Assert.That(Checkpoint.Load(path).Keys, Does.Contain("model.dense.kernel"));

        var (g2, v2) = Model(seed: 4);
        using var s2 = new Session(g2, _device);
        // Loading a subset is fine by default; strict mode names the unclaimed tensors.
        Checkpoint.LoadVariables(s2, v2[..2], path, x => "model." + x.Name.Replace('/', '.'));
        AssertSame(Values(s, v[..2]), Values(s2, v2[..2]));
        Assert.That(s2.IsInitialized(v2[2]), Is.False);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadVariables(s2, v2[..2], path, x => "model." + x.Name.Replace('/', '.'), strict: true))!;
        Assert.That(e.Message, Does.Contain("'model.step' matches no variable").And.Contain("'model.mask' matches no variable"));

        Assert.Throws<ArgumentException>(() => Checkpoint.SaveVariables(s, v, PathOf("dup.safetensors"), naming: _ => "same"));
        Assert.That(File.Exists(PathOf("dup.safetensors")), Is.False);
    }

    /// <summary>Runs a failing load against one initialised and one never-initialised session and checks both are untouched.</summary>
    private void AssertLoadFailsAndChangesNothing(string path, string expected, Func<Variable, string>? naming = null)
    {
        var (g, v) = Model(seed: 5);
        using var initialised = new Session(g, _device);
        initialised.Run(g.GlobalVariablesInitializer());
        var before = Values(initialised, v);
        using var fresh = new Session(g, _device);

        foreach (var s in new[] { initialised, fresh })
        {
            var e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadVariables(s, v, path, naming))!;
            Assert.That(e.Message, Does.Contain(expected));
        }
        AssertSame(before, Values(initialised, v));
        Assert.That(v.Any(fresh.IsInitialized), Is.False);
    }

    [Test]
    public void LoadVariablesWithAMissingTensorChangesNothing()
    {
        var (g, v) = Model(seed: 6);
        using var s = new Session(g, _device);
        s.Run(g.GlobalVariablesInitializer());
        var path = PathOf("partial.safetensors");
        // 'mask' is the last variable: everything before it would be assigned by a non-atomic loader.
        Checkpoint.SaveVariables(s, v[..3], path);
        AssertLoadFailsAndChangesNothing(path, "no tensor 'mask' for variable 'mask'");
    }

    [Test]
    public void LoadVariablesWithAWrongShapeOrDTypeChangesNothing()
    {
        var path = PathOf("wrong.safetensors");
        var (g, v) = Model(seed: 7);
        using (var s = new Session(g, _device))
        {
            s.Run(g.GlobalVariablesInitializer());
            var tensors = v.ToDictionary(x => x.Name, s.ReadVariable);
            tensors["mask"] = Tensor.FromArray([true, false], 2);
            tensors["step"] = Tensor.Scalar(3);
            Checkpoint.Save(path, tensors);
        }
        var (g2, v2) = Model(seed: 8);
        using var s2 = new Session(g2, _device);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadVariables(s2, v2, path))!;
        Assert.That(e.Message, Does.Contain("tensor 'step' is int32 of shape []").And.Contain("variable 'step' is int64"));
        AssertLoadFailsAndChangesNothing(path, "tensor 'mask' is bool of shape [2], but variable 'mask' is bool of shape [3]");
    }

    [Test]
    public void LoadVariablesFromACorruptFileChangesNothing()
    {
        var (g, v) = Model(seed: 9);
        using var s = new Session(g, _device);
        s.Run(g.GlobalVariablesInitializer());
        var path = PathOf("corrupt.safetensors");
        Checkpoint.SaveVariables(s, v, path);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 1;
        File.WriteAllBytes(path, bytes);
        AssertLoadFailsAndChangesNothing(path, "checksum");
    }

    [Test]
    public void SaveVariablesRejectsUninitialisedVariablesWithoutWriting()
    {
        var (g, v) = Model(seed: 10);
        using var s = new Session(g, _device);
        s.Run(v[0].Initializer);
        var path = PathOf("never.safetensors");
        Assert.Throws<InvalidArgumentException>(() => Checkpoint.SaveVariables(s, v, path));
        Assert.That(Directory.GetFileSystemEntries(_dir), Is.Empty);
    }
}
