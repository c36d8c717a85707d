using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>The host-side collapsing of shapes and strides that the CUDA element-wise kernels launch with.</summary>
public class StridedLayoutTests
{
    [Test]
    public void ContiguousOperands_CollapseToRank1()
    {
        var l = StridedLayout.Collapse([2, 3, 4], [12, 4, 1], [12, 4, 1], operands: 2);
        Assert.That((l.Rank, l.Count, l.Packed), Is.EqualTo((1, 24L, new[] { 24, 1, 1 })));
    }

    [Test]
    public void BiasAdd_KeepsTheBroadcastDimension()
    {
        var l = StridedLayout.Collapse([4, 5, 3], [15, 3, 1], [0, 0, 1], operands: 2);
        Assert.That((l.Rank, l.Packed), Is.EqualTo((2, new[] { 20, 3, 3, 1, 0, 1 })));
    }

    [Test]
    public void SizeOneDimensions_AreDropped_WhateverTheirStrides()
    {
        var l = StridedLayout.Collapse([1, 3, 1, 2], [99, 2, 7, 1], [5, 0, -3, 1], operands: 2);
        Assert.That((l.Rank, l.Packed), Is.EqualTo((2, new[] { 3, 2, 2, 1, 0, 1 })));
    }

    [Test]
    public void ScalarAndAllOnes_BecomeOneElementOfRank1()
    {
        Assert.That(StridedLayout.Collapse([], [], [], [], operands: 3).Packed, Is.EqualTo(new[] { 1, 0, 0, 0 }));
        Assert.That(StridedLayout.Collapse([1, 1], [4, 9]).Count, Is.EqualTo(1));
    }

    [Test]
    public void Neighbours_MergeAcrossADroppedSizeOneDimension()
    {
        var l = StridedLayout.Collapse([2, 1, 3], [3, 3, 1], [3, 0, 1], operands: 2);
        Assert.That((l.Rank, l.Packed), Is.EqualTo((1, new[] { 6, 1, 1 })));
    }

    [Test]
    public void Transpose_DoesNotCollapse()
    {
        var l = StridedLayout.Collapse([4, 3], [1, 4], [3, 1], operands: 2);
        Assert.That((l.Rank, l.Packed), Is.EqualTo((2, new[] { 4, 3, 1, 4, 3, 1 })));
    }

    [Test]
    public void Empty_HasZeroElements() => Assert.That(StridedLayout.Collapse([3, 0, 2], [0, 2, 1]).Count, Is.Zero);

    [Test]
    public void Rank9AfterCollapsing_Throws_ButRank9ThatCollapses_DoesNot()
    {
        var shape = Enumerable.Repeat(2, 9).ToArray();
        int[] reversed = [1, 2, 4, 8, 16, 32, 64, 128, 256];
        Assert.Throws<ArgumentException>(() => StridedLayout.Collapse(shape, reversed));
        Assert.That(StridedLayout.Collapse(shape, [256, 128, 64, 32, 16, 8, 4, 2, 1]).Rank, Is.EqualTo(1));
    }

    [Test]
    public void StridesOfTheWrongLength_Throw()
    {
        Assert.Throws<ArgumentException>(() => StridedLayout.Collapse([2, 3], [3, 1], [1], operands: 2));
        Assert.Throws<ArgumentException>(() => StridedLayout.Collapse([int.MaxValue, 2], [2, 1]));
    }
}
