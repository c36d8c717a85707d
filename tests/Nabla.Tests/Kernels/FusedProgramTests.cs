using Nabla.Kernels;
using Nabla.Kernels.Cpu;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// <see cref="FusedProgram"/> and <see cref="IBackend.Fused"/> at the kernel level: input access classes,
/// bad programs and bad launches rejected with documented exceptions, and the reference backend refusing to fuse.
/// </summary>
public sealed class FusedProgramTests
{
    [TestCase(new[] { 4, 1 }, new[] { 3, 4 }, FusedAccess.Contiguous, 0)]
    [TestCase(new[] { 0, 0 }, new[] { 3, 4 }, FusedAccess.Scalar, 0)]
    [TestCase(new[] { 0, 1 }, new[] { 3, 4 }, FusedAccess.Periodic, 4)]
    [TestCase(new[] { 0, 4, 1 }, new[] { 2, 3, 4 }, FusedAccess.Periodic, 12)]
    [TestCase(new[] { 1, 0 }, new[] { 3, 4 }, FusedAccess.Strided, 0)]
    [TestCase(new[] { 0, 1, 0 }, new[] { 2, 3, 4 }, FusedAccess.Strided, 0)]
    [TestCase(new[] { 5, 0 }, new[] { 1, 4 }, FusedAccess.Scalar, 0)]
    public void InputsAreClassifiedFromTheirStrides(int[] strides, int[] shape, FusedAccess access, int period)
    {
        var input = new FusedInput(DType.Float32, strides, shape);
        Assert.That(input.Access, Is.EqualTo(access));
        Assert.That(input.Period, Is.EqualTo(period));
    }

    [Test]
    public void BadProgramsAreRejected()
    {
        var x = new FusedInput(DType.Float32, [1], [4]);
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentException>(() => new FusedProgram(DType.Int32, [4], [], [], [], 0), "integer compute dtype");
            Assert.Throws<ArgumentException>(() => new FusedProgram(DType.Float32, [4], [x], [new(FusedCode.Unary, A: 1)], [(1, DType.Float32)], 0), "reads its own result");
            Assert.Throws<ArgumentException>(() => new FusedProgram(DType.Float32, [4], [x], [new(FusedCode.Binary, A: 0, B: -1)], [(1, DType.Float32)], 0), "negative register");
            Assert.Throws<ArgumentException>(() => new FusedProgram(DType.Float32, [4], [x], [new(FusedCode.RandomUniform, A: 0)], [(1, DType.Float32)], 0), "counter out of range");
            Assert.Throws<ArgumentException>(() => new FusedProgram(DType.Float32, [4], [new FusedInput(DType.Int64, [1], [4])], [], [], 0), "int64 input");
            Assert.Throws<ArgumentException>(() => new FusedProgram(DType.Float32, [4], [x], [], [(3, DType.Float32)], 0), "output register undefined");
        });
    }

    [Test]
    public void BadLaunchesAreRejectedAndTheReferenceBackendDoesNotFuse()
    {
        using var cpu = new CpuBackend();
        var program = new FusedProgram(DType.Float32, [4], [new FusedInput(DType.Float32, [1], [4])],
            [new(FusedCode.Unary, Unary: UnaryOp.Neg, A: 0)], [(1, DType.Float32)], 0);
        var x = cpu.Memory.Allocate(DType.Float32, 4);
        var y = cpu.Memory.Allocate(DType.Float32, 4);
        var short_ = cpu.Memory.Allocate(DType.Float32, 3);
        cpu.Memory.Upload(new[] { 1f, -2f, 0f, float.NaN }, x);
        IBackend backend = cpu;
        Assert.That(backend.SupportsFusion, Is.True);
        backend.Fused(program, [x], [y], []);
        var result = new float[4];
        cpu.Memory.Download(y, result);
        Assert.That(result.Take(3), Is.EqualTo(new[] { -1f, 2f, -0f }));
        Assert.That(float.IsNaN(result[3]));
        Assert.Throws<ArgumentException>(() => backend.Fused(program, [], [y], []), "missing input");
        Assert.Throws<ArgumentException>(() => backend.Fused(program, [x], [short_], []), "output of the wrong length");

        using var reference = Device.Reference.CreateBackend(SessionOptions.Default);
        Assert.That(reference.SupportsFusion, Is.False);
        var rx = reference.Memory.Allocate(DType.Float32, 4);
        Assert.Throws<NotSupportedException>(() => reference.Fused(program, [rx], [rx], []));
    }

    /// <summary>
    /// The generated kernel (<see cref="CpuBackend.FusedCodegen"/>) of a program with periodic, scalar bool and contiguous
    /// inputs, a uniform draw that is also an output, a comparison written as bool, a select and a transcendental: it is
    /// compiled (where AVX-512 is) and equals the interpreter bit for bit, over sizes with partial vectors, one block with
    /// a tail, and both cores.
    /// </summary>
    [TestCase(10), TestCase(150), TestCase(4090), TestCase(70_000)]
    public void GeneratedKernelIsCompiledAndEqualsTheInterpreter(int n)
    {
        int[] shape = [n / 10, 10];
        var program = new FusedProgram(DType.Float32, shape,
            [new FusedInput(DType.Float32, [10, 1], shape), new FusedInput(DType.Float32, [0, 1], shape), new FusedInput(DType.Bool, [0, 0], shape)],
            [
                new(FusedCode.Binary, Binary: BinaryOp.Add, A: 0, B: 1),
                new(FusedCode.RandomUniform, A: 0, Key: 7, Lo: -1, Hi: 1),
                new(FusedCode.Binary, Binary: BinaryOp.Greater, A: 4, B: 3),
                new(FusedCode.Select, A: 2, B: 3, C: 5),
                new(FusedCode.Unary, Unary: UnaryOp.Exp, A: 6),
                new(FusedCode.Binary, Binary: BinaryOp.Maximum, A: 7, B: 0),
            ],
            [(8, DType.Float32), (5, DType.Bool), (4, DType.Float32), (0, DType.Float32)], 1);
        var x = Enumerable.Range(0, n).Select(i => i % 13 == 0 ? float.NaN : i % 17 == 0 ? -0f : (float)Math.Sin(i) * 3).ToArray();
        var row = Enumerable.Range(0, 10).Select(i => i * 0.25f - 1).ToArray();
        double[][] Run(CpuBackend cpu, float[] x)
        {
            var ins = new[] { cpu.Memory.Allocate(DType.Float32, n), cpu.Memory.Allocate(DType.Float32, 10), cpu.Memory.Allocate(DType.Bool, 1) };
            cpu.Memory.Upload(x, ins[0]);
            cpu.Memory.Upload(row, ins[1]);
            cpu.Memory.Upload(new[] { true }, ins[2]);
            var outs = new[] { DType.Float32, DType.Bool, DType.Float32, DType.Float32 }.Select(d => cpu.Memory.Allocate(d, n)).ToArray();
            ((IBackend)cpu).Fused(program, ins, outs, [3]);
            return outs.Select(cpu.Memory.ReadFloat64).ToArray();
        }
        using var interpreter = new CpuBackend(deterministic: true);
        using var generated = new CpuBackend(deterministic: true) { FusedCodegen = true };
        var expected = Run(interpreter, x);
        // The interpreter leaves other values in the thread's scratch blocks, so a kernel that read a block it had not written would fail.
        Run(interpreter, x.Select(v => v * 2 + 1).ToArray());
        var actual = Run(generated, x);
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) Assert.That(program.Kernel?.Value, Is.Not.Null, "compiled");
        for (var o = 0; o < expected.Length; o++)
            Assert.That(actual[o].Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(expected[o].Select(BitConverter.DoubleToInt64Bits)), $"output {o}");
        Assert.That(expected[0].Count(double.IsNaN), Is.GreaterThan(0), "NaN reaches the output");
    }
}
