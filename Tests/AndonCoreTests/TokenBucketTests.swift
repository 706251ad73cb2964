import AndonCore
import Testing

/// Token buckets under a manual clock: exact counts, no sleeps.
@Suite struct TokenBucketTests {
    static let second: UInt64 = 1_000_000_000

    @Test func aSourceGetsItsBurstThenItsRate() {
        var buckets = TokenBuckets<String>(rate: 10, burst: 5)
        let burst = (0..<20).filter { _ in buckets.take("a", now: 0) }.count
        #expect(burst == 5, "the burst at once")
        let afterHalf = buckets.take("a", now: Self.second / 20)
        #expect(!afterHalf, "half a token after 50 ms")
        let afterOne = buckets.take("a", now: Self.second / 10)
        #expect(afterOne, "one after 100 ms")
        // Over 10 s at 1,000 tries a second: 10/s get through.
        var through = 0
        for step in 1...10_000 where buckets.take("a", now: Self.second / 10 + UInt64(step) * Self.second / 1000) {
            through += 1
        }
        #expect(through == 100)
        let other = buckets.take("b", now: Self.second)
        #expect(other, "another source is not touched")
    }

    @Test func aBucketRefillsToItsBurstOnly() {
        var buckets = TokenBuckets<Int>(rate: 100, burst: 3)
        let first = (0..<4).map { _ in buckets.take(1, now: 0) }
        #expect(first == [true, true, true, false])
        let after = (0..<10).filter { _ in buckets.take(1, now: 3600 * Self.second) }.count
        #expect(after == 3, "an hour of quiet refills to the burst, not more")
    }

    @Test func beyondTheCapacityQuietSourcesAreForgottenAndTheRestShareOneBucket() {
        var buckets = TokenBuckets<Int>(rate: 1, burst: 2, capacity: 4)
        let tracked = (0..<4).map { buckets.take($0, now: 0) }
        #expect(tracked == [true, true, true, true])
        #expect(buckets.count == 4)
        // None is full again yet: new sources share the overflow bucket (burst 2).
        let overflow = [100, 101, 102].map { buckets.take($0, now: 0) }
        #expect(overflow == [true, true, false])
        #expect(buckets.count == 4, "bounded")
        // 2 s later the four are full again and forgotten; the new one gets its own bucket.
        let later = buckets.take(103, now: 2 * Self.second)
        #expect(later)
        #expect(buckets.count == 1)
    }
}
