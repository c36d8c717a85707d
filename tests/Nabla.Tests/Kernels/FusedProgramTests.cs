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
}
