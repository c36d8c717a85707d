using Nabla.Kernels.Cuda;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary><see cref="CachingDeviceAllocator"/> over a fake device: size classes, reuse, counters, misuse.</summary>
[TestFixture]
public class CachingDeviceAllocatorTests
{
    /// <summary>Hands out increasing fake addresses; can be given a capacity to simulate running out.</summary>
    private sealed class FakeMemory(ulong capacity = ulong.MaxValue) : IDeviceMemory
    {
        private ulong _next = 0x7f00_0000_0000;
        public Dictionary<ulong, ulong> Live { get; } = [];
        public List<ulong> Freed { get; } = [];
        public int Allocations { get; private set; }
        public ulong Used => Live.Values.Aggregate(0UL, (a, b) => a + b);

        public ulong Allocate(ulong bytes)
        {
            if (Used + bytes > capacity)
                throw new CudaException(CudaLibrary.Driver, "cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY");
            var address = _next;
            _next += bytes + 4096;
            Live.Add(address, bytes);
            Allocations++;
            return address;
        }

        public void Free(ulong address)
        {
            // A real cuMemFree of an unknown pointer fails too; the fake makes that a test failure.
            Assert.That(Live.Remove(address), Is.True, $"fake: free of unknown 0x{address:x}");
            Freed.Add(address);
        }
    }

    [TestCase(0UL, 512UL), TestCase(1UL, 512UL), TestCase(512UL, 512UL), TestCase(513UL, 1024UL), TestCase(1024UL, 1024UL)]
    [TestCase(1025UL, 2048UL), TestCase(3UL << 20, 4UL << 20), TestCase((1UL << 40) + 1, 1UL << 41), TestCase(1UL << 63, 1UL << 63)]
    public void SizeClassIsTheNextPowerOfTwoFrom512(ulong bytes, ulong size) =>
        Assert.That(CachingDeviceAllocator.SizeClass(bytes), Is.EqualTo(size));

    [Test]
    public void SizeBeyondTheLargestClassIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CachingDeviceAllocator.SizeClass((1UL << 63) + 1));

    [Test]
    public void FreedBlockIsReusedForAnyRequestOfItsClass()
    {
        var fake = new FakeMemory();
        using var pool = new CachingDeviceAllocator(fake);
        var a = pool.Allocate(1000);
        Assert.That(fake.Live[a], Is.EqualTo(1024UL), "the native block has the class size");
        pool.Free(a);
        Assert.That(pool.Allocate(700), Is.EqualTo(a));
        Assert.That((fake.Allocations, pool.Stats.Reuses, pool.Stats.NativeAllocations), Is.EqualTo((1, 1L, 1L)));
    }

    [Test]
    public void OtherClassesAreNotServedFromTheCache()
    {
        var fake = new FakeMemory();
        using var pool = new CachingDeviceAllocator(fake);
        var a = pool.Allocate(1024);
        pool.Free(a);
        var b = pool.Allocate(2048);
        var c = pool.Allocate(100);
        Assert.That(new[] { b, c }, Has.None.EqualTo(a));
        Assert.That(fake.Allocations, Is.EqualTo(3));
    }

    [Test]
    public void StatisticsTrackUseCacheAndPeak()
    {
        var fake = new FakeMemory();
        using var pool = new CachingDeviceAllocator(fake);
        var a = pool.Allocate(600);    // 1024
        var b = pool.Allocate(5000);   // 8192
        Assert.That(pool.Stats, Is.EqualTo(new DeviceAllocatorStats(9216, 9216, 0, 2, 0)));
        pool.Free(b);
        Assert.That(pool.Stats, Is.EqualTo(new DeviceAllocatorStats(1024, 9216, 8192, 2, 0)));
        var c = pool.Allocate(4097);   // reuses b's 8192 block
        Assert.That(c, Is.EqualTo(b));
        pool.Free(a);
        pool.Free(c);
        Assert.That(pool.Stats, Is.EqualTo(new DeviceAllocatorStats(0, 9216, 9216, 2, 1)));
    }

    [Test]
    public void ReleaseCachedReturnsOnlyCachedBlocks()
    {
        var fake = new FakeMemory();
        using var pool = new CachingDeviceAllocator(fake);
        var live = pool.Allocate(512);
        var x = pool.Allocate(2000);
        var y = pool.Allocate(2000);
        pool.Free(x);
        pool.Free(y);
        Assert.That(pool.ReleaseCached(), Is.EqualTo(4096UL));
        Assert.That(fake.Freed, Is.EquivalentTo(new[] { x, y }));
        Assert.That(fake.Live.Keys, Is.EqualTo(new[] { live }));
        Assert.That((pool.Stats.BytesCached, pool.Stats.BytesInUse), Is.EqualTo((0UL, 512UL)));
        Assert.That(pool.ReleaseCached(), Is.EqualTo(0UL));
        // Released blocks are gone from the cache: the next request goes to the device.
        pool.Allocate(2000);
        Assert.That(fake.Allocations, Is.EqualTo(4));
    }

    [Test]
    public void DoubleFreeAndForeignAddressesAreRejected()
    {
        using var pool = new CachingDeviceAllocator(new FakeMemory());
        var a = pool.Allocate(64);
        pool.Free(a);
        var twice = Assert.Throws<InvalidOperationException>(() => pool.Free(a))!;
        Assert.That(twice.Message, Is.EqualTo($"Double free of device block 0x{a:x}."));
        var foreign = Assert.Throws<InvalidOperationException>(() => pool.Free(0x1234))!;
        Assert.That(foreign.Message, Is.EqualTo("Device address 0x1234 was not allocated by this allocator."));
        Assert.That(pool.Stats.BytesCached, Is.EqualTo(512UL), "a rejected free changes nothing");
    }

    [Test]
    public void OutOfMemoryReleasesTheCacheAndRetriesOnce()
    {
        var fake = new FakeMemory(capacity: 4096);
        using var pool = new CachingDeviceAllocator(fake);
        pool.Free(pool.Allocate(2048));
        pool.Free(pool.Allocate(1024));
        // 4096 does not fit beside the 3 KiB cached; dropping the cache makes room.
        var big = pool.Allocate(4096);
        Assert.That(fake.Live.Keys, Is.EqualTo(new[] { big }));
        Assert.That(pool.Stats.BytesCached, Is.EqualTo(0UL));
    }

    [Test]
    public void OutOfMemoryWithNothingCachedPropagates()
    {
        using var pool = new CachingDeviceAllocator(new FakeMemory(capacity: 1024));
        pool.Allocate(1024);
        var e = Assert.Throws<CudaException>(() => pool.Allocate(512))!;
        Assert.That(e.Message, Is.EqualTo("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)"));
        Assert.That(pool.Stats.BytesInUse, Is.EqualTo(1024UL));
    }

    [Test]
    public void DisposeFreesLiveAndCachedBlocks()
    {
        var fake = new FakeMemory();
        var pool = new CachingDeviceAllocator(fake);
        pool.Allocate(100);
        pool.Free(pool.Allocate(3000));
        pool.Dispose();
        Assert.That(fake.Live, Is.Empty);
        Assert.That(fake.Freed, Has.Count.EqualTo(2));
        Assert.Throws<ObjectDisposedException>(() => pool.Allocate(1));
        Assert.DoesNotThrow(pool.Dispose);
    }
}
