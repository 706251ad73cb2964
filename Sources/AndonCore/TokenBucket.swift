/// Per-source token buckets: each source may send `rate` messages a second on average and `burst` at once. Pure and
/// clock-free: the caller passes the time (monotonic nanoseconds). At most `capacity` sources are tracked; when a new
/// one would exceed it, the sources whose buckets are full again (quiet for `burst / rate` seconds) are forgotten,
/// and if none are, the new source shares one overflow bucket, so a flood from ever-changing (spoofed) addresses
/// costs bounded memory and is still limited.
public struct TokenBuckets<Source: Hashable>: Sendable where Source: Sendable {
    public let rate: Double
    public let burst: Double
    public let capacity: Int
    private var buckets: [Source: Bucket] = [:]
    private var overflow = Bucket(tokens: 0, at: 0)

    struct Bucket: Sendable {
        var tokens: Double
        var at: UInt64
    }

    public init(rate: Double, burst: Double, capacity: Int = 65_536) {
        self.rate = rate
        self.burst = max(1, burst)
        self.capacity = capacity
        overflow.tokens = self.burst
    }

    public var count: Int { buckets.count }

    /// Takes one token for `source` at `now`; false when its bucket is empty (the message is over its budget).
    public mutating func take(_ source: Source, now: UInt64) -> Bool {
        if buckets[source] == nil, buckets.count >= capacity {
            buckets = buckets.filter { refilled($0.value, now: now).tokens < burst }
            if buckets.count >= capacity { return Self.take(&overflow, now: now, rate: rate, burst: burst) }
        }
        return Self.take(&buckets[source, default: Bucket(tokens: burst, at: now)], now: now, rate: rate, burst: burst)
    }

    private func refilled(_ bucket: Bucket, now: UInt64) -> Bucket {
        var copy = bucket
        _ = Self.take(&copy, now: now, rate: rate, burst: burst, spend: false)
        return copy
    }

    private static func take(
        _ bucket: inout Bucket,
        now: UInt64,
        rate: Double,
        burst: Double,
        spend: Bool = true
    ) -> Bool {
        if now > bucket.at {
            bucket.tokens = min(burst, bucket.tokens + Double(now - bucket.at) / 1e9 * rate)
            bucket.at = now
        }
        guard bucket.tokens >= 1 else { return false }
        if spend { bucket.tokens -= 1 }
        return true
    }
}
